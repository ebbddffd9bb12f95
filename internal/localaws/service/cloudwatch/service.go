// Package cloudwatch is CloudWatch for the local AWS: metrics (PutMetricData
// and the samples the other services record), metric alarms evaluated as
// CloudWatch evaluates them, with their actions and state-change events,
// and dashboards. kumo stores alarms but never evaluates them and does not
// aggregate metrics by period, so the layer owns these operations whole.
package cloudwatch

import (
	"context"
	"sort"
	"sync"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
)

// signingService is CloudWatch's name in SigV4 credential scopes.
const signingService = "monitoring"

// Options configure the service.
type Options struct {
	Region    string
	Clock     *clock.Clock
	Log       *zap.Logger
	Publisher Publisher // alarm actions to SNS topics
	Auth      Authorizer
	Events    EventBus // alarm state-change events
}

// Service owns CloudWatch's metrics, alarms and dashboards.
type Service struct {
	region    string
	clock     *clock.Clock
	log       *zap.Logger
	publisher Publisher
	auth      Authorizer // nil: actions are not judged
	events    EventBus

	metrics *metrics
	alarms  *alarms
	boards  *dashboards

	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New returns the CloudWatch service and starts its alarm evaluation.
func New(o Options) *Service {
	ctx, stop := context.WithCancel(context.Background())
	s := &Service{region: o.Region, clock: o.Clock, log: o.Log, publisher: o.Publisher, auth: o.Auth, events: o.Events,
		metrics: newMetrics(), alarms: newAlarms(), boards: newDashboards(o.Region), ctx: ctx, stop: stop}
	s.wg.Go(func() { s.run(ctx) })
	return s
}

// Close stops alarm evaluation.
func (s *Service) Close() {
	s.stop()
	s.wg.Wait()
}

// Record adds one value of a metric at the current time: the local AWS's
// own services publish their metrics (AWS/SQS, AWS/Lambda, functions'
// embedded metric format lines) through it.
func (s *Service) Record(namespace, name string, dims map[string]string, value float64, unit string) {
	m := Metric{Namespace: namespace, MetricName: name}
	for k, v := range dims {
		m.Dimensions = append(m.Dimensions, Dimension{Name: k, Value: v})
	}
	sort.Slice(m.Dimensions, func(i, j int) bool { return m.Dimensions[i].Name < m.Dimensions[j].Name })
	s.metrics.Add(m, s.clock.Now(), value, unit)
}

// EvaluateNow evaluates every alarm as of now, at once (the admin endpoint,
// for tests that set a state and want the metric's verdict back).
func (s *Service) EvaluateNow() { s.evaluateAll(s.ctx, s.clock.Now()) }

// Register adds the operations the service owns to r, in both protocols.
func (s *Service) Register(r *awsapi.Router) {
	ops := map[string]operation{
		"PutMetricData":        op(s.putMetricData),
		"GetMetricStatistics":  op(s.getMetricStatistics),
		"GetMetricData":        op(s.getMetricData),
		"ListMetrics":          op(s.listMetrics),
		"PutMetricAlarm":       op(s.putMetricAlarm),
		"DeleteAlarms":         op(s.deleteAlarms),
		"DescribeAlarms":       op(s.describeAlarms),
		"SetAlarmState":        op(s.setAlarmState),
		"DescribeAlarmHistory": op(s.describeAlarmHistory),
		"EnableAlarmActions":   op(s.setAlarmActions(true)),
		"DisableAlarmActions":  op(s.setAlarmActions(false)),
		"ListTagsForResource":  op(s.tagCall("ListTagsForResource")),
		"TagResource":          op(s.tagCall("TagResource")),
		"UntagResource":        op(s.tagCall("UntagResource")),
	}
	for name, o := range ops {
		r.Query(signingService, name, serveQuery(o))
		// smithy RPC v2 CBOR: POST /service/{service}/operation/{operation}
		r.REST("POST /service/"+cloudWatchService+"/operation/"+name, serveCBOR(o))
	}
	for _, op := range dashboardOps {
		r.Query(signingService, op, s.boards.query)
		r.REST("POST /service/"+cloudWatchService+"/operation/"+op, s.boards.cbor)
	}
}
