package eventpattern

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		want      error // nil: valid
	}{
		{"values", `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"]}`, nil},
		{"nested, with filters", `{"detail":{"state":{"value":["ALARM",{"prefix":"OK"}]},"x":[{"exists":false}],"y":[{"anything-but":["a","b"]}]}}`, nil},
		{"$or", `{"$or":[{"a":["1"]},{"b":[2]}]}`, nil},
		{"null, number, boolean", `{"a":[null,1.5,true]}`, nil},
		{"not JSON", `{"a":`, ErrInvalid},
		{"not an object", `["a"]`, ErrInvalid},
		{"empty", `{}`, ErrInvalid},
		{"a bare value", `{"body":{"status":"DELIVERED"},"items":[{"k":"a"},{"k":"b"}]}`, ErrInvalid},
		{"an empty array", `{"a":[]}`, ErrInvalid},
		{"a nested array", `{"a":[["x"]]}`, ErrInvalid},
		{"an unknown operator", `{"a":[{"starts-with":"x"}]}`, ErrInvalid},
		{"two operators in a filter", `{"a":[{"prefix":"x","exists":true}]}`, ErrInvalid},
		{"$or of one", `{"$or":[{"a":["1"]}]}`, ErrInvalid},
		{"$or of a value", `{"$or":[{"a":["1"]},"b"]}`, ErrInvalid},
		{"numeric", `{"a":[{"numeric":[">",0]}]}`, ErrNotEmulated},
		{"suffix", `{"a":[{"suffix":".png"}]}`, ErrNotEmulated},
		{"wildcard", `{"a":[{"wildcard":"*.png"}]}`, ErrNotEmulated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.doc)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	event := `{"source":"aws.cloudwatch","detail":{"state":{"value":"ALARM"},"tags":["a","b"],"n":3},"body":{"status":"DELIVERED"},"items":[{"k":"a"},{"k":"b"}]}`
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(event), &ev))
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{"source":["aws.cloudwatch"]}`, true},
		{`{"source":["aws.events"]}`, false},
		{`{"detail":{"state":{"value":["OK","ALARM"]}}}`, true},
		{`{"detail":{"tags":["b"]}}`, true},
		{`{"detail":{"tags":["c"]}}`, false},
		{`{"detail":{"n":[3]}}`, true},
		{`{"body":{"status":[{"prefix":"DELIV"}]}}`, true},
		{`{"body":{"status":[{"anything-but":["DELIVERED"]}]}}`, false},
		{`{"body":{"status":[{"anything-but":"EXCEPTION"}]}}`, true},
		{`{"body":{"reason":[{"exists":false}]}}`, true},
		{`{"body":{"reason":[{"exists":true}]}}`, false},
		{`{"body":{"reason":[null]}}`, false},
		{`{"$or":[{"source":["x"]},{"body":{"status":["DELIVERED"]}}]}`, true},
		{`{"$or":[{"source":["x"]},{"body":{"status":["LOST"]}}]}`, false},
		{`{"detail":{"state":["ALARM"]}}`, false},
		// A missing parent leaves every leaf below it absent (aws/event-ruler,
		// GenericMachineTest.testEmptyInput: detail.c-count exists:false matches "{}").
		{`{"missing":{"b":[{"exists":false}]}}`, true},
		{`{"missing":{"b":[{"exists":true}]}}`, false},
		{`{"missing":{"b":["x"]}}`, false},
		{`{"source":{"b":[{"exists":false}]}}`, true},
		// An array of objects matches when one of them does.
		{`{"items":{"k":["b"]}}`, true},
		{`{"items":{"k":["c"]}}`, false},
	} {
		p, err := Parse(tc.pattern)
		require.NoError(t, err, tc.pattern)
		assert.Equal(t, tc.want, p.Matches(ev), tc.pattern)
	}
}
