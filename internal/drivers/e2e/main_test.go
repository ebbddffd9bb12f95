package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its test: every
// server the tests start is closed by then (t.Cleanup), so whatever the local
// AWS started for them (pollers, executor processes, async invokes, move
// tasks, schedules) must have stopped. Goroutines running before the first
// test are not the tests' (kumo starts its DynamoDB TTL reaper at package
// init, once per process).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// TestCloseWhileBusy closes a local AWS while its poller is receiving, its
// functions are running batches and an asynchronous invoke is queued: Close
// must stop all of it (TestMain checks that nothing is left).
func TestCloseWhileBusy(t *testing.T) {
	t.Parallel()
	s := deploy(t, nil)
	sent := 0
	// Ten more updates on each try: a processor that keeps up with the
	// sends (a loaded machine sends slowly) is caught busy all the same.
	eventually(t, "the processor is running", func() error {
		for range 10 {
			s.send(t, update(fmt.Sprintf("B%03d", sent%20), fmt.Sprintf("b%04d", sent), "IN_TRANSIT", "2026-11-25T10:00:00Z"))
			sent++
		}
		if _, inFlight := s.queueCounts(t, s.out.IngestQueueURL); inFlight == 0 {
			return fmt.Errorf("nothing in flight after %d updates", sent)
		}
		return nil
	})
	_, err := s.sqs.StartMessageMoveTask(context.Background(), &sqs.StartMessageMoveTaskInput{SourceArn: &s.out.IngestDLQARN})
	require.NoError(t, err)
	resp, err := http.Post(s.srv.URL+"/_localaws/schedules/"+s.out.MaintenanceScheduleName+"/trigger", "application/json", nil) //nolint:noctx // test
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
	s.srv.Close()
}
