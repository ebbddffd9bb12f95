package authz

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// knownKeys are the condition keys the local AWS fills in for this stack's
// calls; a policy naming another makes Evaluate fail, naming it, because
// the local AWS cannot tell what AWS would put there. Prefix keys end in ":".
var knownKeys = []string{
	"aws:SourceAccount", "aws:SourceArn", "aws:SecureTransport", "aws:PrincipalArn",
	"aws:PrincipalAccount", "aws:CurrentTime", "aws:TagKeys",
	"kms:ViaService", "kms:CallerAccount", "kms:EncryptionContext:",
	"events:source", "events:detail-type", // each PutEvents entry's (access.eventsCalls)
}

func knownKey(key string) bool {
	for _, k := range knownKeys {
		if strings.EqualFold(k, key) || strings.HasSuffix(k, ":") && len(key) > len(k) && strings.EqualFold(k, key[:len(k)]) {
			return true
		}
	}
	return false
}

// matcher compares one request value with one policy value.
type matcher func(request, policy string) (bool, error)

// operators are the condition operators evaluated (IAM User Guide, "IAM
// JSON policy elements: Condition operators"); negated ones are true when
// the request value matches none of the policy's values.
var operators = map[string]struct {
	match   matcher
	negated bool
}{
	"StringEquals":              {stringEquals, false},
	"StringNotEquals":           {stringEquals, true},
	"StringEqualsIgnoreCase":    {stringEqualsFold, false},
	"StringNotEqualsIgnoreCase": {stringEqualsFold, true},
	"StringLike":                {stringLike, false},
	"StringNotLike":             {stringLike, true},
	"NumericEquals":             {numeric(func(c int) bool { return c == 0 }), false},
	"NumericNotEquals":          {numeric(func(c int) bool { return c == 0 }), true},
	"NumericLessThan":           {numeric(func(c int) bool { return c < 0 }), false},
	"NumericLessThanEquals":     {numeric(func(c int) bool { return c <= 0 }), false},
	"NumericGreaterThan":        {numeric(func(c int) bool { return c > 0 }), false},
	"NumericGreaterThanEquals":  {numeric(func(c int) bool { return c >= 0 }), false},
	"DateEquals":                {date(func(c int) bool { return c == 0 }), false},
	"DateNotEquals":             {date(func(c int) bool { return c == 0 }), true},
	"DateLessThan":              {date(func(c int) bool { return c < 0 }), false},
	"DateLessThanEquals":        {date(func(c int) bool { return c <= 0 }), false},
	"DateGreaterThan":           {date(func(c int) bool { return c > 0 }), false},
	"DateGreaterThanEquals":     {date(func(c int) bool { return c >= 0 }), false},
	"Bool":                      {boolEquals, false},
	"ArnEquals":                 {arnLikeMatch, false},
	"ArnLike":                   {arnLikeMatch, false},
	"ArnNotEquals":              {arnLikeMatch, true},
	"ArnNotLike":                {arnLikeMatch, true},
}

func stringEquals(r, p string) (bool, error)     { return r == p, nil }
func stringEqualsFold(r, p string) (bool, error) { return strings.EqualFold(r, p), nil }
func stringLike(r, p string) (bool, error)       { return wildcard(p, r), nil }
func arnLikeMatch(r, p string) (bool, error)     { return arnLike(p, r), nil }

func boolEquals(r, p string) (bool, error) {
	pb, err := strconv.ParseBool(p)
	if err != nil {
		return false, fmt.Errorf("the Bool value %q is not true or false", p)
	}
	rb, err := strconv.ParseBool(r)
	return err == nil && rb == pb, nil
}

func numeric(ok func(int) bool) matcher {
	return func(r, p string) (bool, error) {
		pv, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return false, fmt.Errorf("numeric value %q is not a number", p)
		}
		rv, err := strconv.ParseFloat(r, 64)
		if err != nil {
			return false, nil //nolint:nilerr // a request value that is no number matches nothing
		}
		return ok(compare(rv, pv)), nil
	}
}

func date(ok func(int) bool) matcher {
	return func(r, p string) (bool, error) {
		pt, err := parseDate(p)
		if err != nil {
			return false, fmt.Errorf("date value %q: %w", p, err)
		}
		rt, err := parseDate(r)
		if err != nil {
			return false, nil //nolint:nilerr // a request value that is no date matches nothing
		}
		return ok(rt.Compare(pt)), nil
	}
}

// parseDate reads the forms dates take in policies: ISO 8601 (W3C profile)
// or epoch seconds.
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("not an ISO 8601 date or epoch seconds")
}

func compare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// holds evaluates one condition against the request context.
//
// Rules (IAM User Guide, "Condition operators", "Multivalued context keys"):
// several values for one key match when any does; a key missing from the
// request makes a condition false, except with ...IfExists (true), a
// negated operator (true: nothing matches), Null, and ForAllValues (true
// for an empty or missing key); ForAnyValue needs one request value to
// match, ForAllValues every one.
func (c condition) holds(ctx map[string][]string) (bool, error) {
	op := c.operator
	set := ""
	if prefix, rest, ok := strings.Cut(op, ":"); ok {
		if prefix != "ForAnyValue" && prefix != "ForAllValues" {
			return false, fmt.Errorf("condition operator %q is not evaluated by the local AWS", c.operator)
		}
		set, op = prefix, rest
	}
	ifExists := false
	if base, ok := strings.CutSuffix(op, "IfExists"); ok && op != "Null" {
		op, ifExists = base, true
	}
	if !knownKey(c.key) {
		return false, fmt.Errorf("condition key %q is not known to the local AWS (operator %s)", c.key, c.operator)
	}
	got, present := lookup(ctx, c.key)
	if op == "Null" {
		if len(c.values) != 1 {
			return false, fmt.Errorf("the Null operator on %s wants one value, true or false", c.key)
		}
		wantAbsent, err := strconv.ParseBool(c.values[0])
		if err != nil {
			return false, fmt.Errorf("the Null operator on %s: %q is not true or false", c.key, c.values[0])
		}
		return wantAbsent != present, nil
	}
	spec, ok := operators[op]
	if !ok {
		return false, fmt.Errorf("condition operator %q is not evaluated by the local AWS", c.operator)
	}
	one := func(v string) (bool, error) { // v matches the policy's values, negation applied
		for _, p := range c.values {
			m, err := spec.match(v, p)
			if err != nil {
				return false, fmt.Errorf("%s %s: %w", c.operator, c.key, err)
			}
			if m {
				return !spec.negated, nil
			}
		}
		return spec.negated, nil
	}
	switch {
	case set == "ForAllValues":
		for _, v := range got {
			if ok, err := one(v); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case !present:
		return ifExists || spec.negated && set == "", nil
	}
	if spec.negated && set == "" {
		// A negated operator on several request values: none may match.
		for _, v := range got {
			if ok, err := one(v); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	for _, v := range got {
		if ok, err := one(v); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// lookup finds a key in the request context; keys are case-insensitive.
func lookup(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, len(v) > 0
		}
	}
	return nil, false
}
