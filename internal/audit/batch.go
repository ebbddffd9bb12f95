package audit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// MaxTransactionEntries is the most updates RecordBatch writes in one
// transaction: their rows, at most one latest status per tracking id and one
// counter update per day, at most 75 of DynamoDB's 100 actions. Larger
// transactions would also lose more races with concurrent writers.
const MaxTransactionEntries = 25

// transactionPayloadBytes bounds the payloads written in one transaction,
// leaving room under DynamoDB's 4 MB for the rest of each row.
const transactionPayloadBytes = 3 << 20

// Recorded is what recording one entry did: Result when Err is nil.
type Recorded struct {
	Result Result
	Err    error
}

// RecordBatch records each entry as Record does, in as few transactions as
// it can: up to MaxTransactionEntries rows, the newest latest status of each
// of their tracking ids and one counter update per day go in one
// transaction. A batch then costs one round trip, and its day counter one
// write instead of one per update (fewer writes, fewer races on the counter).
//
// The result of entries[i] is at index i. An entry that repeats an earlier
// one's (tracking id, event id) is recorded after it, as its duplicate or
// conflict.
func (s *Store) RecordBatch(ctx context.Context, entries []Entry) []Recorded {
	out := make([]Recorded, len(entries))
	pending := make([]int, len(entries))
	for i := range pending {
		pending[i] = i
	}
	// One transaction may not write an item twice: each round takes the
	// first entry of every (tracking id, event id) left.
	for len(pending) > 0 {
		var round, later []int
		seen := make(map[string]bool, len(pending))
		for _, i := range pending {
			k := entries[i].Update.TrackingID + "\x00" + entries[i].Update.EventID
			if seen[k] {
				later = append(later, i)
				continue
			}
			seen[k] = true
			round = append(round, i)
		}
		for _, chunk := range chunks(entries, round) {
			s.recordChunk(ctx, entries, chunk, out)
		}
		pending = later
	}
	return out
}

// chunks splits idx into transactions within MaxTransactionEntries and
// transactionPayloadBytes, keeping the order.
func chunks(entries []Entry, idx []int) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for _, i := range idx {
		n := len(entries[i].Payload)
		if len(cur) == MaxTransactionEntries || len(cur) > 0 && size+n > transactionPayloadBytes {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// action says what one item of a batch transaction writes: the row of
// entries[entry], the latest status of tracking, or a day's counters.
type action struct {
	entry    int // -1 unless a row
	tracking string
}

// recordChunk writes the rows of chunk, whose (tracking id, event id) are
// distinct, in one transaction. Rows that exist already are taken out and
// settled as duplicates or conflicts; latest statuses that a later event
// holds are left out; the rest is retried until written or failed.
func (s *Store) recordChunk(ctx context.Context, entries []Entry, chunk []int, out []Recorded) {
	now := s.now().UTC()
	writing := slices.Clone(chunk)
	var existing []int
	stale := map[string]bool{} // tracking ids whose latest status a later event holds
	var wait backoff
	for len(writing) > 0 {
		items, actions := s.chunkTransaction(entries, writing, stale, now)
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			for _, i := range writing {
				out[i] = Recorded{Result: Written}
			}
			break
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException" && len(writing) > 1 {
				// DynamoDB refuses the request, not saying for which row: write
				// each alone so that only the refused one is rejected.
				for _, i := range writing {
					s.recordChunk(ctx, entries, []int{i}, out)
				}
				break
			}
			if isTransactionConflict(err) {
				werr := wait.wait(ctx)
				if werr == nil {
					continue
				}
				err = fmt.Errorf("%w: %w", werr, err)
			}
			fail(entries, writing, out, classify(err))
			break
		}

		// A cancelled transaction says, item by item, why.
		drop := map[int]bool{}
		progress, conflict := false, false
		var failed error
		for j, r := range tce.CancellationReasons {
			if j >= len(actions) {
				break
			}
			a := actions[j]
			switch code := aws.ToString(r.Code); {
			case code == "" || code == "None":
			case code == "TransactionConflict":
				conflict = true
			case code == "ConditionalCheckFailed" && a.entry >= 0:
				drop[a.entry] = true
				existing = append(existing, a.entry)
			case code == "ConditionalCheckFailed" && a.tracking != "":
				stale[a.tracking], progress = true, true
			case code == "ValidationError" && a.entry >= 0:
				drop[a.entry] = true
				out[a.entry] = Recorded{Err: fmt.Errorf("%w: write audit row %s/%s: %s", ErrRejected,
					entries[a.entry].Update.TrackingID, entries[a.entry].Update.EventID, aws.ToString(r.Message))}
			default: // throttling, capacity, or a refused counter update
				failed = err
			}
		}
		if len(drop) > 0 {
			progress = true
			writing = slices.DeleteFunc(writing, func(i int) bool { return drop[i] })
		}
		switch {
		case failed != nil:
			fail(entries, writing, out, failed)
			writing = nil
		case len(writing) == 0:
		case conflict:
			if werr := wait.wait(ctx); werr != nil {
				fail(entries, writing, out, fmt.Errorf("%w: %w", werr, err))
				writing = nil
			}
		case !progress: // cancelled for no reason it gave: do not loop on it
			fail(entries, writing, out, err)
			writing = nil
		}
	}
	s.settleExisting(ctx, entries, existing, now, out)
}

