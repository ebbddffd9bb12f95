package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// TestInStatus records packages in several statuses (some moving on) and
// asks the status index for one status: oldest latest event first, only
// packages whose latest status it still is, a limit, and a cutoff for
// stuck packages.
func TestInStatus(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var batch []audit.Entry
	add := func(tid, eid, status string, at time.Time) {
		batch = append(batch, entry(t, tid+eid, fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":%q}`,
			tid, eid, status, at.Format(time.RFC3339))))
	}
	// P00..P39: IN_TRANSIT at base + i hours; every fourth then DELIVERED.
	for i := range 40 {
		tid := fmt.Sprintf("P%02d", i)
		add(tid, "e1", "IN_TRANSIT", base.Add(time.Duration(i)*time.Hour))
		if i%4 == 0 {
			add(tid, "e2", "DELIVERED", base.Add(time.Duration(i)*time.Hour+time.Minute))
		}
	}
	for start := 0; start < len(batch); start += 20 {
		for _, r := range store.RecordBatch(ctx, batch[start:min(start+20, len(batch))]) {
			require.NoError(t, r.Err)
		}
	}
	ids := func(ls []audit.Latest) []string {
		out := []string{}
		for _, l := range ls {
			out = append(out, l.TrackingID)
		}
		return out
	}

	got, err := store.InStatus(ctx, "IN_TRANSIT", time.Time{}, 5)
	require.NoError(t, err)
	assert.Equal(t, []string{"P01", "P02", "P03", "P05", "P06"}, ids(got), "oldest first, moved-on packages left out")
	assert.Equal(t, "IN_TRANSIT", got[0].Status)

	got, err = store.InStatus(ctx, "IN_TRANSIT", base.Add(10*time.Hour), 100)
	require.NoError(t, err)
	assert.Equal(t, []string{"P01", "P02", "P03", "P05", "P06", "P07", "P09"}, ids(got), "only those stuck since before the cutoff")

	got, err = store.InStatus(ctx, "DELIVERED", time.Time{}, 100)
	require.NoError(t, err)
	assert.Len(t, got, 10)

	got, err = store.InStatus(ctx, "EXCEPTION", time.Time{}, 100)
	require.NoError(t, err)
	assert.Empty(t, got)

	_, err = store.InStatus(ctx, "IN_TRANSIT", time.Time{}, 0)
	require.ErrorIs(t, err, audit.ErrBadLimit)
}
