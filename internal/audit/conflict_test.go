package audit_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// scriptedDB answers TransactWriteItems from a script of errors, then succeeds.
type scriptedDB struct {
	audit.DynamoDB
	txErrs   []error
	txCalls  int
	getCalls int
}

func (d *scriptedDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.txCalls++
	if len(d.txErrs) > 0 {
		err := d.txErrs[0]
		d.txErrs = d.txErrs[1:]
		return nil, err
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

func TestRecordTransactionOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		errs      []error
		want      audit.Result
		wantErr   bool
		wantTx    int
		wantReads int
	}{
		{"conflicts on the day counter are retried", []error{cancelled("None", "TransactionConflict"), cancelled("None", "TransactionConflict")}, audit.Written, false, 3, 0},
		{"a plain conflict exception is retried", []error{&types.TransactionConflictException{Message: aws.String("busy")}}, audit.Written, false, 2, 0},
		{"a later latest status: row and count written without it", []error{cancelled("None", "None", "ConditionalCheckFailed")}, audit.Written, false, 2, 0},
		{"an existing row is not retried", []error{cancelled("ConditionalCheckFailed", "TransactionConflict")}, audit.Conflict, false, 2, 1},
		{"endless conflicts become a transient error", []error{
			cancelled("TransactionConflict", "None"), cancelled("TransactionConflict", "None"), cancelled("TransactionConflict", "None"),
			cancelled("TransactionConflict", "None"), cancelled("TransactionConflict", "None"), cancelled("TransactionConflict", "None"),
		}, 0, true, 6, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &scriptedDB{txErrs: tt.errs}
			got, err := audit.NewStore(db, "t", 30).Record(context.Background(), entry(t, "m1",
				`{"tracking_id":"T1","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`))
			if tt.wantErr {
				require.Error(t, err)
				assert.NotErrorIs(t, err, audit.ErrRejected, "a conflict is transient")
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, tt.wantTx, db.txCalls)
			assert.Equal(t, tt.wantReads, db.getCalls)
		})
	}
}
