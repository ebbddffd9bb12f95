// Package faults injects AWS-shaped failures into the local AWS at
// configured rates, per service and operation, so that tests and the soak
// can prove the pipeline loses nothing when AWS misbehaves as it documents
// it may: throttling, internal errors, transaction conflicts, latency.
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
)

// Rule injects one kind of fault into a share of a service's operation.
type Rule struct {
	Service string        `json:"service"` // dynamodb or sqs, or *
	Op      string        `json:"op"`      // an operation name, or *
	Kind    string        `json:"kind"`
	Rate    float64       `json:"rate"`            // 0-1
	Delay   time.Duration `json:"delay,omitempty"` // for latency
	Count   int64         `json:"count"`           // how many were injected
	text    string
}

func (r Rule) String() string { return r.text }

func (r Rule) matches(service, op string) bool {
	return (r.Service == "*" || r.Service == service) && (r.Op == "*" || r.Op == op)
}

// Parse reads rules written service:op:kind:rate, comma-separated, with
// latency as latency=<duration>, e.g.
// "dynamodb:TransactWriteItems:conflict:0.1,sqs:ReceiveMessage:server:0.05,*:*:latency=5ms:0.2".
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
		if kind, delay, ok := strings.Cut(r.Kind, "="); ok && kind == Latency {
			d, err := time.ParseDuration(delay)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("fault %q: bad latency %q", item, delay)
			}
			r.Kind, r.Delay = Latency, d
		}
		switch {
		case r.Service != "dynamodb" && r.Service != "sqs" && r.Service != "*":
			return nil, fmt.Errorf("fault %q: service must be dynamodb, sqs or *", item)
		case r.Kind != Throttle && r.Kind != Server && r.Kind != Conflict && r.Kind != Latency:
			return nil, fmt.Errorf("fault %q: kind must be throttle, server, conflict or latency=<duration>", item)
		case r.Kind == Conflict && (r.Service != "dynamodb" || r.Op != "TransactWriteItems"):
			return nil, fmt.Errorf("fault %q: conflicts are dynamodb:TransactWriteItems only", item)
		case r.Kind == Throttle && r.Service != "dynamodb":
			return nil, fmt.Errorf("fault %q: throttling is emulated for dynamodb only", item)
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

// decide returns the latency to add and the fault kind to answer with ("" for none).
func (i *Injector) decide(service, op string) (time.Duration, string) {
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
		return delay, r.Kind
	}
	return delay, ""
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
	delay, kind := i.decide(service, op)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if kind == "" {
		return nil
	}
	status, body := answer(service, kind, items)
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
