package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// A filter pattern as CloudWatch Logs documents it ("Filter pattern syntax
// for metric filters, subscription filters, and filter log events"):
//   - empty: every log event matches;
//   - terms: each unquoted word or "quoted phrase" must appear (case
//     sensitive); ?term makes the terms alternatives (any may appear);
//     -term excludes events that contain it;
//   - JSON: { $.path op value } on JSON log events, op one of = != > < >= <=,
//     string values with * wildcards, IS TRUE, IS FALSE, IS NULL, NOT EXISTS,
//     joined by && and || with parentheses.
//
// Space-delimited patterns ([ip, user, ...]) are not emulated: they are refused.
type pattern interface {
	match(event string) bool
}

var errSpaceDelimited = errors.New("space-delimited filter patterns ([field, ...]) are not emulated by the local AWS")

// parsePattern compiles a filter pattern.
func parsePattern(s string) (pattern, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return matchAll{}, nil
	case strings.HasPrefix(s, "["):
		return nil, errSpaceDelimited
	case strings.HasPrefix(s, "{"):
		if !strings.HasSuffix(s, "}") {
			return nil, fmt.Errorf("invalid JSON filter pattern %q: no closing }", s)
		}
		p := &jsonParser{toks: tokenize(s[1 : len(s)-1])}
		expr, err := p.or()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON filter pattern %q: %w", s, err)
		}
		if p.pos != len(p.toks) {
			return nil, fmt.Errorf("invalid JSON filter pattern %q: unexpected %q", s, p.toks[p.pos])
		}
		return jsonPattern{expr}, nil
	}
	return parseTerms(s)
}

type matchAll struct{}

func (matchAll) match(string) bool { return true }

// termPattern is a terms pattern.
type termPattern struct {
	all, anyOf, none []string
}

func parseTerms(s string) (pattern, error) {
	var p termPattern
	for _, tok := range tokenize(s) {
		list := &p.all
		switch {
		case strings.HasPrefix(tok, "?"):
			list, tok = &p.anyOf, tok[1:]
		case strings.HasPrefix(tok, "-"):
			list, tok = &p.none, tok[1:]
		}
		if strings.HasPrefix(tok, `"`) {
			unq, err := strconv.Unquote(tok)
			if err != nil {
				return nil, fmt.Errorf("invalid quoted term %s", tok)
			}
			tok = unq
		}
		if tok == "" {
			return nil, errors.New("empty term in filter pattern")
		}
		*list = append(*list, tok)
	}
	return p, nil
}

func (p termPattern) match(event string) bool {
	for _, t := range p.none {
		if strings.Contains(event, t) {
			return false
		}
	}
	for _, t := range p.all {
		if !strings.Contains(event, t) {
			return false
		}
	}
	if len(p.anyOf) == 0 {
		return true
	}
	for _, t := range p.anyOf {
		if strings.Contains(event, t) {
			return true
		}
	}
	return false
}

// tokenize splits on spaces, keeping "quoted strings" and the operators
// ( ) && || = != > < >= <= as tokens.
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '"' || (c == '?' || c == '-') && i+1 < len(s) && s[i+1] == '"':
			start := i
			if c != '"' {
				i++
			}
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i+1, len(s))
			toks = append(toks, s[start:i])
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "!=") ||
			strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<="):
			toks = append(toks, s[i:i+2])
			i += 2
		case strings.ContainsRune("()=<>", rune(c)):
			toks = append(toks, s[i:i+1])
			i++
		default:
			start := i
			for i < len(s) && !unicode.IsSpace(rune(s[i])) && !strings.ContainsRune("()=<>!&|\"", rune(s[i])) {
				i++
			}
			if i == start { // a lone ! & or |
				i++
			}
			toks = append(toks, s[start:i])
		}
	}
	return toks
}

// jsonExpr is a compiled JSON filter expression.
type jsonExpr func(doc any) bool

type jsonPattern struct{ expr jsonExpr }

func (p jsonPattern) match(event string) bool {
	var doc any
	if json.Unmarshal([]byte(event), &doc) != nil {
		return false // a JSON pattern matches JSON log events only
	}
	return p.expr(doc)
}

type jsonParser struct {
	toks []string
	pos  int
}

