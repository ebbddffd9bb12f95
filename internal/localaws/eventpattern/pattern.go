// Package eventpattern reads and applies event patterns as EventBridge
// defines them (EventBridge User Guide, "Event patterns" and "Content
// filtering"), which Lambda's event filtering uses too ("Lambda event
// filtering", "Filter rule syntax"): EventBridge rules and the filter
// criteria of event source mappings.
package eventpattern

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of Parse: a pattern AWS refuses, and one it accepts that the
// local AWS does not evaluate (refused rather than matched wrongly).
var (
	ErrInvalid     = errors.New("event pattern is not valid")
	ErrNotEmulated = errors.New("event pattern operator not emulated by the local AWS (internal/localaws/README.md lists what is)")
)

// Pattern is a parsed event pattern.
type Pattern struct{ doc map[string]any }

// evaluated are the comparison operators Matches evaluates; documented are
// the others AWS accepts ("Content filtering": numeric, suffix,
// equals-ignore-case, wildcard, cidr).
var (
	evaluated  = map[string]bool{"prefix": true, "anything-but": true, "exists": true}
	documented = map[string]bool{"numeric": true, "suffix": true, "equals-ignore-case": true, "wildcard": true, "cidr": true}
)

// Parse reads a pattern: a JSON object whose fields hold objects (nested
// fields) or arrays of values and filters ("Match values are always in
// arrays"), and "$or" an array of patterns.
func Parse(doc string) (Pattern, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return Pattern{}, fmt.Errorf("%w: not a JSON object: %w", ErrInvalid, err)
	}
	if len(m) == 0 {
		return Pattern{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	if err := check(m, ""); err != nil {
		return Pattern{}, err
	}
	return Pattern{doc: m}, nil
}

func check(m map[string]any, path string) error {
	for field, v := range m {
		at := path + "/" + field
		if field == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return fmt.Errorf("%w: %s must be an array of at least two patterns", ErrInvalid, at)
			}
			for _, a := range alts {
				sub, ok := a.(map[string]any)
				if !ok {
					return fmt.Errorf("%w: %s holds something other than a pattern", ErrInvalid, at)
				}
				if err := check(sub, at); err != nil {
					return err
				}
			}
			continue
		}
		switch w := v.(type) {
		case map[string]any:
			if err := check(w, at); err != nil {
				return err
			}
		case []any:
			if err := checkValues(w, at); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %s: match values must be in arrays", ErrInvalid, at)
		}
	}
	return nil
}

func checkValues(values []any, at string) error {
	if len(values) == 0 {
		return fmt.Errorf("%w: %s: empty arrays are not allowed", ErrInvalid, at)
	}
	for _, v := range values {
		f, ok := v.(map[string]any)
		if !ok {
			if _, nested := v.([]any); nested {
				return fmt.Errorf("%w: %s: arrays cannot be nested", ErrInvalid, at)
			}
			continue // a string, number, boolean or null to match exactly
		}
		if len(f) != 1 {
			return fmt.Errorf("%w: %s: a filter has exactly one operator", ErrInvalid, at)
		}
		for op := range f {
			switch {
			case evaluated[op]:
			case documented[op]:
				return fmt.Errorf("%w: %q at %s", ErrNotEmulated, op, at)
			default:
				return fmt.Errorf("%w: %s: unrecognized match type %s", ErrInvalid, at, op)
			}
		}
	}
	return nil
}
