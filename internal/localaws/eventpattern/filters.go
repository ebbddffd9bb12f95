package eventpattern

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// matcher is a compiled filter: whether one present value (an element of
// an array field) matches. exists is the one filter that also matches an
// absent field.
type matcher interface{ match(v any) bool }

// compileFilter reads {op: arg} as d reads it (the "Comparison operators
// for use in event patterns" table; Lambda's "Filter rule syntax").
func compileFilter(d Dialect, op string, arg any) (matcher, error) {
	switch op {
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("%w: exists takes true or false", ErrInvalid)
		}
		return exists(b), nil
	case "prefix", "suffix":
		return compileAffix(d, op, arg)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%w: equals-ignore-case takes a string", ErrInvalid)
		}
		return anyOf{fold: []string{s}}, nil
	case "anything-but":
		return compileAnythingBut(d, arg)
	case "numeric":
		return compileNumeric(arg)
	case "cidr", "wildcard":
		if d == Lambda {
			return nil, fmt.Errorf("%w: %q is not in Lambda's filter rule syntax", ErrNotEmulated, op)
		}
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s takes a string", ErrInvalid, op)
		}
		if op == "cidr" {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%w: cidr %q: %w", ErrInvalid, s, err)
			}
			return cidr{p.Masked()}, nil
		}
		if err := checkWildcard(s); err != nil {
			return nil, err
		}
		return anyOf{wildcards: []string{s}}, nil
	}
	return nil, fmt.Errorf("%w: unrecognized match type %s", ErrInvalid, op)
}

// compileAffix reads prefix or suffix: a string, or (EventBridge only)
// {"equals-ignore-case": string}.
func compileAffix(d Dialect, op string, arg any) (matcher, error) {
	fold := false
	if obj, ok := arg.(map[string]any); ok {
		inner, ok := obj["equals-ignore-case"]
		if len(obj) != 1 || !ok {
			return nil, fmt.Errorf("%w: %s takes a string or {\"equals-ignore-case\": string}", ErrInvalid, op)
		}
		if d == Lambda {
			return nil, fmt.Errorf("%w: %s with equals-ignore-case is not in Lambda's filter rule syntax", ErrNotEmulated, op)
		}
		arg, fold = inner, true
	}
	s, ok := arg.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s takes a string", ErrInvalid, op)
	}
	return affix{text: s, suffix: op == "suffix", fold: fold}, nil
}

// compileAnythingBut reads anything-but: a string, a number, a list of
// strings or of numbers ("lists that contain only strings, or only
// numbers"), or (EventBridge only) {"prefix"|"suffix": string},
// {"equals-ignore-case"|"wildcard": string or list of strings}.
func compileAnythingBut(d Dialect, arg any) (matcher, error) {
	switch a := arg.(type) {
	case string, json.Number:
		return not{anyOf{values: []any{a}}}, nil
	case []any:
		if len(a) == 0 || !sameKind(a) {
			return nil, fmt.Errorf("%w: anything-but takes a list of only strings or only numbers", ErrInvalid)
		}
		return not{anyOf{values: a}}, nil
	case map[string]any:
		if d == Lambda {
			return nil, fmt.Errorf("%w: anything-but of an operator is not in Lambda's filter rule syntax", ErrNotEmulated)
		}
		if len(a) != 1 {
			return nil, fmt.Errorf("%w: anything-but holds one operator", ErrInvalid)
		}
		for op, inner := range a {
			switch op {
			case "prefix", "suffix":
				s, ok := inner.(string)
				if !ok {
					return nil, fmt.Errorf("%w: anything-but %s takes a string", ErrInvalid, op)
				}
				return not{affix{text: s, suffix: op == "suffix"}}, nil
			case "equals-ignore-case", "wildcard":
				list, err := stringsOf(inner)
				if err != nil {
					return nil, fmt.Errorf("%w: anything-but %s takes a string or a list of strings", ErrInvalid, op)
				}
				if op == "wildcard" {
					for _, w := range list {
						if err := checkWildcard(w); err != nil {
							return nil, err
						}
					}
					return not{anyOf{wildcards: list}}, nil
				}
				return not{anyOf{fold: list}}, nil
			}
			return nil, fmt.Errorf("%w: anything-but does not take %s", ErrInvalid, op)
		}
	}
	return nil, fmt.Errorf("%w: anything-but takes a string, a number, a list or an operator", ErrInvalid)
}

// numericLimit is the documented range: "limited to values between -5.0e9
// and +5.0e9 inclusive".
const numericLimit = 5.0e9

