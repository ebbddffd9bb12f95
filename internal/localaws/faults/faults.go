// Package faults injects AWS-shaped failures into the local AWS at
// configured rates, per service and operation, so that tests and the soak
// can prove the pipeline loses nothing when AWS misbehaves as it documents
// it may: throttling, internal errors, transaction conflicts, latency, and
// a Lambda function's process dying mid-invocation or running out of time.
// Faults are off unless rules are set (Options.Faults, localaws -faults,
// LOCALAWS_FAULTS, or PUT /_localaws/faults).
package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kinds of fault.
const (
	Throttle = "throttle" // DynamoDB ProvisionedThroughputExceededException (400)
	Server   = "server"   // DynamoDB InternalServerError, SQS InternalError (500)
	Conflict = "conflict" // DynamoDB TransactWriteItems cancelled by TransactionConflict (400)
	Latency  = "latency"  // the call is delayed, then served
	// Crash kills a Lambda function's process during an invocation, at a
	// random moment within the rule's delay or, if it answers first, just
	// before its answer counts: the invocation fails (Runtime.ExitError)
	// and Lambda starts a new process.
	Crash = "crash"
	// Timeout gives an invocation the rule's delay as its time limit instead
	// of the function's timeout: the function sees that deadline, and is
	// killed at it (Sandbox.Timedout) if it has not answered.
	Timeout = "timeout"
)

// defaultCrashWithin bounds a crash's moment when the rule gives none.
const defaultCrashWithin = 100 * time.Millisecond

// Rule injects one kind of fault into a share of a service's operation.
type Rule struct {
	Service string        `json:"service"` // dynamodb, sqs or lambda, or *
	Op      string        `json:"op"`      // an operation name (for lambda a function name), or *
	Kind    string        `json:"kind"`
	Rate    float64       `json:"rate"`            // 0-1
	Delay   time.Duration `json:"delay,omitempty"` // latency; a crash's bound; a timeout's limit
	Count   int64         `json:"count"`           // how many were injected
	text    string
}

func (r Rule) String() string { return r.text }

// matches reports whether the rule covers service.op; "*" never covers
// lambda, whose faults are of other kinds.
func (r Rule) matches(service, op string) bool {
	if (service == "lambda") != (r.Service == "lambda") {
		return false
	}
	return (r.Service == "*" || r.Service == service) && (r.Op == "*" || r.Op == op)
}

// Parse reads rules written service:op:kind:rate, comma-separated, with
// latency as latency=<duration>, crashes as crash[=<within>] and timeouts as
// timeout=<limit>, e.g. "dynamodb:TransactWriteItems:conflict:0.1,
// sqs:ReceiveMessage:server:0.05,*:*:latency=5ms:0.2,lambda:*:crash=50ms:0.02".
func Parse(spec string) ([]Rule, error) {
	var rules []Rule
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) != 4 {
			return nil, fmt.Errorf("fault %q: want service:op:kind:rate", item)
		}
		r := Rule{Service: parts[0], Op: parts[1], Kind: parts[2], text: item}
		if kind, delay, ok := strings.Cut(r.Kind, "="); ok && (kind == Latency || kind == Crash || kind == Timeout) {
			d, err := time.ParseDuration(delay)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("fault %q: bad %s duration %q", item, kind, delay)
			}
			r.Kind, r.Delay = kind, d
		}
		lambdaKind := r.Kind == Crash || r.Kind == Timeout
		switch {
		case r.Service != "dynamodb" && r.Service != "sqs" && r.Service != "lambda" && r.Service != "*":
			return nil, fmt.Errorf("fault %q: service must be dynamodb, sqs, lambda or *", item)
		case r.Kind != Throttle && r.Kind != Server && r.Kind != Conflict && r.Kind != Latency && !lambdaKind:
			return nil, fmt.Errorf("fault %q: kind must be throttle, server, conflict, latency=<duration>, crash[=<within>] or timeout=<limit>", item)
		case lambdaKind != (r.Service == "lambda"):
			return nil, fmt.Errorf("fault %q: lambda takes crash and timeout faults only, and only lambda does", item)
		case r.Kind == Timeout && r.Delay == 0:
			return nil, fmt.Errorf("fault %q: a timeout needs its limit, timeout=<duration>", item)
		case r.Kind == Conflict && (r.Service != "dynamodb" || r.Op != "TransactWriteItems"):
			return nil, fmt.Errorf("fault %q: conflicts are dynamodb:TransactWriteItems only", item)
		case r.Kind == Throttle && r.Service != "dynamodb":
			return nil, fmt.Errorf("fault %q: throttling is emulated for dynamodb only", item)
		}
		if r.Kind == Crash && r.Delay == 0 {
			r.Delay = defaultCrashWithin
		}
		rate, err := strconv.ParseFloat(parts[3], 64)
		if err != nil || rate < 0 || rate > 1 {
			return nil, fmt.Errorf("fault %q: rate must be 0-1", item)
		}
		r.Rate = rate
		rules = append(rules, r)
	}
	return rules, nil
}

