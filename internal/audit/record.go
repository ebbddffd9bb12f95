package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxBatchWrites bounds the conditional writes RecordBatch has in flight at
// once: a batch of SQS's usual 10 runs all its writes together.
const MaxBatchWrites = 10

// Recorded is what recording one entry did: Result when Err is nil.
type Recorded struct {
	Result Result
	Err    error
}

// Record writes e's audit row once per (tracking id, event id), with one
// conditional PutItem: the row is the update's only commit, and the latest
// status, the status index and the day counters follow from the table's
// stream. When the row exists, the item DynamoDB returns with the refused
// write (ReturnValuesOnConditionCheckFailure ALL_OLD) tells a redelivery of
// this very message from a duplicate (same content) from a conflict.
// Calling it again with the same entry is a redelivery.
func (s *Store) Record(ctx context.Context, e Entry) (Result, error) {
	r := s.RecordBatch(ctx, []Entry{e})[0]
	return r.Result, r.Err
}

// RecordBatch records each entry as Record does, at most MaxBatchWrites at
// once; the result of entries[i] is at index i. Entries of one (tracking
// id, event id) are recorded one after the other in their order, so that
// the first of them writes the row and the others are its duplicates or
// conflicts, as they would be in separate batches.
func (s *Store) RecordBatch(ctx context.Context, entries []Entry) []Recorded {
	out := make([]Recorded, len(entries))
	var groups [][]int
	byKey := map[string]int{}
	for i, e := range entries {
		k := e.Update.TrackingID + "\x00" + e.Update.EventID
		g, ok := byKey[k]
		if !ok {
			g = len(groups)
			byKey[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	sem := make(chan struct{}, MaxBatchWrites)
	var wg sync.WaitGroup
	for _, g := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, i := range g {
				r, err := s.record(ctx, entries[i])
				out[i] = Recorded{Result: r, Err: err}
			}
		})
	}
	wg.Wait()
	return out
}

// record writes e's row, or settles e against the row that exists.
func (s *Store) record(ctx context.Context, e Entry) (Result, error) {
	u := e.Update
	now := s.now().UTC()
	old, err := s.putNew(ctx, s.row(e, now))
	switch {
	case err != nil:
		return 0, classify(fmt.Errorf("write audit row %s/%s: %w", u.TrackingID, u.EventID, err))
	case old == nil:
		return Written, nil
	case stringAttr(old, AttrMessageID) == e.MessageID:
		// The row is this message's: SQS delivered it again.
		return Redelivered, nil
	case stringAttr(old, AttrPayloadHash) != u.PayloadHash:
		return s.recordConflict(ctx, e, stringAttr(old, AttrPayloadHash), now)
	}
	return s.countDuplicate(ctx, e, now)
}

// putNew writes item unless an item of its key exists; it returns that
// item (and writes nothing) when one does.
func (s *Store) putNew(ctx context.Context, item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &ccf) && len(ccf.Item) > 0:
		return ccf.Item, nil
	case errors.As(err, &ccf):
		// DynamoDB returns the item with the refusal when asked to; a
		// refusal without one leaves nothing to decide with.
		return nil, fmt.Errorf("condition failed without the existing item: %w", err)
	}
	return nil, err //nolint:wrapcheck // callers say which item
}
