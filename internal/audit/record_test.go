package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// scriptedDB answers TransactWriteItems from a script of errors (nil
// succeeds), then succeeds, and keeps what it was asked.
type scriptedDB struct {
	audit.DynamoDB
	txErrs   []error
	txCalls  int
	txs      [][]types.TransactWriteItem
	getCalls int
}

func (d *scriptedDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.txCalls++
	d.txs = append(d.txs, in.TransactItems)
	if len(d.txErrs) > 0 {
		err := d.txErrs[0]
		d.txErrs = d.txErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (d *scriptedDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}

func (d *scriptedDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	d.getCalls++
	return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"payload_hash": &types.AttributeValueMemberS{Value: "other"}}}, nil
}

func cancelled(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return &types.TransactionCanceledException{Message: aws.String("cancelled"), CancellationReasons: reasons}
}

// A single update's transaction is [row, latest status, day counter].
func TestRecordTransactionOutcomes(t *testing.T) {
	t.Parallel()
	validation := &smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}
	tests := []struct {
		name         string
		errs         []error
		want         audit.Result
		wantErr      bool
		wantRejected bool
		wantTx       []int // items of each transaction (a conflict is recorded in one of its own)
		wantReads    int
	}{
		{"conflicts on the day counter are retried", []error{cancelled("None", "None", "TransactionConflict"), cancelled("None", "None", "TransactionConflict")}, audit.Written, false, false, []int{3, 3, 3}, 0},
		{"a plain conflict exception is retried", []error{&types.TransactionConflictException{Message: aws.String("busy")}}, audit.Written, false, false, []int{3, 3}, 0},
		{"a later latest status: row and count written without it", []error{cancelled("None", "ConditionalCheckFailed", "None")}, audit.Written, false, false, []int{3, 2}, 0},
		{"an existing row is not retried", []error{cancelled("ConditionalCheckFailed", "None", "TransactionConflict")}, audit.Conflict, false, false, []int{3, 2}, 1},
		{"endless conflicts become a transient error", []error{
			cancelled("None", "None", "TransactionConflict"), cancelled("None", "None", "TransactionConflict"), cancelled("None", "None", "TransactionConflict"),
			cancelled("None", "None", "TransactionConflict"), cancelled("None", "None", "TransactionConflict"), cancelled("None", "None", "TransactionConflict"),
		}, 0, true, false, []int{3, 3, 3, 3, 3, 3}, 0},
		{"throttling is left to SQS", []error{cancelled("None", "ThrottlingError", "None")}, 0, true, false, []int{3}, 0},
		{"a row DynamoDB refuses is rejected", []error{cancelled("ValidationError", "None", "None")}, 0, true, true, []int{3}, 0},
		{"a request DynamoDB refuses is rejected", []error{validation}, 0, true, true, []int{3}, 0},
		{"a cancellation without a reason is not retried", []error{cancelled("None", "None", "None")}, 0, true, false, []int{3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &scriptedDB{txErrs: tt.errs}
			got, err := audit.NewStore(db, "t", 30).Record(context.Background(), entry(t, "m1",
				`{"tracking_id":"T1","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`))
			if tt.wantErr {
				require.Error(t, err)
				assert.Equal(t, tt.wantRejected, errors.Is(err, audit.ErrRejected), "rejected (permanent) or transient: %v", err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			var sizes []int
			for _, tx := range db.txs[:len(tt.wantTx)] {
				sizes = append(sizes, len(tx))
			}
			assert.Equal(t, tt.wantTx, sizes)
			assert.Equal(t, len(tt.wantTx), db.txCalls)
			assert.Equal(t, tt.wantReads, db.getCalls)
		})
	}
}

func TestRecordBatchTransactions(t *testing.T) {
	t.Parallel()
	body := func(tid, eid, status, at string) string {
		return fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":%q}`, tid, eid, status, at)
	}
	var batch []audit.Entry
	for i, b := range []string{
		body("T1", "e2", "DELIVERED", "2026-11-25T14:00:00Z"),
		body("T2", "e1", "IN_TRANSIT", "2026-11-25T09:00:00Z"),
		body("T1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z"),
	} {
		batch = append(batch, entry(t, fmt.Sprint("m", i), b))
	}

	t.Run("one transaction: rows, the newest latest status per tracking id, one counter update", func(t *testing.T) {
		t.Parallel()
		db := &scriptedDB{}
		got := audit.NewStore(db, "t", 30).RecordBatch(context.Background(), batch)
		assert.Equal(t, []audit.Recorded{{Result: audit.Written}, {Result: audit.Written}, {Result: audit.Written}}, got)
		require.Len(t, db.txs, 1)
		tx := db.txs[0]
		require.Len(t, tx, 6)
		for i := range 3 {
			require.NotNil(t, tx[i].Put, "item %d", i)
		}
		latest := map[string]string{}
		for _, it := range tx[3:5] {
			require.NotNil(t, it.Update)
			latest[attr(it.Update.Key["pk"])] = attr(it.Update.ExpressionAttributeValues[":id"])
		}
		assert.Equal(t, map[string]string{"TRK#T1": "e2", "TRK#T2": "e1"}, latest, "one latest update per tracking id, the newest event")
		counts := tx[5].Update
		require.NotNil(t, counts)
		added := map[string]string{}
		for ref, name := range counts.ExpressionAttributeNames {
			added[name] = num(counts.ExpressionAttributeValues[":n"+strings.TrimPrefix(ref, "#c")])
		}
		assert.Equal(t, map[string]string{"total": "3", "status_DELIVERED": "1", "status_IN_TRANSIT": "2"}, added)
	})

	t.Run("a refused request is split to find the refused row", func(t *testing.T) {
		t.Parallel()
		validation := &smithy.GenericAPIError{Code: "ValidationException", Message: "too large"}
		db := &scriptedDB{txErrs: []error{validation, nil, validation, nil}}
		got := audit.NewStore(db, "t", 30).RecordBatch(context.Background(), batch)
		assert.Equal(t, audit.Written, got[0].Result)
		require.NoError(t, got[0].Err)
		require.ErrorIs(t, got[1].Err, audit.ErrRejected)
		assert.Equal(t, audit.Written, got[2].Result)
		require.NoError(t, got[2].Err)
		assert.Equal(t, 4, db.txCalls)
	})

	t.Run("existing rows leave the transaction, the rest is written", func(t *testing.T) {
		t.Parallel()
		// Rows, then latest T1 and T2, then the counter.
		db := &scriptedDB{txErrs: []error{cancelled("None", "ConditionalCheckFailed", "None", "None", "None", "None")}}
		got := audit.NewStore(db, "t", 30).RecordBatch(context.Background(), batch)
		assert.Equal(t, audit.Written, got[0].Result)
		assert.Equal(t, audit.Conflict, got[1].Result, "scriptedDB's stored row has another hash")
		assert.Equal(t, audit.Written, got[2].Result)
		require.Len(t, db.txs, 3, "the batch, the batch without the existing row, the conflict record")
		assert.Len(t, db.txs[1], 4, "two rows, T1's latest status, the counter")
	})
}

func attr(v types.AttributeValue) string {
	s, _ := v.(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}

func num(v types.AttributeValue) string {
	n, _ := v.(*types.AttributeValueMemberN)
	if n == nil {
		return ""
	}
	return n.Value
}
