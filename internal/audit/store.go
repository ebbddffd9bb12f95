package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// ErrRejected marks a write DynamoDB refuses for its content (for example an
// item over 400 KB): retrying cannot help.
var ErrRejected = errors.New("audit store rejected the item")

// Result says what recording an update did.
type Result int

// Results of Store.Record.
const (
	Written   Result = iota + 1 // first delivery: the audit row was written
	Duplicate                   // same content seen before: nothing written
	Conflict                    // same event id, other content: recorded apart, first row kept
)

func (r Result) String() string {
	switch r {
	case Written:
		return "written"
	case Duplicate:
		return "duplicate"
	case Conflict:
		return "conflict"
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

// Record writes e's audit row once per (tracking id, event id), counts it in
// its day's stats and moves the latest status forward, all in one
// transaction, so a retry after any failure finds either nothing or all of
// it done. Calling it again with the same entry is a counted duplicate.
func (s *Store) Record(ctx context.Context, e Entry) (Result, error) {
	r := s.RecordBatch(ctx, []Entry{e})[0]
	return r.Result, r.Err
}

// row is e's audit row, received now.
func (s *Store) row(e Entry, now time.Time) map[string]types.AttributeValue {
	u := e.Update
	row := map[string]types.AttributeValue{
		AttrPK:             str(trackPK(u.TrackingID)),
		AttrSK:             str(eventSK(u.EventID)),
		AttrEventTS:        str(u.EventTimeKey() + "#" + u.EventID),
		"tracking_id":      str(u.TrackingID),
		"event_id":         str(u.EventID),
		"event_id_derived": &types.AttributeValueMemberBOOL{Value: u.EventIDDerived},
		"status":           str(u.Status),
		"event_time":       str(u.EventTimeKey()),
		"payload":          str(e.Payload),
		"payload_hash":     str(u.PayloadHash),
		"message_id":       str(e.MessageID),
		"received_at":      str(now.Format(time.RFC3339Nano)),
		"sent_at":          str(e.SentAt.UTC().Format(time.RFC3339Nano)),
		AttrExpiresAt:      s.expiresAt(now),
	}
	if u.Carrier != "" {
		row["carrier"] = str(u.Carrier)
	}
	if len(u.Extra) > 0 {
		names := make([]string, 0, len(u.Extra))
		for name := range u.Extra {
			names = append(names, name)
		}
		sort.Strings(names)
		row["extra_fields"] = &types.AttributeValueMemberSS{Value: names}
	}
	return row
}

// recordConflict keeps one record per distinct conflicting content and
// counts it once; a redelivery of a recorded conflict is a duplicate.
func (s *Store) recordConflict(ctx context.Context, e Entry, originalHash string, now time.Time) (Result, error) {
	u := e.Update
	err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: &s.table,
			Item: map[string]types.AttributeValue{
				AttrPK:                  str(trackPK(u.TrackingID)),
				AttrSK:                  str(conflictSK(u.EventID, u.PayloadHash)),
				"tracking_id":           str(u.TrackingID),
				"event_id":              str(u.EventID),
				"status":                str(u.Status),
				"event_time":            str(u.EventTimeKey()),
				"payload":               str(e.Payload),
				"payload_hash":          str(u.PayloadHash),
				"original_payload_hash": str(originalHash),
				"message_id":            str(e.MessageID),
				"received_at":           str(now.Format(time.RFC3339Nano)),
				AttrExpiresAt:           s.expiresAt(now),
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}},
		{Update: s.countUpdate(e.SentAt, shardOf(u.TrackingID), map[string]int64{"conflicts": 1})},
	}})
	switch {
	case err == nil:
		return Conflict, nil
	case !firstConditionFailed(err):
		return 0, classify(fmt.Errorf("record conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	}
	if err := s.update(ctx, updateInput(s.countUpdate(e.SentAt, shardOf(u.TrackingID), map[string]int64{"duplicates": 1}))); err != nil {
		return Duplicate, classify(fmt.Errorf("count duplicate conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	}
	return Duplicate, nil
}

// latestUpdate moves the latest status to e unless a later event holds it.
// Events are ordered by event time, then event id, so the order is total.
func (s *Store) latestUpdate(e Entry, now time.Time) *types.Update {
	u := e.Update
	order := u.EventTimeKey() + "#" + u.EventID
	return &types.Update{
		TableName:           &s.table,
		Key:                 key(trackPK(u.TrackingID), skLatest),
		UpdateExpression:    aws.String("SET #status = :status, event_time = :time, event_id = :id, latest_order = :order, message_id = :msg, updated_at = :now, tracking_id = :tid, expires_at = :exp"),
		ConditionExpression: aws.String("attribute_not_exists(pk) OR latest_order < :order"),
		ExpressionAttributeNames: map[string]string{
			"#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(u.Status),
			":time":   str(u.EventTimeKey()),
			":id":     str(u.EventID),
			":order":  str(order),
			":msg":    str(e.MessageID),
			":now":    str(now.Format(time.RFC3339Nano)),
			":tid":    str(u.TrackingID),
			":exp":    s.expiresAt(now),
		},
	}
}

// CountInvalid counts a rejected message in its day's stats; key spreads the writes.
func (s *Store) CountInvalid(ctx context.Context, sentAt time.Time, key string) error {
	if err := s.update(ctx, updateInput(s.countUpdate(sentAt, shardOf(key), map[string]int64{"invalid": 1}))); err != nil {
		return fmt.Errorf("count invalid message: %w", err)
	}
	return nil
}

// countUpdate adds counts to the counters of one write shard of a day.
func (s *Store) countUpdate(day time.Time, shard int, counts map[string]int64) *types.Update {
	counters := make([]string, 0, len(counts))
	for c := range counts {
		counters = append(counters, c)
	}
	sort.Strings(counters) // one expression per set of counters, whatever the map order
	names := make(map[string]string, len(counters))
	values := map[string]types.AttributeValue{
		":exp": s.expiresAt(day.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)),
	}
	var expr strings.Builder
	expr.WriteString("SET expires_at = if_not_exists(expires_at, :exp) ADD ")
	for i, c := range counters {
		ref := strconv.Itoa(i)
		names["#c"+ref] = c
		values[":n"+ref] = &types.AttributeValueMemberN{Value: strconv.FormatInt(counts[c], 10)}
		if i > 0 {
			expr.WriteString(", ")
		}
		expr.WriteString("#c" + ref + " :n" + ref)
	}
	return &types.Update{
		TableName:                 &s.table,
		Key:                       key(DayPK(day, shard), skCounts),
		UpdateExpression:          aws.String(expr.String()),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

func updateInput(u *types.Update) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                 u.TableName,
		Key:                       u.Key,
		UpdateExpression:          u.UpdateExpression,
		ConditionExpression:       u.ConditionExpression,
		ExpressionAttributeNames:  u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues,
	}
}

func (s *Store) expiresAt(from time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(from.Add(s.retention).Unix(), 10)}
}

// firstConditionFailed reports whether a transaction was cancelled because
// the condition of its first item failed, or a plain write's condition failed.
func firstConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) == 0 {
		return false
	}
	return aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed"
}

// classify marks errors that no retry can fix with ErrRejected.
func classify(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException" {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