// chunkTransaction is the transaction writing the rows of writing: rows
// first, then the latest statuses, then the day counters, on a random shard
// of each day so that concurrent batches rarely meet on one.
func (s *Store) chunkTransaction(entries []Entry, writing []int, stale map[string]bool, now time.Time) ([]types.TransactWriteItem, []action) {
	items := make([]types.TransactWriteItem, 0, 2*len(writing)+1)
	actions := make([]action, 0, cap(items))
	newest := map[string]int{}
	var trackings []string
	days := map[string]map[string]int64{}
	dayTimes := map[string]time.Time{}
	for _, i := range writing {
		e := entries[i]
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName:           &s.table,
			Item:                s.row(e, now),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
		actions = append(actions, action{entry: i})

		tid := e.Update.TrackingID
		if j, ok := newest[tid]; !ok {
			trackings = append(trackings, tid)
			newest[tid] = i
		} else if order(entries[i]) > order(entries[j]) {
			newest[tid] = i
		}

		day := e.SentAt.UTC().Format(DayLayout)
		if days[day] == nil {
			days[day] = map[string]int64{}
			dayTimes[day] = e.SentAt
		}
		days[day]["total"]++
		days[day][StatusCounter(e.Update.Status)]++
	}
	for _, tid := range trackings {
		if stale[tid] {
			continue
		}
		items = append(items, types.TransactWriteItem{Update: s.latestUpdate(entries[newest[tid]], now)})
		actions = append(actions, action{entry: -1, tracking: tid})
	}
	dayNames := make([]string, 0, len(days))
	for d := range days {
		dayNames = append(dayNames, d)
	}
	sort.Strings(dayNames)
	for _, d := range dayNames {
		items = append(items, types.TransactWriteItem{Update: s.countUpdate(dayTimes[d], rand.IntN(StatsShards), days[d])}) //nolint:gosec // spreading, not security
		actions = append(actions, action{entry: -1})
	}
	return items, actions
}

// settleExisting decides, for each entry whose row exists, whether it is a
// duplicate (same payload hash) or a conflict, and counts the duplicates
// with one write per day.
func (s *Store) settleExisting(ctx context.Context, entries []Entry, existing []int, now time.Time, out []Recorded) {
	dups := map[string][]int{}
	for _, i := range existing {
		e := entries[i]
		u := e.Update
		got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:            &s.table,
			Key:                  key(trackPK(u.TrackingID), eventSK(u.EventID)),
			ConsistentRead:       aws.Bool(true),
			ProjectionExpression: aws.String("payload_hash"),
		})
		if err != nil {
			out[i] = Recorded{Err: classify(fmt.Errorf("read audit row %s/%s: %w", u.TrackingID, u.EventID, err))}
			continue
		}
		if hash := stringAttr(got.Item, "payload_hash"); hash != u.PayloadHash {
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
		err := s.update(ctx, updateInput(s.countUpdate(day, rand.IntN(StatsShards), map[string]int64{"duplicates": int64(len(idx))}))) //nolint:gosec // spreading, not security
		if err != nil {
			err = classify(fmt.Errorf("count %d duplicates of %s: %w", len(idx), day.UTC().Format(DayLayout), err))
		}
		for _, i := range idx {
			out[i] = Recorded{Result: Duplicate, Err: err}
		}
	}
}

// order ranks events of one tracking id: by event time, then event id.
func order(e Entry) string { return e.Update.EventTimeKey() + "#" + e.Update.EventID }

// fail gives every entry of idx the error of the write they were in.
func fail(entries []Entry, idx []int, out []Recorded, err error) {
	for _, i := range idx {
		u := entries[i].Update
		out[i] = Recorded{Err: fmt.Errorf("write audit row %s/%s: %w", u.TrackingID, u.EventID, err)}
	}
}
