package eventpattern

import "strings"

// Matches applies the pattern to an event (a decoded JSON object).
func (p Pattern) Matches(event map[string]any) bool { return matches(p.doc, event) }

// matches applies an event pattern to an event.
func matches(pattern map[string]any, event map[string]any) bool {
	for field, want := range pattern {
		if field == "$or" {
			// "$or": [pattern, pattern, ...] at any level matches when one of
			// the patterns matches at that level ("Or matching").
			if !matchOr(want, event) {
				return false
			}
			continue
		}
		got, present := event[field]
		switch w := want.(type) {
		case map[string]any:
			if !matchNested(w, got) {
				return false
			}
		case []any:
			if !matchAny(w, got, present) {
				return false
			}
		default:
			return false // patterns hold arrays or objects only
		}
	}
	return true
}

// matchNested applies a nested pattern to the event's value at its field.
// A pattern is a set of paths to leaves ("Exists matching only works on
// leaf nodes", EventBridge User Guide): where the event has no object on
// the way (the field is missing or a scalar), every leaf below is absent,
// so only {"exists": false} leaves match; an array of objects matches when
// one of its objects does, as an array of values does.
func matchNested(pattern map[string]any, got any) bool {
	switch v := got.(type) {
	case map[string]any:
		return matches(pattern, v)
	case []any:
		for _, e := range v {
			if obj, ok := e.(map[string]any); ok && matches(pattern, obj) {
				return true
			}
		}
		return len(v) == 0 && matches(pattern, nil)
	default:
		return matches(pattern, nil)
	}
}

func matchOr(want any, event map[string]any) bool {
	alternatives, _ := want.([]any)
	for _, alt := range alternatives {
		if p, ok := alt.(map[string]any); ok && matches(p, event) {
			return true
		}
	}
	return false
}

// matchAny is true when one of the allowed values or filters matches got.
func matchAny(allowed []any, got any, present bool) bool {
	values := []any{got}
	if list, ok := got.([]any); ok {
		values = list // an array field matches when any element does
	}
	if l, ok := got.([]string); ok {
		values = make([]any, len(l))
		for i, v := range l {
			values[i] = v
		}
	}
	for _, a := range allowed {
		if f, ok := a.(map[string]any); ok {
			if matchFilter(f, values, present) {
				return true
			}
			continue
		}
		for _, v := range values {
			if present && v == a {
				return true
			}
		}
	}
	return false
}

func matchFilter(f map[string]any, values []any, present bool) bool {
	if exists, ok := f["exists"].(bool); ok {
		return exists == present
	}
	if !present {
		return false
	}
	for _, v := range values {
		s, isString := v.(string)
		if p, ok := f["prefix"].(string); ok && isString && strings.HasPrefix(s, p) {
			return true
		}
		if but, ok := f["anything-but"]; ok {
			excluded := []any{but}
			if l, isList := but.([]any); isList {
				excluded = l
			}
			hit := false
			for _, x := range excluded {
				hit = hit || x == v
			}
			if !hit {
				return true
			}
		}
	}
	return false
}
