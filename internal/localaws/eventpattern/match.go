package eventpattern

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

// matchAny is true when one of the allowed values or filters matches got:
// an array field matches when one of its elements does; only exists
// matches an absent field.
func matchAny(allowed []any, got any, present bool) bool {
	values := []any{got}
	switch list := got.(type) {
	case []any:
		values = list
	case []string: // an event built in Go (an AWS service's own, such as an alarm state change)
		values = make([]any, len(list))
		for i, v := range list {
			values[i] = v
		}
	}
	for _, a := range allowed {
		if e, ok := a.(exists); ok {
			if bool(e) == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		m, isFilter := a.(matcher)
		for _, v := range values {
			if isFilter && m.match(v) || !isFilter && equal(a, v) {
				return true
			}
		}
	}
	return false
}
