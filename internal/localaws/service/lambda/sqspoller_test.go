package lambda

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKept: which messages of a delivered batch stay on the queue, as the
// Lambda Developer Guide's partial batch response rules say.
func TestKept(t *testing.T) {
	t.Parallel()
	batch := []sqstypes.Message{{MessageId: aws.String("a")}, {MessageId: aws.String("b")}, {MessageId: aws.String("c")}}
	all := map[string]bool{"a": true, "b": true, "c": true}
	none := map[string]bool{}
	tests := []struct {
		name          string
		functionError bool
		payload       string
		reports       bool
		want          map[string]bool
	}{
		{"a function error keeps the batch", true, `{"batchItemFailures":[]}`, true, all},
		{"a function error keeps the batch, without item failures too", true, ``, false, all},
		{"success without ReportBatchItemFailures deletes all", false, `{"batchItemFailures":[{"itemIdentifier":"a"}]}`, false, none},
		{"the failures listed stay", false, `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"c"}]}`, true, map[string]bool{"a": true, "c": true}},
		{"an empty list: complete success", false, `{"batchItemFailures":[]}`, true, none},
		{"a null list: complete success", false, `{"batchItemFailures":null}`, true, none},
		{"an empty response: complete success", false, `{}`, true, none},
		{"a null response: complete success", false, `null`, true, none},
		{"an unreadable response: complete failure", false, `{"batchItemFailures":`, true, all},
		{"an empty itemIdentifier: complete failure", false, `{"batchItemFailures":[{"itemIdentifier":""}]}`, true, all},
		{"a null itemIdentifier: complete failure", false, `{"batchItemFailures":[{"itemIdentifier":null}]}`, true, all},
		{"a misnamed key: complete failure", false, `{"batchItemFailures":[{"itemId":"a"}]}`, true, all},
		{"an id not of the batch: complete failure", false, `{"batchItemFailures":[{"itemIdentifier":"z"}]}`, true, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, kept(batch, tt.functionError, []byte(tt.payload), tt.reports))
		})
	}
}

// TestToRecord: an SQS message as the event's record (Lambda Developer
// Guide, "Using Lambda with Amazon SQS", example event).
func TestToRecord(t *testing.T) {
	t.Parallel()
	msg := sqstypes.Message{
		MessageId: aws.String("m1"), ReceiptHandle: aws.String("rh"), Body: aws.String(`{"k":1}`), MD5OfBody: aws.String("md5"),
		Attributes:        map[string]string{"ApproximateReceiveCount": "2"},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"trace": {DataType: aws.String("String"), StringValue: aws.String("t1")}},
	}
	rec := toRecord(msg, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")
	raw, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.JSONEq(t, `{"messageId":"m1","receiptHandle":"rh","body":"{\"k\":1}","md5OfBody":"md5","md5OfMessageAttributes":"",
		"attributes":{"ApproximateReceiveCount":"2"},
		"messageAttributes":{"trace":{"stringValue":"t1","stringListValues":null,"binaryListValues":null,"dataType":"String"}},
		"eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:q","eventSource":"aws:sqs","awsRegion":"us-east-1"}`, string(raw))
}

// TestMappingSettings: an update changes only what it names, and the
// description shows the settings Lambda returns (CreateEventSourceMapping,
// UpdateEventSourceMapping, GetEventSourceMapping).
func TestMappingSettings(t *testing.T) {
	t.Parallel()
	m := &mapping{UUID: "u1", BatchSize: 10, Enabled: true}
	m.apply(mappingRequest{
		FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:tp-processor"), MaximumBatchingWindowInSeconds: aws.Int(5),
		FunctionResponseTypes: []string{"ReportBatchItemFailures"}, ScalingConfig: &struct{ MaximumConcurrency int }{20},
	})
	assert.Equal(t, "tp-processor", m.FunctionName, "a function ARN is stored as its name")
	assert.Equal(t, 10, m.BatchSize, "not in the update: unchanged")
	assert.True(t, m.reportsItemFailures())
	m.apply(mappingRequest{Enabled: aws.Bool(false)})
	doc := m.document([]byte(`{"UUID":"kumo","EventSourceArn":"arn:aws:sqs:us-east-1:000000000000:q"}`))
	assert.Equal(t, map[string]any{
		"UUID": "u1", "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q", "BatchSize": 10, "MaximumBatchingWindowInSeconds": 5,
		"FunctionResponseTypes": []string{"ReportBatchItemFailures"}, "ScalingConfig": map[string]int{"MaximumConcurrency": 20}, "State": "Disabled",
	}, doc)
}
