package soak

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
)

// Check is one verified fact: what the sent stream implies, what the
// table and the DLQ hold.
type Check struct {
	Name      string
	Want, Got int64
	AtMost    bool // Want bounds Got
}

// OK reports whether the check holds.
func (c Check) OK() bool {
	if c.AtMost {
		return c.Got <= c.Want
	}
	return c.Want == c.Got
}

// Verify checks the table, the DLQ and the status-change events a consumer
// received against the messages sent: one row per (tracking id, event id)
// and no other, the latest status of every package and its newest status
// change, no change missing and no copy unlike its first (checkChanges),
// the day counters, every poison message in the DLQ with its reason, once,
// or twice where one of the crashes injected fell between its DLQ send and
// its count, nothing left on the queue.
func Verify(ctx context.Context, q *sqs.Client, store *audit.Store, ingestURL, dlqURL string, msgs []synth.Message, crashes int64,
	changes []contract.StatusChanged,
) ([]Check, error) {
	// The newest status-change event of each package (by event time, then
	// event id, as the latest status is ordered): it must be its latest
	// status's. Copies (at least once) change nothing here.
	lastChange := map[string]contract.StatusChanged{}
	for _, c := range changes {
		prev, ok := lastChange[c.TrackingID]
		if !ok || changeOrder(prev) < changeOrder(c) {
			lastChange[c.TrackingID] = c
		}
	}
	var changeMissing, changeStrangers int64
	want := map[string]map[string]bool{} // tracking id -> event ids
	count := map[synth.Kind]int64{}
	for _, m := range msgs {
		count[m.Kind]++
		if m.Kind != synth.Valid {
			continue
		}
		u, err := contract.Parse([]byte(m.Body))
		if err != nil {
			return nil, fmt.Errorf("a valid message does not parse: %w", err)
		}
		if want[u.TrackingID] == nil {
			want[u.TrackingID] = map[string]bool{}
		}
		want[u.TrackingID][u.EventID] = true
	}
	var rows, missing, extra, wrongLatest int64
	for tid, eids := range want {
		trail, err := store.Trail(ctx, tid)
		if err != nil {
			return nil, err //nolint:wrapcheck // audit errors carry their context
		}
		seen := map[string]int{}
		for _, r := range trail {
			seen[r.EventID]++
			rows++
		}
		for eid := range eids {
			if seen[eid] != 1 {
				missing++
			}
		}
		for eid, n := range seen {
			if !eids[eid] || n > 1 {
				extra++
			}
		}
		// The latest status is the newest row's, whichever content of a
		// conflicting event id was written first (arrival order decides).
		l, ok, err := store.LatestStatus(ctx, tid)
		if err != nil {
			return nil, err //nolint:wrapcheck // as above
		}
		if len(trail) == 0 {
			wrongLatest++
			continue
		}
		if newest := trail[len(trail)-1]; !ok || l.EventID != newest.EventID || l.Status != newest.Status {
			wrongLatest++
		}
		if c, seen := lastChange[tid]; !seen || c.Status != l.Status {
			changeMissing++
		}
	}
	st, err := days(ctx, store)
	if err != nil {
		return nil, err
	}
	peeked, err := deadletter.Peek(ctx, q, dlqURL, int(count[synth.Poison])+100, time.Minute)
	defer func() { _ = deadletter.Release(q, dlqURL, deadletter.HeldOf(peeked)) }()
	if err != nil {
		return nil, err //nolint:wrapcheck // Peek says what failed
	}
	var withoutReason, notParked, again int64
	sent := map[string]int{} // poison bodies: how often each was sent
	for _, m := range msgs {
		if m.Kind == synth.Poison {
			sent[m.Body]++
		}
	}
	parked := map[string]int{}
	for _, p := range peeked {
		if p.Reason == deadletter.ReasonRedrive {
			withoutReason++
		}
		parked[p.Body]++
	}
	for body, n := range sent {
		notParked += int64(max(n-parked[body], 0))
		again += int64(max(parked[body]-n, 0))
	}
	var strangers int64
	for body, n := range parked {
		if sent[body] == 0 {
			strangers += int64(n)
		}
	}
	waiting, err := Waiting(ctx, q, ingestURL)
	if err != nil {
		return nil, err
	}
	faults := checkChanges(changes)
	for tid := range lastChange {
		if want[tid] == nil {
			changeStrangers++
		}
	}
	return []Check{
		{"audit rows (one per tracking id and event id)", int64(len(flatten(want))), rows, false},
		{"updates without their one row", 0, missing, false},
		{"rows no update asked for, or twice", 0, extra, false},
		{"packages whose latest status is not their newest row's", 0, wrongLatest, false},
		{"day counter: rows written", count[synth.Valid], st.Total, false},
		{"day counter: duplicates", count[synth.Duplicate], st.Duplicates, false},
		{"day counter: conflicts", count[synth.Conflict], st.Conflicts, false},
		{"day counter: invalid", count[synth.Poison], st.Invalid, false},
		{"poison messages not in the DLQ", 0, notParked, false},
		{"DLQ messages without the processor's reason", 0, withoutReason, false},
		{"DLQ messages that are no poison sent", 0, strangers, false},
		{"poison parked twice (at most one per crash)", crashes, again, true},
		{"messages left on the ingest queue", 0, int64(waiting), false},
		{"packages whose newest status change is not their latest status", 0, changeMissing, false},
		{"status changes of packages never sent", 0, changeStrangers, false},
		{"packages with a status change missing (a broken chain)", 0, faults.brokenChains, false},
		{"status changes unlike the first with their idempotency key", 0, faults.differing, false},
	}, nil
}

func flatten(m map[string]map[string]bool) []string {
	var out []string
	for tid, eids := range m {
		for eid := range eids {
			out = append(out, tid+"/"+eid)
		}
	}
	sort.Strings(out)
	return out
}

// Print writes the checks as a table and returns an error naming the failed ones.
func Print(w io.Writer, checks []Check) error {
	failed := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.OK() {
			mark, failed = "FAIL", failed+1
		}
		want := fmt.Sprintf("want %7d", c.Want)
		if c.AtMost {
			want = fmt.Sprintf("max  %7d", c.Want)
		}
		fmt.Fprintf(w, "    %s %-64s %s  got %7d\n", mark, c.Name, want, c.Got)
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	return nil
}
