package faults

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	rules, err := Parse("dynamodb:TransactWriteItems:conflict:0.1, sqs:ReceiveMessage:server:0.05,*:*:latency=5ms:1")
	require.NoError(t, err)
	require.Len(t, rules, 3)
	assert.Equal(t, Rule{Service: "*", Op: "*", Kind: Latency, Rate: 1, Delay: 5 * time.Millisecond, text: "*:*:latency=5ms:1"}, rules[2])
	none, err := Parse("")
	require.NoError(t, err)
	assert.Empty(t, none, "empty: faults off")
	for _, bad := range []string{
		"dynamodb:PutItem:throttle", "s3:*:server:0.1", "dynamodb:*:explode:0.1", "dynamodb:PutItem:conflict:0.1",
		"sqs:*:throttle:0.1", "dynamodb:*:server:1.5", "*:*:latency=fast:0.1",
		"lambda:*:server:0.1", "dynamodb:*:crash:0.1", "*:*:timeout=1s:0.1", "lambda:*:timeout:0.1", "lambda:*:crash=soon:0.1",
	} {
		_, err := Parse(bad)
		assert.Error(t, err, bad)
	}
}

// TestDecideAnswersInTheServicesProtocol: a rate of 1 always injects, with
// the error shape each SDK parses; a conflict names a reason per item.
func TestDecideAnswersInTheServicesProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, service, op string
		items             int
		status            int
		errType           string
	}{
		{"dynamodb:*:throttle:1", "dynamodb", "PutItem", 0, http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"},
		{"dynamodb:*:server:1", "dynamodb", "Query", 0, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError"},
		{"dynamodb:TransactWriteItems:conflict:1", "dynamodb", "TransactWriteItems", 3, http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"},
		{"sqs:ReceiveMessage:server:1", "sqs", "ReceiveMessage", 0, http.StatusInternalServerError, "com.amazonaws.sqs#InternalError"},
	}
	for _, tt := range tests {
		rules, err := Parse(tt.spec)
		require.NoError(t, err)
		var inj Injector
		inj.Set(rules)
		other := map[string]string{"dynamodb": "sqs", "sqs": "dynamodb"}[tt.service]
		assert.Nil(t, inj.Decide(context.Background(), other, tt.op, 0), "%s: another service is served", tt.spec)
		a := inj.Decide(context.Background(), tt.service, tt.op, tt.items)
		require.NotNil(t, a, tt.spec)
		assert.Equal(t, tt.status, a.Status)
		var body struct {
			Type    string                  `json:"__type"`
			Reasons []struct{ Code string } `json:"CancellationReasons"`
		}
		require.NoError(t, json.Unmarshal(a.Body, &body))
		assert.Equal(t, tt.errType, body.Type)
		assert.Len(t, body.Reasons, tt.items, tt.spec)
		assert.Equal(t, int64(1), inj.Rules()[0].Count)
	}
	var off *Injector
	assert.Nil(t, off.Decide(context.Background(), "dynamodb", "PutItem", 0), "a nil injector injects nothing")
	assert.Zero(t, off.DecideInvocation("fn"))
}

func TestDecideInvocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, function string
		want           func(Invocation) bool
	}{
		{"lambda:*:crash:1", "fn", func(i Invocation) bool { return i.CrashAfter > 0 && i.CrashAfter <= defaultCrashWithin && i.Limit == 0 }},
		{"lambda:fn:crash=5ms:1", "fn", func(i Invocation) bool { return i.CrashAfter > 0 && i.CrashAfter <= 5*time.Millisecond }},
		{"lambda:fn:crash=5ms:1", "other", func(i Invocation) bool { return i == Invocation{} }},
		{"lambda:*:timeout=250ms:1", "fn", func(i Invocation) bool { return i == Invocation{Limit: 250 * time.Millisecond} }},
		{"*:*:server:1,*:*:latency=1ms:1", "fn", func(i Invocation) bool { return i == Invocation{} }},
	}
	for _, tt := range tests {
		rules, err := Parse(tt.spec)
		require.NoError(t, err)
		var inj Injector
		inj.Set(rules)
		got := inj.DecideInvocation(tt.function)
		assert.True(t, tt.want(got), "%s for %s: %+v", tt.spec, tt.function, got)
		if tt.spec[0] == '*' {
			for _, r := range inj.Rules() {
				assert.Zero(t, r.Count, "%s is not a Lambda fault: not counted", r)
			}
		}
	}
}
