package provision

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
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
		IngestQueueARN: prefix + "-ingest", IngestDLQARN: prefix + "-ingest-dlq", MaintenanceDLQARN: prefix + "-maintenance-dlq", AlertDLQARN: prefix + "-alert-dlq",
		KMSKeyARN: key, AlertTopicARN: topic, ProcessorFunctionName: "tp-processor", MaintenanceFunctionName: "tp-maintenance",
	}
	stream := table + "/stream/2026-12-04T00:00:00.000"
	bus := "arn:aws:events:us-east-1:123456789012:event-bus/tp-tracking"
	out.ProjectorFunctionName, out.EventBusName = "tp-projector", "tp-tracking"
	s := load(t)
	p, err := newRolePolicies(s, inputs(t, s), out, table, stream, prefix+"-projector-dlq")
	require.NoError(t, err)
	tests := []struct {
		policy, action, resource string
		context                  map[string][]string
		want                     authz.Effect
	}{
		{"processor", "dynamodb:PutItem", table, nil, authz.Allow},
		{"processor", "dynamodb:UpdateItem", table, nil, authz.ImplicitDeny},
		{"processor", "dynamodb:TransactWriteItems", table, nil, authz.ImplicitDeny},
		{"projector", "dynamodb:GetRecords", stream, nil, authz.Allow},
		{"projector", "dynamodb:ListStreams", table + "/stream/*", nil, authz.Allow},
		{"projector", "dynamodb:UpdateItem", table, nil, authz.Allow},
		{"projector", "dynamodb:PutItem", table, nil, authz.ImplicitDeny},
		{"projector", "events:PutEvents", bus, map[string][]string{"events:source": {"tracking-pipeline"}}, authz.Allow},
		{"projector", "events:PutEvents", bus, map[string][]string{"events:source": {"someone.else"}}, authz.ImplicitDeny},
		{"projector", "events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default", map[string][]string{"events:source": {"tracking-pipeline"}}, authz.ImplicitDeny},
		{"projector", "sqs:SendMessage", prefix + "-projector-dlq", nil, authz.Allow},
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

// TestResourcePoliciesAreTheModules: the key, queue and topic policies the
// provisioner puts on its stack are kms.tf's, sqs.tf's and alerts.tf's
// documents (for_each, count, dynamic statements and source documents
// rendered as Terraform does); read by the evaluator they grant and refuse
// what the module means.
func TestResourcePoliciesAreTheModules(t *testing.T) {
	t.Parallel()
	const (
		prefix   = "arn:aws:sqs:us-east-1:123456789012:tp"
		key      = "arn:aws:kms:us-east-1:123456789012:key/k1"
		topic    = "arn:aws:sns:us-east-1:123456789012:tp-alerts"
		rule     = "arn:aws:events:us-east-1:123456789012:rule/tp-alarm-state-change"
		producer = "arn:aws:iam::111122223333:role/label-printer"
		session  = "arn:aws:sts::111122223333:assumed-role/label-printer/s"
	)
	out := outputs.Stack{
		IngestQueueARN: prefix + "-ingest", IngestDLQARN: prefix + "-ingest-dlq", MaintenanceDLQARN: prefix + "-maintenance-dlq", AlertDLQARN: prefix + "-alert-dlq",
		KMSKeyARN: key, AlertTopicARN: topic, ProcessorFunctionName: "tp-processor", MaintenanceFunctionName: "tp-maintenance",
	}
	s := load(t)
	s.ProducerPrincipalARNs = []string{producer}
	p, err := newRolePolicies(s, inputs(t, s), out, "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit", "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit/stream/s", "arn:aws:sqs:us-east-1:123456789012:tp-projector-dlq")
	require.NoError(t, err)
	p.withRule("tp-alarm-state-change", rule)
	const deliveryAlarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:tp-alert-delivery"
	p.withAlarms(map[string]string{"alert_delivery": deliveryAlarm, "dlq_not_empty": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:tp-dlq-not-empty"})
	tls := func(secure bool) map[string][]string {
		return map[string][]string{"aws:SecureTransport": {map[bool]string{true: "true", false: "false"}[secure]}}
	}
	via := func(service string) map[string][]string {
		return map[string][]string{"kms:ViaService": {service + ".us-east-1.amazonaws.com"}, "aws:SourceAccount": {"123456789012"}}
	}
	// encrypting is the context of a service's key use for a resource
	// (account "": no aws:SourceAccount).
	encrypting := func(contextKey, arn, account string) map[string][]string {
		c := map[string][]string{"kms:EncryptionContext:" + contextKey: {arn}}
		if account != "" {
			c["aws:SourceAccount"] = []string{account}
		}
		return c
	}
	source := func(arn string) map[string][]string {
		return map[string][]string{"aws:SourceArn": {arn}, "aws:SourceAccount": {"123456789012"}, "aws:SecureTransport": {"true"}}
	}
	producerDoc, err := p.document("producer")
	require.NoError(t, err)
	producerPolicy, err := authz.Parse("producer", []byte(producerDoc))
	require.NoError(t, err)
	// The producer is of another account: it sends when both its own
	// policy (producer_policy_json) and the queue's and key's allow.
	tests := []struct {
		policy   string
		caller   authz.Caller
		action   string
		resource string
		context  map[string][]string
		want     authz.Effect
		identity bool // the caller attached producer_policy_json
	}{
		{"ingest", authz.Caller{ARN: session}, "sqs:SendMessage", prefix + "-ingest", tls(true), authz.Allow, true},
		{"ingest", authz.Caller{ARN: session}, "sqs:SendMessage", prefix + "-ingest", tls(true), authz.ImplicitDeny, false},
		{"ingest", authz.Caller{ARN: session}, "sqs:SendMessage", prefix + "-ingest", tls(false), authz.ExplicitDeny, false},
		{"ingest", authz.Caller{ARN: session}, "sqs:ReceiveMessage", prefix + "-ingest", tls(true), authz.ImplicitDeny, false},
		{`queue_tls_only["ingest_dlq"]`, authz.Caller{ARN: session}, "sqs:ReceiveMessage", prefix + "-ingest-dlq", tls(false), authz.ExplicitDeny, false},
		{`queue_tls_only["maintenance_dlq"]`, authz.Caller{ARN: session}, "sqs:GetQueueAttributes", prefix + "-maintenance-dlq", tls(false), authz.ExplicitDeny, false},
		{"kms", authz.Caller{ARN: session}, "kms:GenerateDataKey", key, via("sqs"), authz.Allow, true},
		{"kms", authz.Caller{ARN: session}, "kms:GenerateDataKey", key, via("sqs"), authz.ImplicitDeny, false},
		{"kms", authz.Caller{ARN: session}, "kms:GenerateDataKey", key, via("sns"), authz.ImplicitDeny, true},
		// SNS uses the key for EventBridge with the topic as its encryption
		// context and no aws:Source* keys (not supported there).
		{"kms", authz.Caller{Service: "events.amazonaws.com"}, "kms:GenerateDataKey", key, encrypting("aws:sns:topicArn", topic, ""), authz.Allow, false},
		{"kms", authz.Caller{Service: "events.amazonaws.com"}, "kms:GenerateDataKey", key, encrypting("aws:sns:topicArn", topic+"-other", ""), authz.ImplicitDeny, false},
		{"kms", authz.Caller{Service: "events.amazonaws.com"}, "kms:Decrypt", key, encrypting("aws:sqs:arn", prefix+"-alert-dlq", ""), authz.Allow, false},
		{"kms", authz.Caller{Service: "events.amazonaws.com"}, "kms:Decrypt", key, encrypting("aws:sqs:arn", prefix+"-ingest", ""), authz.ImplicitDeny, false},
		{"kms", authz.Caller{Service: "cloudwatch.amazonaws.com"}, "kms:GenerateDataKey", key, encrypting("aws:sns:topicArn", topic, "123456789012"), authz.Allow, false},
		{"kms", authz.Caller{Service: "cloudwatch.amazonaws.com"}, "kms:GenerateDataKey", key, encrypting("aws:sns:topicArn", topic, "111122223333"), authz.ImplicitDeny, false},
		{"kms", authz.Caller{Service: "cloudwatch.amazonaws.com"}, "kms:GenerateDataKey", key, via("sns"), authz.ImplicitDeny, false},
		{"alerts", authz.Caller{Service: "events.amazonaws.com"}, "sns:Publish", topic, map[string][]string{"aws:SourceArn": {rule}, "aws:SecureTransport": {"true"}}, authz.Allow, false},
		{"alerts", authz.Caller{Service: "events.amazonaws.com"}, "sns:Publish", topic, map[string][]string{"aws:SourceArn": {rule + "-other"}, "aws:SecureTransport": {"true"}}, authz.ImplicitDeny, false},
		{"alerts", authz.Caller{Service: "cloudwatch.amazonaws.com"}, "sns:Publish", topic, source(deliveryAlarm), authz.Allow, false},
		{"alerts", authz.Caller{Service: "cloudwatch.amazonaws.com"}, "sns:Publish", topic, source("arn:aws:cloudwatch:us-east-1:123456789012:alarm:tp-dlq-not-empty"), authz.ImplicitDeny, false},
		{"alert_dlq", authz.Caller{Service: "events.amazonaws.com"}, "sqs:SendMessage", prefix + "-alert-dlq", map[string][]string{"aws:SourceArn": {rule}, "aws:SecureTransport": {"true"}}, authz.Allow, false},
		{"alert_dlq", authz.Caller{Service: "events.amazonaws.com"}, "sqs:SendMessage", prefix + "-alert-dlq", map[string][]string{"aws:SourceArn": {rule + "-other"}, "aws:SecureTransport": {"true"}}, authz.ImplicitDeny, false},
		{"alert_dlq", authz.Caller{ARN: session}, "sqs:ReceiveMessage", prefix + "-alert-dlq", tls(false), authz.ExplicitDeny, false},
	}
	for _, tt := range tests {
		doc, err := p.document(tt.policy)
		require.NoError(t, err, tt.policy)
		pol, err := authz.Parse(tt.policy, []byte(doc))
		require.NoError(t, err)
		pols := authz.Policies{Resource: pol, KeyPolicy: tt.policy == "kms"}
		if tt.identity {
			pols.Identity = []*authz.Policy{producerPolicy}
		}
		got, err := authz.Evaluate(authz.Request{Caller: tt.caller, Action: tt.action, Resource: tt.resource, Context: tt.context}, pols)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got.Effect, "%s: %s %s on %s %v", tt.policy, tt.caller, tt.action, tt.resource, tt.context)
	}
	s.ProducerPrincipalARNs = []string{}
	p, err = newRolePolicies(s, inputs(t, s), out, "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit", "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit/stream/s", "arn:aws:sqs:us-east-1:123456789012:tp-projector-dlq")
	require.NoError(t, err)
	doc, err := p.document("ingest")
	require.NoError(t, err)
	assert.NotContains(t, doc, "ProducersSend", "no producers: no statement for them")
	assert.Contains(t, doc, "DenyInsecureTransport", "the TLS statement comes from the source document")
}
