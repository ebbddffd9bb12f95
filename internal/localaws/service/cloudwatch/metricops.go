package cloudwatch

import (
	"strings"
	"time"
)

// The metric operations: PutMetricData, GetMetricStatistics, GetMetricData
// and ListMetrics. Timestamps in requests and answers are the local AWS's
// clock (real time unless a time scale is set).

type metricDatum struct {
	MetricName        string
	Dimensions        []Dimension
	Timestamp         time.Time
	Value             *float64
	Values            []float64
	Counts            []float64
	StatisticValues   *statisticSet
	Unit              string
	StorageResolution int32
}

type statisticSet struct {
	SampleCount, Sum, Minimum, Maximum float64
}

type putMetricDataRequest struct {
	Namespace  string
	MetricData []metricDatum
}

type empty struct{}

func (s *Service) putMetricData(req *putMetricDataRequest) (empty, error) {
	// "You cannot specify a namespace that begins with 'AWS/'" (PutMetricData).
	if req.Namespace == "" {
		return empty{}, missing("Namespace")
	}
	if strings.HasPrefix(req.Namespace, "AWS/") {
		return empty{}, invalid("The value AWS/ for parameter Namespace is invalid.")
	}
	now := s.clock.Now()
	for _, d := range req.MetricData {
		if d.MetricName == "" {
			return empty{}, missing("MetricData.member.N.MetricName")
		}
		m := Metric{Namespace: req.Namespace, MetricName: d.MetricName, Dimensions: d.Dimensions}
		at := d.Timestamp
		if at.IsZero() {
			at = now
		}
		switch {
		case d.StatisticValues != nil:
			v := d.StatisticValues
			s.metrics.put(m, point{at: at, sum: v.Sum, min: v.Minimum, max: v.Maximum, count: v.SampleCount, unit: d.Unit})
		case len(d.Values) > 0:
			// "Counts: ... If you omit the Counts array, the default of 1 is used as the value for each count."
			if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
				return empty{}, invalid("The Values and Counts arrays of %s must have the same length.", d.MetricName)
			}
			for i, v := range d.Values {
				c := 1.0
				if len(d.Counts) > 0 {
					c = d.Counts[i]
				}
				s.metrics.put(m, point{at: at, sum: v * c, min: v, max: v, count: c, unit: d.Unit})
			}
		case d.Value != nil:
			s.metrics.Add(m, at, *d.Value, d.Unit)
		default:
			return empty{}, missing("MetricData.member.N.Value")
		}
	}
	return empty{}, nil
}

type getMetricStatisticsRequest struct {
	Namespace          string
	MetricName         string
	Dimensions         []Dimension
	StartTime          time.Time
	EndTime            time.Time
	Period             int32
	Statistics         []string
	ExtendedStatistics []string
	Unit               string
}

type datapoint struct {
	Timestamp   time.Time
	SampleCount *float64 `cbor:",omitempty"`
	Average     *float64 `cbor:",omitempty"`
	Sum         *float64 `cbor:",omitempty"`
	Minimum     *float64 `cbor:",omitempty"`
	Maximum     *float64 `cbor:",omitempty"`
	Unit        string   `cbor:",omitempty"`
}

type getMetricStatisticsResponse struct {
	Label      string
	Datapoints []datapoint
}

func (s *Service) getMetricStatistics(req *getMetricStatisticsRequest) (getMetricStatisticsResponse, error) {
	if req.Namespace == "" || req.MetricName == "" {
		return getMetricStatisticsResponse{}, missing("Namespace and MetricName")
	}
	if len(req.ExtendedStatistics) > 0 {
		return getMetricStatisticsResponse{}, notEmulated("ExtendedStatistics (percentiles)")
	}
	if req.Period <= 0 || len(req.Statistics) == 0 {
		return getMetricStatisticsResponse{}, missing("Period and Statistics")
	}
	out := getMetricStatisticsResponse{Label: req.MetricName, Datapoints: []datapoint{}}
	m := Metric{Namespace: req.Namespace, MetricName: req.MetricName, Dimensions: req.Dimensions}
	for _, b := range s.metrics.buckets(m, req.StartTime, req.EndTime, time.Duration(req.Period)*time.Second, req.Unit) {
		dp := datapoint{Timestamp: b.start, Unit: b.unit}
		for _, name := range req.Statistics {
			v, ok := b.stat(name)
			if !ok {
				return getMetricStatisticsResponse{}, invalid("The value %s for parameter Statistics is invalid.", name)
			}
			switch name {
			case "SampleCount":
				dp.SampleCount = &v
			case "Average":
				dp.Average = &v
			case "Sum":
				dp.Sum = &v
			case "Minimum":
				dp.Minimum = &v
			case "Maximum":
				dp.Maximum = &v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

type metricStat struct {
	Metric Metric
	Period int32
	Stat   string
	Unit   string
}

type metricDataQuery struct {
	Id         string //nolint:revive // the API's member name
	MetricStat *metricStat
	Expression string
	Label      string
	ReturnData *bool
}

type getMetricDataRequest struct {
	MetricDataQueries []metricDataQuery
	StartTime         time.Time
	EndTime           time.Time
	ScanBy            string
	NextToken         string
}

type metricDataResult struct {
	Id         string //nolint:revive // the API's member name
	Label      string
	Timestamps []time.Time
	Values     []float64
	StatusCode string
}

type getMetricDataResponse struct {
	MetricDataResults []metricDataResult
	Messages          []struct{} `cbor:",omitempty"`
}

func (s *Service) getMetricData(req *getMetricDataRequest) (getMetricDataResponse, error) {
	out := getMetricDataResponse{MetricDataResults: []metricDataResult{}}
	for _, q := range req.MetricDataQueries {
		if q.Expression != "" {
			return out, notEmulated("Metric math (GetMetricData Expression)")
		}
		if q.MetricStat == nil {
			return out, missing("MetricDataQueries.member.N.MetricStat")
		}
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		ms := q.MetricStat
		if !isStatistic(ms.Stat) {
			return out, notEmulated("The statistic " + ms.Stat)
		}
		res := metricDataResult{Id: q.Id, Label: q.Label, Timestamps: []time.Time{}, Values: []float64{}, StatusCode: "Complete"}
		if res.Label == "" {
			res.Label = ms.Metric.MetricName
		}
		bs := s.metrics.buckets(ms.Metric, req.StartTime, req.EndTime, time.Duration(ms.Period)*time.Second, ms.Unit)
		// "ScanBy: TimestampDescending (the default) returns the newest data first."
		if req.ScanBy != "TimestampAscending" {
			for i, j := 0, len(bs)-1; i < j; i, j = i+1, j-1 {
				bs[i], bs[j] = bs[j], bs[i]
			}
		}
		for _, b := range bs {
			v, _ := b.stat(ms.Stat)
			res.Timestamps = append(res.Timestamps, b.start)
			res.Values = append(res.Values, v)
		}
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	return out, nil
}

type listMetricsRequest struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
	NextToken  string
}

type listMetricsResponse struct {
	Metrics []Metric
}

func (s *Service) listMetrics(req *listMetricsRequest) (listMetricsResponse, error) {
	return listMetricsResponse{Metrics: append([]Metric{}, s.metrics.list(req.Namespace, req.MetricName, req.Dimensions)...)}, nil
}
