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
	"github.com/tracking-pipeline/tracking-pipeline/internal/synth"
)

// Check is one verified fact: what the sent stream implies, what the
// table and the DLQ hold.
type Check struct {
	Name      string
	Want, Got int64
}

// OK reports whether the check holds.
func (c Check) OK() bool { return c.Want == c.Got }

// Verify checks the table and the DLQ against the messages sent: one row
// per (tracking id, event id) and no other, the latest status of every
// package, the day counters, every poison message in the DLQ once with its
// reason, nothing left on the queue.
func Verify(ctx context.Context, q *sqs.Client, store *audit.Store, ingestURL, dlqURL string, msgs []synth.Message) ([]Check, error) {
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
	var withReason, wrongCopies int64
	bodies := map[string]int{} // poison bodies sent minus parked: 0 each when each is parked once
	for _, m := range msgs {
		if m.Kind == synth.Poison {
			bodies[m.Body]++
		}
	}
	for _, p := range peeked {
		if p.Reason != deadletter.ReasonRedrive {
			withReason++
		}
		bodies[p.Body]--
	}
	for _, n := range bodies {
		if n != 0 {
			wrongCopies++
		}
	}
	waiting, err := Waiting(ctx, q, ingestURL)
	if err != nil {
		return nil, err
	}
	return []Check{
		{"audit rows (one per tracking id and event id)", int64(len(flatten(want))), rows},
		{"updates without their one row", 0, missing},
		{"rows no update asked for, or twice", 0, extra},
		{"packages whose latest status is not their newest row's", 0, wrongLatest},
		{"day counter: rows written", count[synth.Valid], st.Total},
		{"day counter: duplicates", count[synth.Duplicate], st.Duplicates},
		{"day counter: conflicts", count[synth.Conflict], st.Conflicts},
		{"day counter: invalid", count[synth.Poison], st.Invalid},
		{"messages in the DLQ", count[synth.Poison], int64(len(peeked))},
		{"DLQ messages with the processor's reason", count[synth.Poison], withReason},
		{"poison bodies not parked exactly as often as sent", 0, wrongCopies},
		{"messages left on the ingest queue", 0, int64(waiting)},
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
		fmt.Fprintf(w, "    %s %-56s want %7d  got %7d\n", mark, c.Name, c.Want, c.Got)
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	return nil
}
