package cloudwatch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestEvaluate checks the evaluator against CloudWatch's documented alarm
// semantics: M of N breaching datapoints, each TreatMissingData mode, and
// INSUFFICIENT_DATA when nothing is known.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	// v builds samples oldest first: a number is a datapoint, nil a missing one.
	v := func(values ...any) []sample {
		out := make([]sample, len(values))
		for i, x := range values {
			out[i].at = t0.Add(time.Duration(i) * time.Minute)
			if f, ok := x.(float64); ok {
				out[i].value, out[i].ok = f, true
			}
		}
		return out
	}
	gt0 := func(n, m int, missing string) rule {
		return rule{threshold: 0, comparison: "GreaterThanThreshold", periods: n, toAlarm: m, missing: missing}
	}
	tests := []struct {
		name       string
		rule       rule
		samples    []sample
		wantState  string // "" keeps the state
		wantReason string // a part of the reason
	}{
		{"one breaching datapoint", gt0(1, 0, "ignore"), v(3.0), stateAlarm,
			"Threshold Crossed: 1 out of the last 1 datapoints [3.0 (02/12/26 14:00:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."},
		{"one datapoint within", gt0(1, 0, "ignore"), v(0.0), stateOK, "was not greater than the threshold (0.0) (minimum 1 datapoint for ALARM -> OK transition)."},
		{"ignore keeps the state when all is missing", gt0(1, 0, "ignore"), v(nil), "", ""},
		{"missing goes to INSUFFICIENT_DATA when all is missing", gt0(2, 0, "missing"), v(nil, nil), stateInsufficient, "Insufficient Data: 2 datapoints were unknown."},
		{"notBreaching counts missing as within", gt0(1, 0, "notBreaching"), v(nil), stateOK,
			"Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."},
		{"breaching counts missing as past", gt0(1, 0, "breaching"), v(nil), stateAlarm, "treated as [Breaching]"},
		{"2 of 3: two breach", gt0(3, 2, "missing"), v(1.0, 0.0, 1.0), stateAlarm, "2 out of the last 3 datapoints"},
		{"2 of 3: one breaches", gt0(3, 2, "missing"), v(0.0, 0.0, 1.0), stateOK, ""},
		{"3 of 3: two breach is not enough", gt0(3, 0, "notBreaching"), v(1.0, 1.0, 0.0), stateOK, ""},
		{"missing datapoints that could still make M keep the state", gt0(3, 2, "missing"), v(nil, 1.0, nil), "", ""},
		{"missing datapoints that could not make M are OK", gt0(3, 3, "missing"), v(0.0, nil, nil), stateOK, ""},
		{"breaching missing datapoints join present ones", gt0(3, 3, "breaching"), v(1.0, nil, nil), stateAlarm, ""},
		{"greater or equal at the threshold", rule{threshold: 10, comparison: "GreaterThanOrEqualToThreshold", periods: 1, missing: "missing"}, v(10.0), stateAlarm, "greater than or equal to the threshold (10.0)"},
		{"less than", rule{threshold: 1, comparison: "LessThanThreshold", periods: 1, missing: "missing"}, v(0.5), stateAlarm, "less than the threshold (1.0)"},
		{"less or equal, within", rule{threshold: 1, comparison: "LessThanOrEqualToThreshold", periods: 1, missing: "missing"}, v(2.0), stateOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := evaluate(tt.rule, tt.samples, t0)
			assert.Equal(t, tt.wantState, got.state)
			assert.Contains(t, got.reason, tt.wantReason)
		})
	}
}
