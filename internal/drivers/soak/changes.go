package soak

import (
	"reflect"
	"sort"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// changeOrder orders a package's status changes as its latest status is
// ordered (audit's latest_order): event time at a fixed width, then event id.
func changeOrder(c contract.StatusChanged) string {
	t, err := time.Parse(time.RFC3339Nano, c.EventTime)
	if err != nil {
		return c.EventTime + "#" + c.EventID // the schema check reports it; the order stays total
	}
	return t.UTC().Format(contract.EventTimeLayout) + "#" + c.EventID
}

// changeFaults is what a consumer's status-change events show beyond
// copies: a change missing between two it received (a broken chain), and
// events that share an idempotency key but differ.
type changeFaults struct {
	brokenChains int64 // packages whose changes, in order, do not each start where the one before ended
	differing    int64 // idempotency keys with events that differ
}

// checkChanges finds the faults of changes. A package's latest status moves
// forward only, and each move that changes the status puts one event naming
// the status before it: so its distinct events, in order, form a chain (the
// first from no status, each next from the one before's status). A missing
// change breaks the chain; a copy (at least once) is the same event again.
func checkChanges(changes []contract.StatusChanged) changeFaults {
	var f changeFaults
	byKey := map[string]contract.StatusChanged{}
	byPackage := map[string][]contract.StatusChanged{}
	for _, c := range changes {
		if first, ok := byKey[c.IdempotencyKey]; ok {
			if !reflect.DeepEqual(first, c) {
				f.differing++
			}
			continue
		}
		byKey[c.IdempotencyKey] = c
		byPackage[c.TrackingID] = append(byPackage[c.TrackingID], c)
	}
	for _, cs := range byPackage {
		sort.Slice(cs, func(i, j int) bool { return changeOrder(cs[i]) < changeOrder(cs[j]) })
		from := ""
		for _, c := range cs {
			prev := ""
			if c.PreviousStatus != nil {
				prev = *c.PreviousStatus
			}
			if prev != from {
				f.brokenChains++
				break
			}
			from = c.Status
		}
	}
	return f
}
