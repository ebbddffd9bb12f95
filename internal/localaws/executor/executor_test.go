package executor_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// handlerZip builds testdata/handler as a Lambda zip.
func handlerZip(t *testing.T) []byte {
	t.Helper()
	return zipOf(t, handlerBinary(t))
}

// handlerBinary builds testdata/handler for this machine and returns its path.
func handlerBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/handler")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// zipOf zips the file at bin as the bootstrap.
func zipOf(t *testing.T, bin string) []byte {
	t.Helper()
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	return zipFiles(t, map[string][]byte{"bootstrap": data})
}

func zipFiles(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		f, err := zw.Create(name)
		require.NoError(t, err)
		_, err = f.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// testWriter sends function output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

func newExecutor(t *testing.T) *executor.Executor {
	t.Helper()
	e, err := executor.New(zaptest.NewLogger(t), t.TempDir(), testWriter{t})
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

func invoke(t *testing.T, e *executor.Executor, fn string, event string) executor.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.Invoke(ctx, fn, []byte(event))
	require.NoError(t, err)
	return res
}

func TestExecutorRunsReplacesAndTimesOut(t *testing.T) {
	t.Parallel()
	e := newExecutor(t)
	require.NoError(t, e.Deploy(executor.FunctionSpec{
		Name: "h", Zip: handlerZip(t), Env: map[string]string{"GREETING": "hello"},
		Timeout: 500 * time.Millisecond, Instances: 1, Region: "us-east-1",
	}))

	res := invoke(t, e, "h", `{"echo":"one"}`)
	assert.Empty(t, res.FunctionError)
	assert.JSONEq(t, `{"echo":"one","env":"hello","fn":"h"}`, string(res.Payload), "the function gets its environment")

	res = invoke(t, e, "h", `{"fail":true}`)
	assert.Equal(t, "Unhandled", res.FunctionError)
	assert.Contains(t, string(res.Payload), "asked to fail")

	res = invoke(t, e, "h", `{"exit":true}`)
	assert.Equal(t, "Unhandled", res.FunctionError)
	assert.Contains(t, string(res.Payload), "Runtime.ExitError", "a crash fails its invocation")
	res = invoke(t, e, "h", `{"echo":"after crash"}`)
	assert.Contains(t, string(res.Payload), "after crash", "a crashed process is replaced")

	res = invoke(t, e, "h", `{"sleep_ms":3000}`)
	assert.Equal(t, "Unhandled", res.FunctionError)
	var fnErr struct{ ErrorType string }
	require.NoError(t, json.Unmarshal(res.Payload, &fnErr))
	assert.Equal(t, "Sandbox.Timedout", fnErr.ErrorType)
	res = invoke(t, e, "h", `{"echo":"after timeout"}`)
	assert.Contains(t, string(res.Payload), "after timeout", "a timed-out process is replaced")
}

// TestInjectedCrashesAndTimeouts: a crash fault kills the process mid-
// invocation, or as it answers when it answers first; a timeout fault cuts
// the invocation's time limit, which the function sees as its deadline.
// Each fails its invocation as Lambda would, and a new process takes over.
func TestInjectedCrashesAndTimeouts(t *testing.T) {
	t.Parallel()
	e := newExecutor(t)
	var inj faults.Injector
	e.InjectFaultsFrom(&inj)
	require.NoError(t, e.Deploy(executor.FunctionSpec{Name: "f", Zip: handlerZip(t), Timeout: 5 * time.Second, Instances: 1, Region: "us-east-1"}))
	set := func(spec string) {
		rules, err := faults.Parse(spec)
		require.NoError(t, err)
		inj.Set(rules)
	}
	errorType := func(res executor.Result) string {
		var fnErr struct{ ErrorType string }
		require.NoError(t, json.Unmarshal(res.Payload, &fnErr), string(res.Payload))
		return fnErr.ErrorType
	}
	tests := []struct {
		name, spec, event, wantError string
	}{
		{"crash mid-invocation", "lambda:f:crash=5ms:1", `{"sleep_ms":2000}`, "Runtime.ExitError"},
		{"crash as it answers", "lambda:f:crash=1h:1", `{"echo":"lost"}`, "Runtime.ExitError"},
		{"another function's crash", "lambda:g:crash=5ms:1", `{"echo":"kept"}`, ""},
		{"time limit cut", "lambda:*:timeout=200ms:1", `{"sleep_ms":2000}`, "Sandbox.Timedout"},
	}
	for _, tt := range tests {
		set(tt.spec)
		res := invoke(t, e, "f", tt.event)
		if tt.wantError == "" {
			assert.Empty(t, res.FunctionError, tt.name)
			continue
		}
		assert.Equal(t, "Unhandled", res.FunctionError, tt.name)
		assert.Equal(t, tt.wantError, errorType(res), tt.name)
		assert.Equal(t, int64(1), inj.Rules()[0].Count, tt.name)
	}

	set("lambda:*:timeout=1500ms:1")
	var left struct {
		LeftMS int64 `json:"left_ms,string"`
	}
	require.NoError(t, json.Unmarshal(invoke(t, e, "f", `{"left":true}`).Payload, &left))
	assert.InDelta(t, 1500, left.LeftMS, 500, "the function sees the cut deadline")

	set("")
	res := invoke(t, e, "f", `{"echo":"after faults"}`)
	assert.Empty(t, res.FunctionError)
	assert.Contains(t, string(res.Payload), "after faults", "a new process took over")
}

// A function runs with the credentials of its execution role (the Lambda
// service issues them), else with the admin key.
func TestFunctionRunsWithItsCredentials(t *testing.T) {
	t.Parallel()
	e := newExecutor(t)
	zip := handlerZip(t)
	require.NoError(t, e.Deploy(executor.FunctionSpec{Name: "role", Zip: zip, Timeout: 5 * time.Second, Instances: 1, Region: "us-east-1",
		Credentials: principals.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret"}}))
	require.NoError(t, e.Deploy(executor.FunctionSpec{Name: "admin", Zip: zip, Timeout: 5 * time.Second, Instances: 1, Region: "us-east-1"}))
	for fn, want := range map[string]string{"role": "ASIAEXAMPLE", "admin": principals.AdminKey} {
		var got struct{ Value string }
		require.NoError(t, json.Unmarshal(invoke(t, e, fn, `{"env_name":"AWS_ACCESS_KEY_ID"}`).Payload, &got))
		assert.Equal(t, want, got.Value, fn)
	}
}

func TestExecutorConcurrency(t *testing.T) {
	t.Parallel()
	e := newExecutor(t)
	zip := handlerZip(t)
	require.NoError(t, e.Deploy(executor.FunctionSpec{Name: "c", Zip: zip, Timeout: 5 * time.Second, Instances: 3, Region: "us-east-1"}))

	// Three processes take three invocations at once: each marks its start,
	// then all wait for one release.
	marks, release := t.TempDir(), filepath.Join(t.TempDir(), "go")
	event := fmt.Sprintf(`{"mark_dir":%q,"release":%q}`, marks, release)
	type outcome struct {
		res executor.Result
		err error
	}
	done := make(chan outcome, 3)
	for range 3 {
		go func() {
			res, err := e.Invoke(context.Background(), "c", []byte(event))
			done <- outcome{res, err}
		}()
	}
	retry.DoWithRetry(t, "three invocations running at once", 100, 50*time.Millisecond, func() (string, error) {
		entries, err := os.ReadDir(marks)
		if err != nil || len(entries) != 3 {
			return "", fmt.Errorf("%d running: %w", len(entries), err)
		}
		return "", nil
	})
	require.NoError(t, os.WriteFile(release, nil, 0o600))
	for range 3 {
		o := <-done
		require.NoError(t, o.err)
		assert.Empty(t, o.res.FunctionError)
	}

	require.NoError(t, e.SetConcurrency("c", 0, true))
	_, err := e.Invoke(context.Background(), "c", []byte(`{}`))
	assert.ErrorIs(t, err, executor.ErrThrottled, "reserved concurrency 0 throttles")
}

func TestExecutorRefusesAnotherArchitecture(t *testing.T) {
	t.Parallel()
	machine := uint16(183) // EM_AARCH64: the other architecture on amd64 hosts
	if runtime.GOARCH == "arm64" {
		machine = 62 // EM_X86_64
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, os.WriteFile(bin, minimalELF(machine), 0o600))
	err := newExecutor(t).Deploy(executor.FunctionSpec{Name: "a", Zip: zipOf(t, bin), Instances: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make build ARCH="+runtime.GOARCH)
}

// A bootstrap may be a script: Lambda runs it with its #! interpreter.
func TestExecutorRunsAScriptBootstrap(t *testing.T) {
	t.Parallel()
	handler, err := os.ReadFile(handlerBinary(t))
	require.NoError(t, err)
	zip := zipFiles(t, map[string][]byte{
		"bootstrap": []byte("#!/bin/sh\nexport GREETING=from-script\nexec \"$LAMBDA_TASK_ROOT/handler\"\n"),
		"handler":   handler,
	})
	e := newExecutor(t)
	require.NoError(t, e.Deploy(executor.FunctionSpec{Name: "s", Zip: zip, Timeout: 5 * time.Second, Instances: 1, Region: "us-east-1"}))
	res := invoke(t, e, "s", `{"echo":"via script"}`)
	assert.Empty(t, res.FunctionError)
	assert.JSONEq(t, `{"echo":"via script","env":"from-script","fn":"s"}`, string(res.Payload))
}

// minimalELF is the 64-byte header of a little-endian ELF64 executable.
func minimalELF(machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	binary.LittleEndian.PutUint16(h[16:], 2) // ET_EXEC
	binary.LittleEndian.PutUint16(h[18:], machine)
	binary.LittleEndian.PutUint32(h[20:], 1)  // EV_CURRENT
	binary.LittleEndian.PutUint16(h[52:], 64) // header size
	return h
}
