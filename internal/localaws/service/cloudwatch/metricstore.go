package cloudwatch

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics is CloudWatch's metric store: datapoints per metric (namespace,
// name and dimension set), aggregated into statistics per period on read.
// "Metrics exist only in the region in which they are created" and "a
// metric is uniquely defined by a name, a namespace, and zero or more
// dimensions" (CloudWatch concepts): a different dimension set is a
// different metric.
type metrics struct {
	mu     sync.Mutex
	series map[string]*series
}

type series struct {
	Metric
	points []point // in arrival order
}

// point is one datapoint or statistic set.
type point struct {
	at                   time.Time
	sum, min, max, count float64
	unit                 string
}

// retention bounds what is kept: CloudWatch keeps 1-minute data 15 days.
const retention = 15 * 24 * time.Hour

func newMetrics() *metrics { return &metrics{series: map[string]*series{}} }

// Dimension is a metric dimension.
type Dimension struct {
	Name  string
	Value string
}

// Metric names a metric.
type Metric struct {
	Namespace  string      `cbor:",omitempty"`
	MetricName string      `cbor:",omitempty"`
	Dimensions []Dimension `cbor:",omitempty"`
}

func (m Metric) key() string {
	dims := append([]Dimension(nil), m.Dimensions...)
	sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	var b strings.Builder
	b.WriteString(m.Namespace + "\x00" + m.MetricName)
	for _, d := range dims {
		b.WriteString("\x00" + d.Name + "=" + d.Value)
	}
	return b.String()
}

// put adds a point to metric m, dropping points past retention.
func (s *metrics) put(m Metric, p point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := m.key()
	ser := s.series[k]
	if ser == nil {
		ser = &series{Metric: m}
		s.series[k] = ser
	}
	ser.points = append(ser.points, p)
	if old := ser.points[0].at; p.at.Sub(old) > retention+time.Hour {
		keep := ser.points[:0]
		for _, q := range ser.points {
			if p.at.Sub(q.at) <= retention {
				keep = append(keep, q)
			}
		}
		ser.points = keep
	}
}

// Add records one value of metric m at time at (the sink the samplers and
// the function-output reader use).
func (s *metrics) Add(m Metric, at time.Time, value float64, unit string) {
	s.put(m, point{at: at, sum: value, min: value, max: value, count: 1, unit: unit})
}

// bucket is the statistics of one period.
type bucket struct {
	start                time.Time
	sum, min, max, count float64
	unit                 string
}

// stat returns the named statistic: SampleCount, Average, Sum, Minimum or Maximum.
func (b bucket) stat(name string) (float64, bool) {
	switch name {
	case "SampleCount":
		return b.count, true
	case "Average":
		return b.sum / b.count, true
	case "Sum":
		return b.sum, true
	case "Minimum":
		return b.min, true
	case "Maximum":
		return b.max, true
	}
	return 0, false
}

// isStatistic reports whether name is a statistic the store computes.
func isStatistic(name string) bool {
	_, ok := bucket{count: 1}.stat(name)
	return ok
}

// buckets aggregates metric m's points in [start, end) into periods aligned
// to the period (a period's datapoint is stamped with its start), oldest
// first; periods without a point are absent. unit, when set, keeps only
// points of that unit.
func (s *metrics) buckets(m Metric, start, end time.Time, period time.Duration, unit string) []bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	ser := s.series[m.key()]
	if ser == nil || period <= 0 {
		return nil
	}
	byStart := map[time.Time]*bucket{}
	for _, p := range ser.points {
		if p.at.Before(start) || !p.at.Before(end) || unit != "" && p.unit != unit {
			continue
		}
		at := p.at.Truncate(period)
		b := byStart[at]
		if b == nil {
			b = &bucket{start: at, min: math.Inf(1), max: math.Inf(-1), unit: p.unit}
			byStart[at] = b
		}
		b.sum += p.sum
		b.count += p.count
		b.min = math.Min(b.min, p.min)
		b.max = math.Max(b.max, p.max)
	}
	out := make([]bucket, 0, len(byStart))
	for _, b := range byStart {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// list returns the metrics matching namespace, name and dimension filters
// (a filter without a value matches any value of that dimension).
func (s *metrics) list(namespace, name string, filters []Dimension) []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Metric
	for _, ser := range s.series {
		if namespace != "" && ser.Namespace != namespace || name != "" && ser.MetricName != name || !hasDimensions(ser.Dimensions, filters) {
			continue
		}
		out = append(out, ser.Metric)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

func hasDimensions(dims, filters []Dimension) bool {
	for _, f := range filters {
		found := false
		for _, d := range dims {
			if d.Name == f.Name && (f.Value == "" || d.Value == f.Value) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
