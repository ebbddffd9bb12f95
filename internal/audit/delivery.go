package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A standard queue delivers a message at least once: again after its
// function failed to delete it or died with it in hand (Amazon SQS
// Developer Guide, "Amazon SQS at-least-once delivery"). A redelivery has
// the same message id. A written update knows its message id from its row;
// a message counted without a row (a duplicate, an invalid message) leaves
// a settled item under its message id, written in the same transaction as
// its count, so that a redelivery is never counted twice.

// Outcomes a settled item records.
const (
	settledDuplicate = "duplicate"
	settledInvalid   = "invalid"
)

// settledItem marks messageID as counted as outcome.
func (s *Store) settledItem(messageID, outcome string, now time.Time) map[string]types.AttributeValue {
	item := key(messagePK(messageID), skSettled)
	item[attrOutcome] = str(outcome)
	item[attrReceivedAt] = str(now.Format(timeLayout))
	item[AttrExpiresAt] = s.expiresAt(now)
	return item
}

// settleOnce writes messageID's settled item and adds counter to its day in
// one transaction. It reports false when the message was settled before (a
// redelivery): nothing is counted again.
func (s *Store) settleOnce(ctx context.Context, messageID, outcome, counter string, sentAt, now time.Time) (bool, error) {
	err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                &s.table,
			Item:                     s.settledItem(messageID, outcome, now),
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		{Update: s.countUpdate(sentAt, shardOf(messageID), map[string]int64{counter: 1})},
	}})
	switch {
	case err == nil:
		return true, nil
	case firstConditionFailed(err):
		return false, nil
	}
	return false, classify(fmt.Errorf("count %s message %s: %w", outcome, messageID, err))
}

// CountInvalid counts a message the processor parked in the DLQ, once per
// SQS message id; it reports false when a delivery before this one was
// counted (and parked) already.
func (s *Store) CountInvalid(ctx context.Context, sentAt time.Time, messageID string) (bool, error) {
	return s.settleOnce(ctx, messageID, settledInvalid, counterInvalid, sentAt, s.now().UTC())
}

// Parked reports whether an earlier delivery of messageID was parked in
// the DLQ and counted: a redelivery of it must not be parked again.
func (s *Store) Parked(ctx context.Context, messageID string) (bool, error) {
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      key(messagePK(messageID), skSettled),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#o"),
		ExpressionAttributeNames: map[string]string{"#o": attrOutcome},
	})
	if err != nil {
		return false, fmt.Errorf("read settled message %s: %w", messageID, err)
	}
	return stringAttr(got.Item, attrOutcome) == settledInvalid, nil
}
