package executor

import (
	"bytes"
	"encoding/json"
	"time"
)

// MetricRecorder takes the metrics the executor publishes to CloudWatch.
type MetricRecorder interface {
	Record(namespace, name string, dims map[string]string, value float64, unit string)
}

// RecordMetricsTo makes the executor publish each function's AWS/Lambda
// metrics and the embedded-metric-format lines of its output to rec. Call it
// before deploying functions.
func (e *Executor) RecordMetricsTo(rec MetricRecorder) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.metrics = rec
}

// LogSink takes each line a function writes, as a log event of its log group.
type LogSink interface {
	Line(group string, event []byte)
}

// SendLogsTo makes the executor pass each function output line to sink (the
// log group's metric filters). Call it before deploying functions.
func (e *Executor) SendLogsTo(sink LogSink) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = sink
}

func (e *Executor) logSink() LogSink {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs
}

func (e *Executor) recorder() MetricRecorder {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.metrics
}

// invoked publishes one invocation's AWS/Lambda metrics, per FunctionName
// ("Types of metrics for Lambda functions"): Invocations counts every
// invocation that ran, including those that failed; Errors counts function
// errors and timeouts (0 for a success); Duration in milliseconds;
// ConcurrentExecutions the instances busy; Throttles the refused ones.
func (e *Executor) invoked(f *function, r Result, took time.Duration, throttled bool) {
	rec := e.recorder()
	if rec == nil {
		return
	}
	dims := map[string]string{"FunctionName": f.spec.Name}
	if throttled {
		rec.Record("AWS/Lambda", "Throttles", dims, 1, "Count")
		return
	}
	failed := 0.0
	if r.FunctionError != "" {
		failed = 1
	}
	rec.Record("AWS/Lambda", "Invocations", dims, 1, "Count")
	rec.Record("AWS/Lambda", "Errors", dims, failed, "Count")
	rec.Record("AWS/Lambda", "Duration", dims, float64(took)/float64(time.Millisecond), "Milliseconds")
}

// concurrent publishes how many of a function's invocations are running.
func (e *Executor) concurrent(f *function, n int64) {
	if rec := e.recorder(); rec != nil {
		rec.Record("AWS/Lambda", "ConcurrentExecutions", map[string]string{"FunctionName": f.spec.Name}, float64(n), "Count")
	}
}

// emfLine reads one line of function output as the CloudWatch embedded
// metric format: a JSON object whose _aws.CloudWatchMetrics directives name
// the namespace, dimension sets and metrics whose values the object holds
// ("Specification: Embedded metric format"). Other lines are plain logs.
func emfLine(rec MetricRecorder, line []byte) {
	if rec == nil || !bytes.Contains(line, []byte(`"_aws"`)) {
		return
	}
	var doc map[string]any
	if json.Unmarshal(line, &doc) != nil {
		return
	}
	meta, _ := doc["_aws"].(map[string]any)
	directives, _ := meta["CloudWatchMetrics"].([]any)
	for _, d := range directives {
		dir, _ := d.(map[string]any)
		namespace, _ := dir["Namespace"].(string)
		sets, _ := dir["Dimensions"].([]any)
		metrics, _ := dir["Metrics"].([]any)
		if namespace == "" {
			continue
		}
		for _, set := range dimensionSets(doc, sets) {
			for _, m := range metrics {
				def, _ := m.(map[string]any)
				name, _ := def["Name"].(string)
				unit, _ := def["Unit"].(string)
				if unit == "" {
					unit = "None"
				}
				for _, v := range values(doc[name]) {
					rec.Record(namespace, name, set, v, unit)
				}
			}
		}
	}
}

// dimensionSets resolves each dimension set's keys to the object's values;
// a set naming a key the object lacks is invalid and skipped, as
// CloudWatch rejects it. No sets means one metric without dimensions.
func dimensionSets(doc map[string]any, sets []any) []map[string]string {
	if len(sets) == 0 {
		return []map[string]string{{}}
	}
	var out []map[string]string
	for _, s := range sets {
		keys, _ := s.([]any)
		dims := map[string]string{}
		for _, k := range keys {
			key, _ := k.(string)
			v, ok := doc[key].(string)
			if !ok {
				dims = nil
				break
			}
			dims[key] = v
		}
		if dims != nil {
			out = append(out, dims)
		}
	}
	return out
}

// values is a metric's value or array of values.
func values(v any) []float64 {
	switch x := v.(type) {
	case float64:
		return []float64{x}
	case []any:
		var out []float64
		for _, e := range x {
			if f, ok := e.(float64); ok {
				out = append(out, f)
			}
		}
		return out
	}
	return nil
}
