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

// Record writes e's audit row once per (tracking id, event id), counts it in
// its day's stats and moves the latest status forward, all in one
// transaction, so a retry after any failure finds either nothing or all of
// it done. Calling it again with the same entry is a counted duplicate.
func (s *Store) Record(ctx context.Context, e Entry) (Result, error) {
	r := s.RecordBatch(ctx, []Entry{e})[0]
	return r.Result, r.Err
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

// recordChunk writes the rows of chunk, whose (tracking id, event id) are
// distinct, in one transaction. Rows that exist already are taken out and
// settled as duplicates or conflicts; latest statuses that a later event
// holds are left out; the rest is retried until written or failed.
func (s *Store) recordChunk(ctx context.Context, entries []Entry, chunk []int, out []Recorded) {
	now := s.now().UTC()
	w := &chunkWrite{entries: entries, out: out, writing: slices.Clone(chunk), stale: map[string]bool{}}
	var wait backoff
	for len(w.writing) > 0 {
		items, actions := s.chunkTransaction(entries, w.writing, w.stale, now)
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		switch {
		case err == nil:
			w.written()
		case isValidation(err) && len(w.writing) > 1:
			// DynamoDB refuses the request, not saying for which row: write
			// each alone so that only the refused one is rejected.
			for _, i := range w.writing {
				s.recordChunk(ctx, entries, []int{i}, out)
			}
			w.writing = nil
		case errors.As(err, &tce):
			if w.cancelled(err, tce, actions) {
				if err := wait.after(ctx, err); err != nil {
					w.fail(err)
				}
			}
		case isTransactionConflict(err):
			if err := wait.after(ctx, err); err != nil {
				w.fail(err)
			}
		default:
			w.fail(classify(err))
		}
	}
	s.settleExisting(ctx, entries, w.existing, now, out)
}

// chunkWrite is the state of one chunk's write between its attempts.
type chunkWrite struct {
	entries  []Entry
	out      []Recorded
	writing  []int           // entries whose rows are still to write
	existing []int           // entries whose rows were found written
	stale    map[string]bool // tracking ids whose latest status a later event holds
}

// written records every entry left as written.
func (w *chunkWrite) written() {
	for _, i := range w.writing {
		w.out[i] = Recorded{Result: Written}
	}
	w.writing = nil
}

// fail gives every entry left the error of the write they were in.
func (w *chunkWrite) fail(err error) {
	for _, i := range w.writing {
		u := w.entries[i].Update
		w.out[i] = Recorded{Err: fmt.Errorf("write audit row %s/%s: %w", u.TrackingID, u.EventID, err)}
	}
	w.writing = nil
}

// cancelled reads, item by item, why a transaction was cancelled: rows that
// exist are set apart, rows DynamoDB refuses are rejected, latest statuses a
// later event holds are left out. It reports whether to retry after a
// backoff (another transaction held an item); otherwise the write is retried
// at once if it made progress, or failed.
func (w *chunkWrite) cancelled(err error, tce *types.TransactionCanceledException, actions []action) bool {
	drop := map[int]bool{}
	progress, conflict, failed := false, false, false
	for j, r := range tce.CancellationReasons {
		if j >= len(actions) {
			break
		}
		a := actions[j]
		switch code := aws.ToString(r.Code); {
		case code == "" || code == reasonNone:
		case code == reasonConflict:
			conflict = true
		case code == reasonConditionFailed && a.entry >= 0:
			drop[a.entry] = true
			w.existing = append(w.existing, a.entry)
		case code == reasonConditionFailed && a.tracking != "":
			w.stale[a.tracking], progress = true, true
		case code == reasonValidation && a.entry >= 0:
			drop[a.entry] = true
			u := w.entries[a.entry].Update
			w.out[a.entry] = Recorded{Err: fmt.Errorf("%w: write audit row %s/%s: %s", ErrRejected,
				u.TrackingID, u.EventID, aws.ToString(r.Message))}
		default: // throttling, capacity, or a refused counter update
			failed = true
		}
	}
	if len(drop) > 0 {
		progress = true
		w.writing = slices.DeleteFunc(w.writing, func(i int) bool { return drop[i] })
	}
	switch {
	case failed:
		w.fail(err)
	case len(w.writing) == 0:
	case conflict:
		return true
	case !progress: // cancelled for no reason it gave: do not loop on it
		w.fail(err)
	}
	return false
}

// action says what one item of a batch transaction writes: the row of
// entries[entry], the latest status of tracking, or a day's counters.
type action struct {
	entry    int // -1 unless a row
	tracking string
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
			TableName:                &s.table,
			Item:                     s.row(e, now),
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
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
		days[day][counterTotal]++
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

// order ranks the entries of one tracking id as their events are ranked.
func order(e Entry) string { return eventOrder(e.Update.EventTimeKey(), e.Update.EventID) }
