// Package emf writes CloudWatch Embedded Metric Format lines: one JSON line
// on stdout that CloudWatch Logs turns into metrics, with no API call.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// Metric is one value and its CloudWatch unit (Count, Milliseconds, ...).
type Metric struct {
	Value float64
	Unit  string
}

// Writer writes metric lines under one namespace and dimension set.
type Writer struct {
	out        io.Writer
	namespace  string
	dimensions map[string]string
}

// NewWriter returns a writer of metrics in namespace, each line carrying dimensions.
func NewWriter(out io.Writer, namespace string, dimensions map[string]string) *Writer {
	return &Writer{out: out, namespace: namespace, dimensions: dimensions}
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type meta struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Write emits one line holding metrics at time at.
func (w *Writer) Write(at time.Time, metrics map[string]Metric) error {
	doc := make(map[string]any, len(metrics)+len(w.dimensions)+1)
	dims := make([]string, 0, len(w.dimensions))
	for k, v := range w.dimensions {
		doc[k] = v
		dims = append(dims, k)
	}
	sort.Strings(dims)
	defs := make([]metricDef, 0, len(metrics))
	for name, m := range metrics {
		doc[name] = m.Value
		defs = append(defs, metricDef{Name: name, Unit: m.Unit})
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	doc["_aws"] = meta{
		Timestamp:         at.UnixMilli(),
		CloudWatchMetrics: []directive{{Namespace: w.namespace, Dimensions: [][]string{dims}, Metrics: defs}},
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	if _, err := w.out.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}
