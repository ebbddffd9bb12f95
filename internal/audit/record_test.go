package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// scriptedDB answers PutItem from a script (nil succeeds), then succeeds,
// and keeps the sort keys it was asked to write.
type scriptedDB struct {
	audit.DynamoDB
	mu       sync.Mutex
	script   []error
	puts     []string
	inFlight int
	peak     int
}

func (d *scriptedDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	d.mu.Lock()
	d.puts = append(d.puts, attr(in.Item["sk"]))
	d.inFlight++
	d.peak = max(d.peak, d.inFlight)
	var err error
	if len(d.script) > 0 {
		err, d.script = d.script[0], d.script[1:]
	}
	d.mu.Unlock()
	defer func() { d.mu.Lock(); d.inFlight--; d.mu.Unlock() }()
	return &dynamodb.PutItemOutput{}, err
}

// exists is DynamoDB's refusal of a conditional put, with the item it found
// (ReturnValuesOnConditionCheckFailure ALL_OLD).
func exists(messageID, hash string) error {
	return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: map[string]types.AttributeValue{
		audit.AttrMessageID: &types.AttributeValueMemberS{Value: messageID}, audit.AttrPayloadHash: &types.AttributeValueMemberS{Value: hash},
	}}
}

// A single update is one conditional PutItem of its row; what the refused
// write returns decides the rest.
func TestRecordOutcomes(t *testing.T) {
	t.Parallel()
	e := entry(t, "m1", `{"tracking_id":"T1","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`)
	hash := e.Update.PayloadHash
	validation := &smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}
	tests := []struct {
		name         string
		script       []error
		want         audit.Result
		wantErr      bool
		wantRejected bool
		wantPuts     []string // the kinds written, in order
	}{
		{"a new row", nil, audit.Written, false, false, []string{"EVT"}},
		{"the row is this message's: a redelivery", []error{exists("m1", hash)}, audit.Redelivered, false, false, []string{"EVT"}},
		{"same content, another message: a duplicate, settled once", []error{exists("m0", hash)}, audit.Duplicate, false, false, []string{"EVT", "SETTLED"}},
		{"a duplicate settled before: a redelivery", []error{exists("m0", hash), exists("", "")}, audit.Redelivered, false, false, []string{"EVT", "SETTLED"}},
		{"other content: a conflict, recorded apart", []error{exists("m0", "other")}, audit.Conflict, false, false, []string{"EVT", "CONFLICT"}},
		{"a conflict recorded by this message: a redelivery", []error{exists("m0", "other"), exists("m1", hash)}, audit.Redelivered, false, false, []string{"EVT", "CONFLICT"}},
		{"a conflict recorded by another message: its duplicate", []error{exists("m0", "other"), exists("m9", hash)}, audit.Duplicate, false, false, []string{"EVT", "CONFLICT", "SETTLED"}},
		{"a refusal without the item is left to SQS", []error{&types.ConditionalCheckFailedException{Message: aws.String("no item")}}, 0, true, false, []string{"EVT"}},
		{"throttling is left to SQS", []error{&types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}}, 0, true, false, []string{"EVT"}},
		{"a row DynamoDB refuses is rejected", []error{validation}, 0, true, true, []string{"EVT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &scriptedDB{script: tt.script}
			got, err := audit.NewStore(db, "t", 30).Record(context.Background(), e)
			if tt.wantErr {
				require.Error(t, err)
				assert.Equal(t, tt.wantRejected, errors.Is(err, audit.ErrRejected), "rejected (permanent) or transient: %v", err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			var kinds []string
			for _, sk := range db.puts {
				kind, _, _ := strings.Cut(sk, "#")
				kinds = append(kinds, kind)
			}
			assert.Equal(t, tt.wantPuts, kinds)
		})
	}
}

func TestRecordBatchWritesSideBySide(t *testing.T) {
	t.Parallel()
	body := func(tid, eid, status string) string {
		return fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":"2026-11-25T14:00:00Z"}`, tid, eid, status)
	}
	var batch []audit.Entry
	for i := range 30 {
		batch = append(batch, entry(t, fmt.Sprint("m", i), body(fmt.Sprint("T", i), "e1", "IN_TRANSIT")))
	}
	t.Run("at most MaxBatchWrites at once", func(t *testing.T) {
		t.Parallel()
		db := &scriptedDB{}
		for _, r := range audit.NewStore(db, "t", 30).RecordBatch(context.Background(), batch) {
			require.NoError(t, r.Err)
			assert.Equal(t, audit.Written, r.Result)
		}
		assert.Len(t, db.puts, 30)
		assert.LessOrEqual(t, db.peak, audit.MaxBatchWrites)
	})
	t.Run("one event's deliveries in their order", func(t *testing.T) {
		t.Parallel()
		same := []audit.Entry{
			entry(t, "a", body("C1", "e1", "IN_TRANSIT")),
			entry(t, "b", body("C1", "e1", "DELIVERED")),
			entry(t, "c", body("C1", "e1", "IN_TRANSIT")),
		}
		hash := same[0].Update.PayloadHash
		// The first writes the row; the second finds it (other content);
		// the third finds it (same content, another message).
		db := &scriptedDB{script: []error{nil, exists("a", hash), nil, exists("a", hash), nil}}
		got := audit.NewStore(db, "t", 30).RecordBatch(context.Background(), same)
		assert.Equal(t, []audit.Recorded{{Result: audit.Written}, {Result: audit.Conflict}, {Result: audit.Duplicate}}, got)
	})
}

func attr(v types.AttributeValue) string {
	s, _ := v.(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}