func (p *jsonParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *jsonParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

// or := and ("||" and)*
func (p *jsonParser) or() (jsonExpr, error) {
	left, err := p.and()
	for err == nil && p.peek() == "||" {
		p.next()
		var right jsonExpr
		if right, err = p.and(); err == nil {
			l, r := left, right
			left = func(d any) bool { return l(d) || r(d) }
		}
	}
	return left, err
}

// and := term ("&&" term)*
func (p *jsonParser) and() (jsonExpr, error) {
	left, err := p.term()
	for err == nil && p.peek() == "&&" {
		p.next()
		var right jsonExpr
		if right, err = p.term(); err == nil {
			l, r := left, right
			left = func(d any) bool { return l(d) && r(d) }
		}
	}
	return left, err
}

// term := "(" or ")" | selector op value | selector IS (TRUE|FALSE|NULL) | selector NOT EXISTS
func (p *jsonParser) term() (jsonExpr, error) {
	if p.peek() == "(" {
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return e, nil
	}
	sel := p.next()
	if !strings.HasPrefix(sel, "$.") && sel != "$" {
		return nil, fmt.Errorf("expected a selector like $.field, got %q", sel)
	}
	path := strings.Split(strings.TrimPrefix(strings.TrimPrefix(sel, "$"), "."), ".")
	op := p.next()
	switch op {
	case "IS":
		want := p.next()
		switch want {
		case "TRUE", "FALSE":
			return func(d any) bool {
				v, ok := lookup(d, path)
				b, isBool := v.(bool)
				return ok && isBool && b == (want == "TRUE")
			}, nil
		case "NULL":
			return func(d any) bool { v, ok := lookup(d, path); return ok && v == nil }, nil
		}
		return nil, fmt.Errorf("expected TRUE, FALSE or NULL after IS, got %q", want)
	case "NOT":
		if p.next() != "EXISTS" {
			return nil, errors.New("expected EXISTS after NOT")
		}
		return func(d any) bool { _, ok := lookup(d, path); return !ok }, nil
	case "=", "!=", ">", "<", ">=", "<=":
	default:
		return nil, fmt.Errorf("expected a comparison after %s, got %q", sel, op)
	}
	raw := p.next()
	if raw == "" {
		return nil, fmt.Errorf("no value after %s %s", sel, op)
	}
	if num, err := strconv.ParseFloat(raw, 64); err == nil {
		return numeric(path, op, num), nil
	}
	if op != "=" && op != "!=" {
		return nil, fmt.Errorf("%s needs a number, got %s", op, raw)
	}
	want := raw
	if strings.HasPrefix(raw, `"`) {
		unq, err := strconv.Unquote(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid string %s", raw)
		}
		want = unq
	}
	return func(d any) bool {
		v, ok := lookup(d, path)
		s, isString := v.(string)
		matched := ok && isString && wildcard(want, s)
		return matched == (op == "=")
	}, nil
}

func numeric(path []string, op string, want float64) jsonExpr {
	return func(d any) bool {
		v, ok := lookup(d, path)
		f, isNum := v.(float64)
		if !ok || !isNum {
			return op == "!="
		}
		switch op {
		case "=":
			return f == want
		case "!=":
			return f != want
		case ">":
			return f > want
		case "<":
			return f < want
		case ">=":
			return f >= want
		}
		return f <= want
	}
}

// wildcard matches s against want, where * stands for any characters.
func wildcard(want, s string) bool {
	if !strings.Contains(want, "*") {
		return want == s
	}
	ok, err := path.Match(strings.NewReplacer("?", `\?`, "[", `\[`, `\`, `\\`).Replace(want), s)
	return err == nil && ok
}

// lookup follows a dotted path (with [n] array indexes) into a JSON document.
func lookup(doc any, keys []string) (any, bool) {
	cur := doc
	for _, k := range keys {
		if k == "" {
			continue
		}
		name, idx, hasIdx := strings.Cut(k, "[")
		if name != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[name]; !ok {
				return nil, false
			}
		}
		for hasIdx {
			var n string
			n, idx, _ = strings.Cut(idx, "]")
			i, err := strconv.Atoi(n)
			list, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(list) {
				return nil, false
			}
			cur = list[i]
			_, idx, hasIdx = strings.Cut(idx, "[")
		}
	}
	return cur, true
}
