package provision

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/authz"
	"github.com/tracking-pipeline/tracking-pipeline/internal/outputs"
)

// TestRolePoliciesAreTheModules: the provisioner's roles get iam.tf's
// documents, rendered for the stack's ARNs; read by the local AWS's
// evaluator they grant what the module grants, and nothing else.
func TestRolePoliciesAreTheModules(t *testing.T) {
	t.Parallel()
	const (
		prefix = "arn:aws:sqs:us-east-1:123456789012:tp"
		table  = "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit"
		key    = "arn:aws:kms:us-east-1:123456789012:key/k1"
		topic  = "arn:aws:sns:us-east-1:123456789012:tp-alerts"
	)
	out := outputs.Stack{
		IngestQueueARN: prefix + "-ingest", IngestDLQARN: prefix + "-ingest-dlq", MaintenanceDLQARN: prefix + "-maintenance-dlq",
		KMSKeyARN: key, AlertTopicARN: topic, ProcessorFunctionName: "tp-processor", MaintenanceFunctionName: "tp-maintenance",
	}
	p, err := newRolePolicies(Defaults("tp"), out, table)
	require.NoError(t, err)
	tests := []struct {
		policy, action, resource string
		context                  map[string][]string
		want                     authz.Effect
	}{
		{"processor", "dynamodb:PutItem", table, nil, authz.Allow},
		{"processor", "dynamodb:GetItem", table, nil, authz.Allow},
		{"processor", "dynamodb:Query", table, nil, authz.ImplicitDeny},
		{"processor", "sqs:SendMessage", prefix + "-ingest-dlq", nil, authz.Allow},
		{"processor", "sqs:SendMessage", prefix + "-ingest", nil, authz.ImplicitDeny},
		{"processor", "sqs:ReceiveMessage", prefix + "-ingest", nil, authz.Allow},
		{"processor", "kms:GenerateDataKey", key, map[string][]string{"kms:ViaService": {"sqs.us-east-1.amazonaws.com"}}, authz.Allow},
		{"processor", "kms:GenerateDataKey", key, map[string][]string{"kms:ViaService": {"sns.us-east-1.amazonaws.com"}}, authz.ImplicitDeny},
		{"processor", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/tp-processor:log-stream:s", nil, authz.Allow},
		{"maintenance", "dynamodb:Query", table + "/index/by_status", nil, authz.Allow},
		{"maintenance", "dynamodb:UpdateItem", table, nil, authz.ImplicitDeny},
		{"maintenance", "sns:Publish", topic, nil, authz.Allow},
		{"maintenance", "sqs:SendMessage", prefix + "-ingest", nil, authz.Allow},
		{"maintenance", "sqs:SendMessage", prefix + "-ingest-dlq", nil, authz.ImplicitDeny},
	}
	for _, tt := range tests {
		doc, err := p.document(tt.policy)
		require.NoError(t, err)
		pol, err := authz.Parse(tt.policy, []byte(doc))
		require.NoError(t, err)
		got, err := authz.Evaluate(authz.Request{
			Caller: authz.Caller{ARN: "arn:aws:sts::123456789012:assumed-role/tp-" + tt.policy + "/tp-" + tt.policy},
			Action: tt.action, Resource: tt.resource, Context: tt.context,
		}, authz.Policies{Identity: []*authz.Policy{pol}})
		require.NoError(t, err)
		assert.Equal(t, tt.want, got.Effect, "%s %s on %s", tt.policy, tt.action, tt.resource)
	}
}
