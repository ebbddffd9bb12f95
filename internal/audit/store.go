package audit

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// ErrRejected marks a write DynamoDB refuses for its content (for example an
// item over 400 KB): retrying cannot help.
var ErrRejected = errors.New("audit store rejected the item")

// Result says what recording an update did.
type Result int

// Results of Store.Record.
const (
	Written     Result = iota + 1 // first delivery: the audit row was written
	Duplicate                     // same content seen before: nothing written
	Conflict                      // same event id, other content: recorded apart, first row kept
	Redelivered                   // this very SQS message was recorded before (its delete failed, or its function died): nothing written, nothing counted
)

func (r Result) String() string {
	switch r {
	case Written:
		return "written"
	case Duplicate:
		return "duplicate"
	case Conflict:
		return "conflict"
	case Redelivered:
		return "redelivered"
	}
	return "unknown"
}

// Entry is one delivery of a valid update.
type Entry struct {
	Update    contract.Update
	Payload   string    // the message body, verbatim
	MessageID string    // SQS message id of this delivery
	SentAt    time.Time // SQS SentTimestamp: names the stats day
}

// Store reads and writes the audit table.
type Store struct {
	db        DynamoDB
	table     string
	retention time.Duration
	now       func() time.Time
}

// NewStore returns a store on table whose items expire retentionDays after they are written.
func NewStore(db DynamoDB, table string, retentionDays int) *Store {
	return &Store{db: db, table: table, retention: time.Duration(retentionDays) * 24 * time.Hour, now: time.Now}
}
