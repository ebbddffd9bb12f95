package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// settleExisting decides, for each entry whose row exists, whether it is a
// duplicate (same payload hash) or a conflict, and counts the duplicates
// with one write per day.
func (s *Store) settleExisting(ctx context.Context, entries []Entry, existing []int, now time.Time, out []Recorded) {
	dups := map[string][]int{}
	for _, i := range existing {
		e := entries[i]
		u := e.Update
		hash, err := s.payloadHash(ctx, u.TrackingID, u.EventID)
		if err != nil {
			out[i] = Recorded{Err: classify(err)}
			continue
		}
		if hash != u.PayloadHash {
			r, err := s.recordConflict(ctx, e, hash, now)
			out[i] = Recorded{Result: r, Err: err}
			continue
		}
		day := e.SentAt.UTC().Format(DayLayout)
		dups[day] = append(dups[day], i)
	}
	for _, idx := range dups {
		// A redelivery: the transaction that wrote the row also counted it
		// and moved the latest status, so only the duplicate is counted.
		day := entries[idx[0]].SentAt
		err := s.update(ctx, updateInput(s.countUpdate(day, rand.IntN(StatsShards), map[string]int64{counterDuplicates: int64(len(idx))}))) //nolint:gosec // spreading, not security
		if err != nil {
			err = classify(fmt.Errorf("count %d duplicates of %s: %w", len(idx), day.UTC().Format(DayLayout), err))
		}
		for _, i := range idx {
			out[i] = Recorded{Result: Duplicate, Err: err}
		}
	}
}

// payloadHash reads the payload hash of an existing audit row. (DynamoDB can
// return it with the cancelled write, ReturnValuesOnConditionCheckFailure
// ALL_OLD, but kumo does not: see internal/localaws/README.md's gap table.)
func (s *Store) payloadHash(ctx context.Context, trackingID, eventID string) (string, error) {
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      key(trackPK(trackingID), eventSK(eventID)),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#hash"),
		ExpressionAttributeNames: map[string]string{"#hash": attrPayloadHash},
	})
	if err != nil {
		return "", fmt.Errorf("read audit row %s/%s: %w", trackingID, eventID, err)
	}
	return stringAttr(got.Item, attrPayloadHash), nil
}

// recordConflict keeps one record per distinct conflicting content and
// counts it once; a redelivery of a recorded conflict is a duplicate.
func (s *Store) recordConflict(ctx context.Context, e Entry, originalHash string, now time.Time) (Result, error) {
	u := e.Update
	shard := shardOf(u.TrackingID)
	err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                &s.table,
			Item:                     s.conflictItem(e, originalHash, now),
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		{Update: s.countUpdate(e.SentAt, shard, map[string]int64{counterConflicts: 1})},
	}})
	switch {
	case err == nil:
		return Conflict, nil
	case !firstConditionFailed(err):
		return 0, classify(fmt.Errorf("record conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	}
	if err := s.update(ctx, updateInput(s.countUpdate(e.SentAt, shard, map[string]int64{counterDuplicates: 1}))); err != nil {
		return Duplicate, classify(fmt.Errorf("count duplicate conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	}
	return Duplicate, nil
}
