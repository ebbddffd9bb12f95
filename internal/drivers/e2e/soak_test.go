package e2e_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/soak"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// TestSoakUnderFaultsLosesNothing is `make soak` in short: 400 updates
// (new events, producer retries, conflicting resends, poison, out of
// order) through the real processor while the local AWS throttles, fails
// DynamoDB calls and the projector's stream reads, fails the poller's
// receives and deletes, crashes the functions and cuts their time; then
// every update is checked to be exactly where it belongs, and every
// package's newest status change to have reached a consumer.
func TestSoakUnderFaultsLosesNothing(t *testing.T) {
	t.Parallel()
	s := deploy(t, soak.Tune)
	ctx := context.Background()
	rules, err := faults.Parse(soak.ShortFaults)
	require.NoError(t, err)
	s.srv.Faults.Set(rules)

	consumer, err := soak.NewConsumer(ctx, s.srv.ClientConfig(), s.out, testenv.Unique("consumer"))
	require.NoError(t, err)
	msgs := synth.Generate(synth.Options{Seed: 7, Count: 400})
	require.NoError(t, soak.Send(ctx, s.sqs, s.out.IngestQueueURL, msgs))
	var progress bytes.Buffer
	require.NoError(t, soak.Drain(ctx, &progress, s.sqs, s.out.IngestQueueURL, s.store, len(msgs), 3*time.Minute), progress.String())
	injected := s.srv.Faults.Rules()
	s.srv.Faults.Set(nil) // the checks read without faults
	for _, r := range injected {
		t.Logf("injected %-45s %d", r, r.Count)
		assert.Positive(t, r.Count, "no %s fault was injected: the run proved nothing about it", r)
	}
	changes, err := soak.Received(ctx, consumer)
	require.NoError(t, err)
	checks, err := soak.Verify(ctx, s.sqs, s.store, s.out.IngestQueueURL, s.out.IngestDLQURL, msgs, soak.Crashes(injected), changes)
	require.NoError(t, err)
	var table bytes.Buffer
	assert.NoError(t, soak.Print(&table, checks), table.String())
}
