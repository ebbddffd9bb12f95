package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// TestInStatus moves packages to several statuses (some moving on) and
// asks the status index for one status: oldest latest event first, only
// packages whose latest status it still is, a limit, and a cutoff for
// stuck packages.
func TestInStatus(t *testing.T) {
	t.Parallel()
	store, db, table := newStore(t)
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
	// The projector moves each package's latest status, which keeps its
	// entry in the index.
	for _, e := range batch {
		_, _, err := store.AdvanceLatest(ctx, e.Update)
		require.NoError(t, err)
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

	// Only Queries of the status index, one per shard: the store's client
	// interface has no Scan, and the spy sees nothing but these.
	spy := &querySpy{DynamoDB: db}
	_, err = audit.NewStore(spy, table, 30).InStatus(ctx, "IN_TRANSIT", time.Time{}, 5)
	require.NoError(t, err)
	require.Len(t, spy.queries, audit.StatusIndexShards)
	for _, q := range spy.queries {
		assert.Equal(t, audit.IndexByStatus, aws.ToString(q.IndexName))
		assert.Equal(t, int32(5), aws.ToInt32(q.Limit), "each shard reads at most the limit")
	}
}

// querySpy records the Queries a store issues.
type querySpy struct {
	audit.DynamoDB
	queries []*dynamodb.QueryInput
}

func (s *querySpy) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	s.queries = append(s.queries, in)
	return s.DynamoDB.Query(ctx, in, opts...) //nolint:wrapcheck // a spy passes answers through
}