// Injector decides, call by call, whether to inject a fault.
type Injector struct {
	mu    sync.Mutex
	rules []Rule
}

// Set replaces the rules (nil turns faults off).
func (i *Injector) Set(rules []Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = append([]Rule(nil), rules...)
}

// Rules returns the rules with their counts.
func (i *Injector) Rules() []Rule {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := append([]Rule{}, i.rules...)
	sort.SliceStable(out, func(a, b int) bool { return out[a].text < out[b].text })
	return out
}

// decide returns the latency to add and the fault rule to answer with (nil for none).
func (i *Injector) decide(service, op string) (time.Duration, *Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var delay time.Duration
	for k := range i.rules {
		r := &i.rules[k]
		if !r.matches(service, op) || rand.Float64() >= r.Rate { //nolint:gosec // fault rates, not security
			continue
		}
		r.Count++
		if r.Kind == Latency {
			delay += r.Delay
			continue
		}
		got := *r
		return delay, &got
	}
	return delay, nil
}

// Invocation is what an invocation of a Lambda function suffers: a crash
// at CrashAfter, or a time limit of Limit; zero values for none.
type Invocation struct {
	CrashAfter time.Duration // > 0: the process is killed this long after it took the invocation
	Limit      time.Duration // > 0: the invocation's time limit
}

// DecideInvocation decides for one invocation of function. A nil Injector
// injects nothing.
func (i *Injector) DecideInvocation(function string) Invocation {
	if i == nil {
		return Invocation{}
	}
	_, r := i.decide("lambda", function)
	switch {
	case r == nil:
		return Invocation{}
	case r.Kind == Crash:
		return Invocation{CrashAfter: 1 + time.Duration(rand.Int64N(int64(r.Delay)))} //nolint:gosec // a fault's moment, not security
	default:
		return Invocation{Limit: r.Delay}
	}
}

// decideAndWait decides for one call of service.op and waits out its
// latency (until ctx ends); it returns the fault to inject, or nil.
func (i *Injector) decideAndWait(ctx context.Context, service, op string) *Rule {
	delay, rule := i.decide(service, op)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return rule
}

// Fails decides for one call of service.op that the local AWS makes inside
// itself (a stream mapping's read of its stream, which no HTTP request
// carries): it waits out any latency and reports whether the call fails. A
// nil Injector fails nothing.
func (i *Injector) Fails(ctx context.Context, service, op string) bool {
	if i == nil {
		return false
	}
	rule := i.decideAndWait(ctx, service, op)
	return rule != nil
}

// Answer is an injected fault's HTTP answer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decide decides for one call of service.op: it waits out any latency and
// returns the fault's answer in the service's JSON protocol, or nil to
// serve the call. items is the number of a transaction's items (for a
// conflict's cancellation reasons). A nil Injector injects nothing.
func (i *Injector) Decide(ctx context.Context, service, op string, items int) *Answer {
	if i == nil {
		return nil
	}
	rule := i.decideAndWait(ctx, service, op)
	if rule == nil {
		return nil
	}
	status, body := answer(service, rule.Kind, items)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Errortype", body["__type"].(string))
	if service == "dynamodb" {
		h.Set("X-Amz-Crc32", crc32Of(body))
	}
	return &Answer{Status: status, Header: h, Body: encode(body)}
}

// Write writes the answer.
func (a *Answer) Write(w http.ResponseWriter) {
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

// ServiceOf names the service and operation of a JSON-protocol target
// ("DynamoDB_20120810.PutItem", "AmazonSQS.ReceiveMessage"), or "" for others.
func ServiceOf(target string) (string, string) {
	if op, ok := strings.CutPrefix(target, "DynamoDB_20120810."); ok {
		return "dynamodb", op
	}
	if op, ok := strings.CutPrefix(target, "AmazonSQS."); ok {
		return "sqs", op
	}
	return "", ""
}

// Active reports whether any rule is set.
func (i *Injector) Active() bool {
	if i == nil {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.rules) > 0
}
