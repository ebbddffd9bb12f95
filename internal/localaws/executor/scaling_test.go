package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
)

// TestFailingInitCostsNothingUntilInvoked: a function whose init fails,
// with reserved concurrency 1,000, starts no process when deployed; invoked
// 200 times at once it runs within the machine's cap, and each invocation
// gets Lambda's init error.
func TestFailingInitCostsNothingUntilInvoked(t *testing.T) {
	t.Parallel()
	e := newExecutor(t)
	const limit = 4
	e.SetLimits(limit, 0)
	zip := zipFiles(t, map[string][]byte{"bootstrap": []byte("#!/bin/sh\necho 'config missing' >&2\nexit 3\n")})
	require.NoError(t, e.Deploy(executor.FunctionSpec{Name: "broken", Zip: zip, Timeout: 5 * time.Second, Instances: 1000, Reserved: true, Region: "us-east-1"}))
	now, _ := e.Processes()
	assert.Zero(t, now, "deploying starts nothing")

	const calls = 200
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results := make([]executor.Result, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { results[i], errs[i] = e.Invoke(ctx, "broken", []byte(`{}`)) })
	}
	wg.Wait()
	for i := range calls {
		require.NoError(t, errs[i])
		assert.Equal(t, "Unhandled", results[i].FunctionError)
		var fnErr struct{ ErrorType, ErrorMessage string }
		require.NoError(t, json.Unmarshal(results[i].Payload, &fnErr))
		assert.Equal(t, "Runtime.ExitError", fnErr.ErrorType)
		assert.Contains(t, fnErr.ErrorMessage, "init", "the error says init failed")
	}
	_, peak := e.Processes()
	assert.LessOrEqual(t, peak, limit, "processes stay within the machine's cap")
	assert.Positive(t, peak)
}

// TestInstancesStartOnDemandAndStopWhenIdle: an invocation that finds no
// idle instance starts one; an idle instance stops after the idle time;
// at the machine's cap an idle instance of another function gives way.
func TestInstancesStartOnDemandAndStopWhenIdle(t *testing.T) {
	t.Parallel()
	e := newExecutor(t)
	e.SetLimits(1, 500*time.Millisecond)
	zip := handlerZip(t)
	for _, fn := range []string{"a", "b"} {
		require.NoError(t, e.Deploy(executor.FunctionSpec{Name: fn, Zip: zip, Timeout: 5 * time.Second, Instances: 2, Region: "us-east-1"}))
	}
	running := func() int { n, _ := e.Processes(); return n }
	assert.Zero(t, running())

	res := invoke(t, e, "a", `{"echo":"a"}`)
	assert.Contains(t, string(res.Payload), `"echo":"a"`)
	assert.Equal(t, 1, running(), "one instance for one invocation, kept for the next")
	res = invoke(t, e, "b", `{"echo":"b"}`)
	assert.Contains(t, string(res.Payload), `"echo":"b"`, "at the cap, a's idle instance gave way")

	retry.DoWithRetry(t, "the idle instance stops", 40, 100*time.Millisecond, func() (string, error) {
		if n := running(); n != 0 {
			return "", fmt.Errorf("%d running", n)
		}
		return "", nil
	})
	res = invoke(t, e, "a", `{"echo":"again"}`)
	assert.Contains(t, string(res.Payload), `"echo":"again"`, "a new instance for the next invocation")
	_, peak := e.Processes()
	assert.Equal(t, 1, peak)
}
