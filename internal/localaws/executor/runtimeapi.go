package executor

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The Lambda Runtime API (Lambda Developer Guide, "Using the Lambda runtime
// API for custom runtimes"): each process polls next, then posts a response
// or an error; an init failure is posted to init/error.

func (e *Executor) lookup(r *http.Request) (*function, *instance) {
	e.mu.Lock()
	f := e.funcs[r.PathValue("fn")]
	e.mu.Unlock()
	if f == nil {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f, f.instances[r.PathValue("inst")]
}

// next hands the next invocation to a polling process.
func (e *Executor) next(w http.ResponseWriter, r *http.Request) {
	f, in := e.lookup(r)
	if in == nil {
		http.Error(w, `{"errorType":"InvalidInstance"}`, http.StatusForbidden)
		return
	}
	in.mu.Lock()
	first := !in.polled
	in.polled, in.idle = true, true
	in.mu.Unlock()
	f.mu.Lock()
	if first {
		f.initTimes = append(f.initTimes, time.Since(in.started))
		f.starting--
	}
	f.idle++
	f.mu.Unlock()
	e.mu.Lock()
	idleAfter := e.idleAfter
	e.mu.Unlock()
	idle := time.NewTimer(idleAfter)
	defer idle.Stop()
	var inv *invocation
	select {
	case inv = <-f.queue:
	case <-f.stopped:
	case <-r.Context().Done():
	case <-idle.C:
		in.kill() // an environment idle this long is reclaimed
	}
	in.mu.Lock()
	in.idle = false
	evicted := in.killed
	in.mu.Unlock()
	f.mu.Lock()
	f.idle--
	f.mu.Unlock()
	e.scale(f)                 // the invocations that counted on this instance while it was idle
	if inv != nil && evicted { // taken as it was stopped: another instance runs it
		e.requeue(f, inv)
		inv = nil
	}
	if inv == nil {
		http.Error(w, `{"errorType":"FunctionStopped"}`, http.StatusGone)
		return
	}
	fault := e.invocationFault(f)
	limit := f.spec.Timeout
	if fault.Limit > 0 && fault.Limit < limit {
		limit = fault.Limit // an injected timeout: the invocation ran out of its time
	}
	inv.deadline = time.Now().Add(limit)
	in.mu.Lock()
	in.current = inv
	in.timer = time.AfterFunc(limit, func() {
		in.mu.Lock()
		timedOut := in.current == inv
		if timedOut {
			in.current = nil
		}
		in.mu.Unlock()
		if timedOut {
			inv.finish(errorResult("Sandbox.Timedout", fmt.Sprintf("Task timed out after %.2f seconds", limit.Seconds())))
			in.kill() // as Lambda does: the sandbox is replaced
		}
	})
	in.crash = nil
	if fault.CrashAfter > 0 {
		// An injected crash: the process dies mid-invocation, or, if it
		// answers first, as it answers (respond); its supervisor fails the
		// invocation with Runtime.ExitError and starts another process.
		in.crash = inv
		time.AfterFunc(fault.CrashAfter, func() {
			in.mu.Lock()
			hit := in.current == inv
			in.mu.Unlock()
			if hit {
				in.kill()
			}
		})
	}
	in.mu.Unlock()

	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", f.spec.ARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

// respond takes a process's response or error for its current invocation.
func (e *Executor) respond(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, in := e.lookup(r)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 6<<20))
		if in == nil {
			w.WriteHeader(http.StatusAccepted) // a replaced process; its answer no longer counts
			return
		}
		in.mu.Lock()
		inv := in.current
		if inv == nil || inv.id != r.PathValue("id") {
			in.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if in.crash == inv { // the injected crash comes before the answer counts
			in.mu.Unlock()
			in.kill()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		in.current = nil
		in.timer.Stop()
		in.mu.Unlock()
		res := Result{Payload: body}
		if isError {
			res.FunctionError = "Unhandled"
		}
		inv.finish(res)
		w.WriteHeader(http.StatusAccepted)
	}
}

func (e *Executor) initError(w http.ResponseWriter, r *http.Request) {
	f, _ := e.lookup(r)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if f != nil {
		f.mu.Lock()
		f.initErr = string(body)
		f.mu.Unlock()
		e.log.Error("function init failed", zap.String("function", f.spec.Name), zap.ByteString("error", body))
	}
	w.WriteHeader(http.StatusAccepted)
}

func errorResult(kind, message string) Result {
	b, _ := json.Marshal(map[string]string{"errorType": kind, "errorMessage": message})
	return Result{Payload: b, FunctionError: "Unhandled"}
}
