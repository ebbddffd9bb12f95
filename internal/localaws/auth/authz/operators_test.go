package authz

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryConditionOperator compares one request value with one policy
// value under each operator the local AWS evaluates (IAM User Guide, "IAM
// JSON policy elements: Condition operators"); a negated operator is true
// when the value does not match. An operator added to operators without a
// row here fails the test.
func TestEveryConditionOperator(t *testing.T) {
	t.Parallel()
	const (
		arn   = "arn:aws:sqs:us-east-1:111122223333:tp-ingest"
		other = "arn:aws:sqs:us-east-1:111122223333:tp-dlq"
	)
	type row struct {
		request, policy string
		want            bool
	}
	tests := map[string][]row{
		"StringEquals":              {{"abc", "abc", true}, {"abc", "ABC", false}, {"abc", "a*", false}},
		"StringNotEquals":           {{"abc", "abc", false}, {"abc", "abd", true}},
		"StringEqualsIgnoreCase":    {{"abc", "ABC", true}, {"abc", "abd", false}},
		"StringNotEqualsIgnoreCase": {{"abc", "ABC", false}, {"abc", "abd", true}},
		"StringLike":                {{"tp-ingest", "tp-*", true}, {"tp-ingest", "tp-ingest?", false}, {"tp-ingest", "tp-inges?", true}, {"tp-ingest", "TP-*", false}},
		"StringNotLike":             {{"tp-ingest", "tp-*", false}, {"xx-ingest", "tp-*", true}},
		"NumericEquals":             {{"10", "10", true}, {"10", "10.0", true}, {"10", "11", false}, {"ten", "10", false}},
		"NumericNotEquals":          {{"10", "10", false}, {"10", "11", true}},
		"NumericLessThan":           {{"9", "10", true}, {"10", "10", false}},
		"NumericLessThanEquals":     {{"10", "10", true}, {"11", "10", false}},
		"NumericGreaterThan":        {{"11", "10", true}, {"10", "10", false}},
		"NumericGreaterThanEquals":  {{"10", "10", true}, {"9", "10", false}},
		"DateEquals":                {{"2026-12-05T00:00:00Z", "2026-12-05T00:00:00Z", true}, {"2026-12-05T00:00:00Z", "1796428800", true}, {"2026-12-05T00:00:00Z", "2026-12-06", false}},
		"DateNotEquals":             {{"2026-12-05T00:00:00Z", "2026-12-05T00:00:00Z", false}, {"2026-12-05T00:00:00Z", "2026-12-06", true}},
		"DateLessThan":              {{"2026-12-05T00:00:00Z", "2026-12-06", true}, {"2026-12-06T00:00:00Z", "2026-12-06", false}},
		"DateLessThanEquals":        {{"2026-12-06T00:00:00Z", "2026-12-06", true}, {"2026-12-07T00:00:00Z", "2026-12-06", false}},
		"DateGreaterThan":           {{"2026-12-07T00:00:00Z", "2026-12-06", true}, {"2026-12-06T00:00:00Z", "2026-12-06", false}},
		"DateGreaterThanEquals":     {{"2026-12-06T00:00:00+01:00", "2026-12-05T23:00:00Z", true}, {"2026-12-05T00:00:00Z", "2026-12-06", false}},
		"Bool":                      {{"true", "true", true}, {"false", "true", false}, {"yes", "true", false}},
		"ArnEquals":                 {{arn, arn, true}, {arn, other, false}, {arn, "arn:aws:sqs:*:111122223333:tp-*", true}},
		"ArnLike":                   {{arn, "arn:aws:sqs:us-east-1:*:tp-ingest", true}, {arn, "arn:aws:sqs:*", false}, {arn, "arn:aws:sqs:us-east-?:111122223333:tp-ingest", true}},
		"ArnNotEquals":              {{arn, arn, false}, {arn, other, true}},
		"ArnNotLike":                {{arn, "arn:aws:sqs:*:*:tp-*", false}, {arn, "arn:aws:sns:*:*:*", true}},
	}
	for op, spec := range operators {
		rows, ok := tests[op]
		if !assert.True(t, ok, "operator %s has no rows here", op) {
			continue
		}
		for _, r := range rows {
			got, err := spec.match(r.request, r.policy)
			require.NoError(t, err, "%s %q %q", op, r.request, r.policy)
			if spec.negated {
				got = !got
			}
			assert.Equal(t, r.want, got, "%s: request %q, policy %q", op, r.request, r.policy)
		}
	}
	assert.Len(t, tests, len(operators), "rows for an operator that is not evaluated")
}

// TestOperatorValuesAWSRefuses: a policy value an operator cannot read is
// an error naming it, not a silent false.
func TestOperatorValuesAWSRefuses(t *testing.T) {
	t.Parallel()
	for op, policy := range map[string]string{"NumericEquals": "ten", "DateEquals": "yesterday", "Bool": "maybe"} {
		_, err := operators[op].match("1", policy)
		assert.ErrorContains(t, err, policy, op)
	}
}
