package access

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeResources are queues (by URL) and topics (by ARN).
type fakeResources map[string]Resource

func (f fakeResources) get(id string) (Resource, error) {
	r, ok := f[id]
	if !ok {
		return Resource{}, errors.New("no such resource " + id)
	}
	return r, nil
}

func (f fakeResources) Queue(_ context.Context, u string) (Resource, error)   { return f.get(u) }
func (f fakeResources) Topic(_ context.Context, arn string) (Resource, error) { return f.get(arn) }
func (f fakeResources) Key(_ context.Context, id string) (Resource, error)    { return f.get(id) }

// TestCallsOfRequests: each request needs the actions the Service
// Authorization Reference names, on the resources it names, under their
// policies, and the key uses SQS and SNS make on the caller's behalf.
func TestCallsOfRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table := func(name string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + name }
	const (
		plainURL, plainARN    = "http://h/000000000000/plain", "arn:aws:sqs:us-east-1:000000000000:plain"
		sealedURL, sealedARN  = "http://h/000000000000/sealed", "arn:aws:sqs:us-east-1:000000000000:sealed"
		topicARN, keyID, qPol = "arn:aws:sns:us-east-1:000000000000:t", "key-1", `{"Statement":[]}`
		sqsVia, snsVia        = "sqs.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com"
	)
	res := fakeResources{
		plainURL:  {ARN: plainARN, Policy: qPol},
		sealedURL: {ARN: sealedARN, KeyID: keyID},
		topicARN:  {ARN: topicARN, KeyID: keyID},
	}
	sqsCall := func(op, body string) func() ([]call, error) {
		return func() ([]call, error) { return sqsCalls(ctx, op, []byte(body), res, "us-east-1") }
	}
	snsCall := func(query string) func() ([]call, error) {
		return func() ([]call, error) {
			form, err := url.ParseQuery(query)
			require.NoError(t, err)
			return snsCalls(ctx, form, res, "us-east-1")
		}
	}
	tests := []struct {
		name    string
		calls   func() ([]call, error)
		want    []call
		wantErr bool
	}{
		{"GetItem", func() ([]call, error) { return dynamoDBCalls("GetItem", []byte(`{"TableName":"t"}`), table) },
			[]call{{action: "dynamodb:GetItem", resource: table("t")}}, false},
		{"Query on an index", func() ([]call, error) {
			return dynamoDBCalls("Query", []byte(`{"TableName":"t","IndexName":"by_status"}`), table)
		}, []call{{action: "dynamodb:Query", resource: table("t") + "/index/by_status"}}, false},
		{"TransactWriteItems item by item", func() ([]call, error) {
			return dynamoDBCalls("TransactWriteItems", []byte(`{"TransactItems":[{"Put":{"TableName":"t"}},{"Update":{"TableName":"t"}},{"ConditionCheck":{"TableName":"u"}}]}`), table)
		}, []call{{action: "dynamodb:PutItem", resource: table("t")}, {action: "dynamodb:UpdateItem", resource: table("t")}, {action: "dynamodb:ConditionCheckItem", resource: table("u")}}, false},
		{"an unknown transaction item", func() ([]call, error) {
			return dynamoDBCalls("TransactWriteItems", []byte(`{"TransactItems":[{"Merge":{"TableName":"t"}}]}`), table)
		}, nil, true},
		{"ListTables", func() ([]call, error) { return dynamoDBCalls("ListTables", []byte(`{}`), table) },
			[]call{{action: "dynamodb:ListTables", resource: "*"}}, false},
		{"SendMessageBatch as SendMessage, under the queue's policy", sqsCall("SendMessageBatch", `{"QueueUrl":"`+plainURL+`"}`),
			[]call{{action: "sqs:SendMessage", resource: plainARN, policy: qPol}}, false},
		{"SendMessage to an encrypted queue: data key and decrypt through SQS", sqsCall("SendMessage", `{"QueueUrl":"`+sealedURL+`"}`),
			[]call{{action: "sqs:SendMessage", resource: sealedARN, key: &keyUse{keyID: keyID, actions: []string{"kms:GenerateDataKey", "kms:Decrypt"},
				viaService: sqsVia, context: map[string]string{"aws:sqs:arn": sealedARN}}}}, false},
		{"ReceiveMessage from an encrypted queue: decrypt", sqsCall("ReceiveMessage", `{"QueueUrl":"`+sealedURL+`"}`),
			[]call{{action: "sqs:ReceiveMessage", resource: sealedARN, key: &keyUse{keyID: keyID, actions: []string{"kms:Decrypt"},
				viaService: sqsVia, context: map[string]string{"aws:sqs:arn": sealedARN}}}}, false},
		{"DeleteMessageBatch on an encrypted queue: no key use", sqsCall("DeleteMessageBatch", `{"QueueUrl":"`+sealedURL+`"}`),
			[]call{{action: "sqs:DeleteMessage", resource: sealedARN}}, false},
		{"a queue that cannot be read", sqsCall("SendMessage", `{"QueueUrl":"http://h/000000000000/gone"}`), nil, true},
		{"not JSON", sqsCall("ReceiveMessage", `x`), nil, true},
		{"Publish to an encrypted topic", snsCall("Action=Publish&TopicArn=" + url.QueryEscape(topicARN)),
			[]call{{action: "sns:Publish", resource: topicARN, key: &keyUse{keyID: keyID, actions: []string{"kms:GenerateDataKey", "kms:Decrypt"},
				viaService: snsVia, context: map[string]string{"aws:sns:topicArn": topicARN}}}}, false},
		{"Subscribe: no key use", snsCall("Action=Subscribe&TopicArn=" + url.QueryEscape(topicARN)),
			[]call{{action: "sns:Subscribe", resource: topicARN}}, false},
		{"ListTopics", snsCall("Action=ListTopics"), []call{{action: "sns:ListTopics", resource: "*"}}, false},
	}
	for _, tt := range tests {
		got, err := tt.calls()
		if tt.wantErr {
			assert.Error(t, err, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, got, tt.name)
	}
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": Enforce, "enforce": Enforce, "log": Log, "off": Off} {
		got, err := ParseMode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseMode("permissive")
	assert.Error(t, err)
}
