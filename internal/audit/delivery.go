package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A standard queue delivers a message at least once: again after its
// function failed to delete it or died with it in hand (Amazon SQS
// Developer Guide, "Amazon SQS at-least-once delivery"). A redelivery has
// the same message id. A written update knows its message id from its row
// (or conflict record); a message counted without one (a duplicate, an
// invalid message) leaves a settled item under its message id, which the
// projector counts once from the stream, so that a redelivery is never
// counted twice.

// Outcomes a settled item records.
const (
	SettledDuplicate = "duplicate"
	SettledInvalid   = "invalid"
)

// settleOnce writes messageID's settled item. It reports false when the
// message was settled before (a redelivery): nothing is counted again.
func (s *Store) settleOnce(ctx context.Context, messageID, outcome string, sentAt, now time.Time) (bool, error) {
	old, err := s.putNew(ctx, s.settledItem(messageID, outcome, sentAt, now))
	if err != nil {
		return false, classify(fmt.Errorf("settle %s message %s: %w", outcome, messageID, err))
	}
	return old == nil, nil
}

// CountInvalid counts a message the processor parked in the DLQ, once per
// SQS message id; it reports false when a delivery before this one was
// counted (and parked) already.
func (s *Store) CountInvalid(ctx context.Context, sentAt time.Time, messageID string) (bool, error) {
	return s.settleOnce(ctx, messageID, SettledInvalid, sentAt, s.now().UTC())
}

// Parked reports whether an earlier delivery of messageID was parked in
// the DLQ and counted: a redelivery of it must not be parked again.
func (s *Store) Parked(ctx context.Context, messageID string) (bool, error) {
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      key(messagePK(messageID), skSettled),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#o"),
		ExpressionAttributeNames: map[string]string{"#o": AttrOutcome},
	})
	if err != nil {
		return false, fmt.Errorf("read settled message %s: %w", messageID, err)
	}
	return stringAttr(got.Item, AttrOutcome) == SettledInvalid, nil
}