// compileNumeric reads ["=", n] or up to one lower (">", ">=") and one
// upper ("<", "<=") bound: [">", 0, "<=", 5].
func compileNumeric(arg any) (matcher, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, fmt.Errorf("%w: numeric takes [op, number] or a lower and an upper bound", ErrInvalid)
	}
	var r numericRange
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		n, ok := list[i+1].(json.Number)
		if !ok {
			return nil, fmt.Errorf("%w: numeric: %v is not a number", ErrInvalid, list[i+1])
		}
		v, err := n.Float64()
		if err != nil || v < -numericLimit || v > numericLimit {
			return nil, fmt.Errorf("%w: numeric: %s is outside -5.0e9 to +5.0e9", ErrInvalid, n)
		}
		switch {
		case op == "=" && len(list) == 2:
			r.eq = &v
		case (op == ">" || op == ">=") && r.lo == nil:
			r.lo, r.loIncl = &v, op == ">="
		case (op == "<" || op == "<=") && r.hi == nil:
			r.hi, r.hiIncl = &v, op == "<="
		default:
			return nil, fmt.Errorf("%w: numeric: operator %v here", ErrInvalid, list[i])
		}
	}
	return r, nil
}

// checkWildcard applies the documented rules: "consecutive wildcard
// characters are not supported", and a backslash escapes only * and \
// ("Using the backslash to escape other characters is not supported").
func checkWildcard(w string) error {
	prevStar := false
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '*':
			if prevStar {
				return fmt.Errorf("%w: wildcard %q: consecutive wildcard characters", ErrInvalid, w)
			}
			prevStar = true
			continue
		case '\\':
			if i+1 >= len(w) || (w[i+1] != '*' && w[i+1] != '\\') {
				return fmt.Errorf("%w: wildcard %q: a backslash escapes only * and \\", ErrInvalid, w)
			}
			i++
		}
		prevStar = false
	}
	return nil
}

func sameKind(list []any) bool {
	_, str := list[0].(string)
	for _, v := range list {
		_, s := v.(string)
		_, n := v.(json.Number)
		if (str && !s) || (!str && !n) {
			return false
		}
	}
	return true
}

func stringsOf(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("not a string or a list")
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("not a string")
		}
		out[i] = s
	}
	return out, nil
}

type exists bool

func (exists) match(any) bool { return true } // presence is decided by matchAny

// anyOf matches a value equal to one of values, a string equal to one of
// fold ignoring case, or one matching one of wildcards.
type anyOf struct {
	values    []any
	fold      []string
	wildcards []string
}

func (a anyOf) match(v any) bool {
	for _, x := range a.values {
		if equal(x, v) {
			return true
		}
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	for _, f := range a.fold {
		if strings.EqualFold(f, s) {
			return true
		}
	}
	for _, w := range a.wildcards {
		if wildcardMatch(w, s) {
			return true
		}
	}
	return false
}

// not is anything-but: a present value that does not match.
type not struct{ m matcher }

func (n not) match(v any) bool {
	if _, isString := v.(string); !isString {
		if _, isAffix := n.m.(affix); isAffix {
			return false // anything-but a prefix or suffix speaks of strings
		}
	}
	return !n.m.match(v)
}

type affix struct {
	text         string
	suffix, fold bool
}

func (a affix) match(v any) bool {
	s, ok := v.(string)
	if !ok || len(s) < len(a.text) {
		return false
	}
	part := s[:len(a.text)]
	if a.suffix {
		part = s[len(s)-len(a.text):]
	}
	if a.fold {
		return strings.EqualFold(part, a.text)
	}
	return part == a.text
}

type numericRange struct {
	eq, lo, hi     *float64
	loIncl, hiIncl bool
}

// match applies the range to a JSON number ("Numeric matching works with
// values that are JSON numbers").
func (r numericRange) match(v any) bool {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return false
		}
	case float64:
		f = n
	default:
		return false
	}
	switch {
	case r.eq != nil:
		return f == *r.eq
	case r.lo != nil && (f < *r.lo || f == *r.lo && !r.loIncl):
		return false
	case r.hi != nil && (f > *r.hi || f == *r.hi && !r.hiIncl):
		return false
	}
	return true
}

// cidr matches an IPv4 or IPv6 address string inside the prefix ("IP
// address matching").
type cidr struct{ prefix netip.Prefix }

func (c cidr) match(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && c.prefix.Contains(addr.Unmap())
}

// equal is exact matching: a number compares by its text, as written
// (Lambda: "300, 300.0, and 3.0e2 are not considered equal"); an event
// decoded without Decode holds float64s, compared by value.
func equal(want, got any) bool {
	if w, ok := want.(json.Number); ok {
		switch g := got.(type) {
		case json.Number:
			return w == g
		case float64:
			f, err := w.Float64()
			return err == nil && f == g
		}
		return false
	}
	return want == got
}

// wildcardMatch matches s against a wildcard pattern: * any run of
// characters, \* and \\ the literal characters.
func wildcardMatch(pattern, s string) bool {
	var parts []string // literal runs between stars
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
