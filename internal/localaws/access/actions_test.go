package access

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallsOfRequests: each request needs the actions the Service
// Authorization Reference names, on the resources it names.
func TestCallsOfRequests(t *testing.T) {
	t.Parallel()
	table := func(name string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + name }
	queue := func(u string) (string, error) { return "arn:aws:sqs:us-east-1:000000000000:" + u[len(u)-1:], nil }
	tests := []struct {
		name    string
		calls   func() ([]call, error)
		want    []call
		wantErr bool
	}{
		{"GetItem", func() ([]call, error) { return dynamoDBCalls("GetItem", []byte(`{"TableName":"t"}`), table) },
			[]call{{"dynamodb:GetItem", table("t")}}, false},
		{"Query on an index", func() ([]call, error) {
			return dynamoDBCalls("Query", []byte(`{"TableName":"t","IndexName":"by_status"}`), table)
		}, []call{{"dynamodb:Query", table("t") + "/index/by_status"}}, false},
		{"TransactWriteItems item by item", func() ([]call, error) {
			return dynamoDBCalls("TransactWriteItems", []byte(`{"TransactItems":[{"Put":{"TableName":"t"}},{"Update":{"TableName":"t"}},{"ConditionCheck":{"TableName":"u"}}]}`), table)
		}, []call{{"dynamodb:PutItem", table("t")}, {"dynamodb:UpdateItem", table("t")}, {"dynamodb:ConditionCheckItem", table("u")}}, false},
		{"an unknown transaction item", func() ([]call, error) {
			return dynamoDBCalls("TransactWriteItems", []byte(`{"TransactItems":[{"Merge":{"TableName":"t"}}]}`), table)
		}, nil, true},
		{"ListTables", func() ([]call, error) { return dynamoDBCalls("ListTables", []byte(`{}`), table) },
			[]call{{"dynamodb:ListTables", "*"}}, false},
		{"SendMessageBatch as SendMessage", func() ([]call, error) {
			return sqsCalls("SendMessageBatch", []byte(`{"QueueUrl":"http://h/000000000000/q"}`), queue)
		}, []call{{"sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:q"}}, false},
		{"not JSON", func() ([]call, error) { return sqsCalls("ReceiveMessage", []byte(`x`), queue) }, nil, true},
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
	form, err := url.ParseQuery("Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3At")
	require.NoError(t, err)
	assert.Equal(t, []call{{"sns:Publish", "arn:aws:sns:us-east-1:000000000000:t"}}, snsCalls(form))
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
