// Package eventpattern reads and applies event patterns as EventBridge
// defines them (EventBridge User Guide, "Event patterns" and "Comparison
// operators for use in event patterns"), and the subset Lambda's event
// filtering lists ("Lambda event filtering", "Filter rule syntax"):
// EventBridge rules and the filter criteria of event source mappings.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of Parse: a pattern AWS refuses, and one it may accept that the
// local AWS does not evaluate (refused rather than matched wrongly).
var (
	ErrInvalid     = errors.New("event pattern is not valid")
	ErrNotEmulated = errors.New("event pattern operator not emulated by the local AWS (internal/localaws/README.md lists what is)")
)

// Dialect is who reads a pattern: EventBridge's event buses take every
// comparison operator; Lambda's filter rule syntax lists fewer (no
// wildcard, no cidr, no anything-but of a prefix, suffix, wildcard or
// ignored case, no prefix or suffix ignoring case).
type Dialect int

// The dialects.
const (
	EventBridge Dialect = iota
	Lambda
)

// Pattern is a parsed event pattern: its fields hold nested patterns or
// arrays of literals and compiled filters.
type Pattern struct{ doc map[string]any }

// Parse reads an EventBridge rule's pattern.
func Parse(doc string) (Pattern, error) { return ParseAs(EventBridge, doc) }

// ParseAs reads a pattern as d reads it: a JSON object whose fields hold
// objects (nested fields) or arrays of values and filters ("Match values
// are always in arrays"), and "$or" an array of patterns.
func ParseAs(d Dialect, doc string) (Pattern, error) {
	m, err := Decode([]byte(doc))
	if err != nil {
		return Pattern{}, fmt.Errorf("%w: not a JSON object: %w", ErrInvalid, err)
	}
	if len(m) == 0 {
		return Pattern{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	combinations := 1
	if err := compile(d, m, "", &combinations); err != nil {
		return Pattern{}, err
	}
	// "will throw an InvalidEventPatternException if the use of $or results
	// in over 1000 rule combinations" (EventBridge User Guide, "$or").
	if combinations > maxCombinations {
		return Pattern{}, fmt.Errorf("%w: $or makes %d rule combinations, over %d", ErrInvalid, combinations, maxCombinations)
	}
	return Pattern{doc: m}, nil
}

// Decode reads a JSON object with its numbers as written (json.Number):
// exact matching compares a number's text, so 300, 300.0 and 3.0e2 differ
// (Lambda Developer Guide, "Filter rule syntax"); numeric matching reads
// its value.
func Decode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode: not an object")
	}
	return m, nil
}

// maxCombinations is the documented limit of $or's rule combinations.
const maxCombinations = 1000

// compile checks a pattern object and replaces each filter in it with its
// compiled matcher.
// combinations multiplies by the length of each $or array met.
func compile(d Dialect, m map[string]any, path string, combinations *int) error {
	for field, v := range m {
		at := path + "/" + field
		if field == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return fmt.Errorf("%w: %s must be an array of at least two patterns", ErrInvalid, at)
			}
			*combinations = min(*combinations*len(alts), maxCombinations+1)
			for _, a := range alts {
				sub, ok := a.(map[string]any)
				if !ok {
					return fmt.Errorf("%w: %s holds something other than a pattern", ErrInvalid, at)
				}
				if err := compile(d, sub, at, combinations); err != nil {
					return err
				}
			}
			continue
		}
		switch w := v.(type) {
		case map[string]any:
			if err := compile(d, w, at, combinations); err != nil {
				return err
			}
		case []any:
			if err := compileValues(d, w, at); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %s: match values must be in arrays", ErrInvalid, at)
		}
	}
	return nil
}

func compileValues(d Dialect, values []any, at string) error {
	if len(values) == 0 {
		return fmt.Errorf("%w: %s: empty arrays are not allowed", ErrInvalid, at)
	}
	for i, v := range values {
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
		for op, arg := range f {
			m, err := compileFilter(d, op, arg)
			if err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
			values[i] = m
		}
	}
	return nil
}
