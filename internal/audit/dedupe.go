package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// settleExisting decides, for each entry whose row exists, whether it is a
// redelivery of the message that wrote the row (nothing to do), a
// duplicate (same payload hash, another message) or a conflict, and counts
// duplicates and conflicts once per message.
func (s *Store) settleExisting(ctx context.Context, entries []Entry, existing []int, now time.Time, out []Recorded) {
	for _, i := range existing {
		e := entries[i]
		u := e.Update
		stored, err := s.stored(ctx, key(trackPK(u.TrackingID), eventSK(u.EventID)))
		switch {
		case err != nil:
			out[i] = Recorded{Err: classify(fmt.Errorf("read audit row %s/%s: %w", u.TrackingID, u.EventID, err))}
		case stored.messageID == e.MessageID:
			// The transaction that wrote the row counted it and moved the
			// latest status: SQS delivered the message again.
			out[i] = Recorded{Result: Redelivered}
		case stored.hash != u.PayloadHash:
			r, err := s.recordConflict(ctx, e, stored.hash, now)
			out[i] = Recorded{Result: r, Err: err}
		default:
			out[i] = s.countDuplicate(ctx, e, now)
		}
	}
}

// storedItem is what settling a delivery reads of an item already written.
type storedItem struct {
	hash, messageID string
}

// stored reads the payload hash and the message id of an audit row or a
// conflict record. (DynamoDB can return them with the cancelled write,
// ReturnValuesOnConditionCheckFailure ALL_OLD, but kumo does not: see
// internal/localaws/README.md's gap table.)
func (s *Store) stored(ctx context.Context, k map[string]types.AttributeValue) (storedItem, error) {
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      k,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#hash, #msg"),
		ExpressionAttributeNames: map[string]string{"#hash": attrPayloadHash, "#msg": attrMessageID},
	})
	if err != nil {
		return storedItem{}, err //nolint:wrapcheck // callers say which item
	}
	return storedItem{hash: stringAttr(got.Item, attrPayloadHash), messageID: stringAttr(got.Item, attrMessageID)}, nil
}

// countDuplicate counts e, a resend of a written update, once per message.
func (s *Store) countDuplicate(ctx context.Context, e Entry, now time.Time) Recorded {
	first, err := s.settleOnce(ctx, e.MessageID, settledDuplicate, counterDuplicates, e.SentAt, now)
	switch {
	case err != nil:
		return Recorded{Err: err}
	case !first:
		return Recorded{Result: Redelivered}
	}
	return Recorded{Result: Duplicate}
}

// recordConflict keeps one record per distinct conflicting content and
// counts it once; another message with a recorded conflict's content is its
// duplicate, the same message again a redelivery.
func (s *Store) recordConflict(ctx context.Context, e Entry, originalHash string, now time.Time) (Result, error) {
	u := e.Update
	err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                &s.table,
			Item:                     s.conflictItem(e, originalHash, now),
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		{Update: s.countUpdate(e.SentAt, shardOf(u.TrackingID), map[string]int64{counterConflicts: 1})},
	}})
	switch {
	case err == nil:
		return Conflict, nil
	case !firstConditionFailed(err):
		return 0, classify(fmt.Errorf("record conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	}
	stored, err := s.stored(ctx, key(trackPK(u.TrackingID), conflictSK(u.EventID, u.PayloadHash)))
	switch {
	case err != nil:
		return 0, classify(fmt.Errorf("read conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	case stored.messageID == e.MessageID:
		return Redelivered, nil
	}
	r := s.countDuplicate(ctx, e, now)
	return r.Result, r.Err
}
