// Package events fills kumo's EventBridge gaps: PutEvents checked as
// EventBridge checks it, and delivery to SNS and SQS targets as
// events.amazonaws.com, with event patterns and input transformers.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/eventpattern"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// Service delivers EventBridge events to SNS targets, which kumo stores
// but never delivers: rules' event patterns are matched as EventBridge does
// (values, nested fields, prefix, exists, anything-but) and the target's
// Input, InputPath or InputTransformer shapes the message.
type Service struct {
	kumo      *upstream.Kumo
	publisher Publisher
	auth      Authorizer
	metrics   MetricRecorder // nil: none published
	log       *zap.Logger
	region    string

	ctx  context.Context // ends when the service closes
	stop context.CancelFunc
	wg   sync.WaitGroup // deliveries under way

	mu    sync.Mutex
	rules map[string]*eventRule // bus/name -> rule
}

type eventRule struct {
	arn     string // as kumo named it
	pattern *eventpattern.Pattern
	targets map[string]eventTarget // target id -> target
}

type eventTarget struct {
	Id               string
	Arn              string
	Input            string
	InputPath        string
	InputTransformer *struct {
		InputPathsMap map[string]string
		InputTemplate string
	}
	DeadLetterConfig *struct{ Arn string }
}

// Publisher publishes a message to an SNS topic.
type Publisher interface {
	Publish(ctx context.Context, topicARN, subject, message string) error
}

// Authorizer decides whether EventBridge, as its service principal, may
// publish to a topic for a rule (the topic's and the key's policies), or
// send to a target's dead-letter queue (the queue's and the key's).
type Authorizer interface {
	ServicePublish(ctx context.Context, service, sourceARN, sourceAccount, topicARN string) error
	ServiceSend(ctx context.Context, service, sourceARN, sourceAccount, queueURL string) error
}

// MetricRecorder takes the AWS/Events metrics of the rules.
type MetricRecorder interface {
	Record(namespace, name string, dims map[string]string, value float64, unit string)
}

// New returns the EventBridge gap filler; it delivers to SNS targets
// through p when auth lets it.
func New(k *upstream.Kumo, p Publisher, auth Authorizer, log *zap.Logger, region string) *Service {
	ctx, stop := context.WithCancel(context.Background())
	return &Service{kumo: k, publisher: p, auth: auth, log: log, region: region, ctx: ctx, stop: stop, rules: map[string]*eventRule{}}
}

// RecordMetricsTo makes the rules publish their AWS/Events metrics to rec.
// Call it before serving.
func (e *Service) RecordMetricsTo(rec MetricRecorder) { e.metrics = rec }

// Register adds the operations the layer completes to r.
func (e *Service) Register(r *awsapi.Router) {
	for _, op := range []string{"PutRule", "DeleteRule", "PutTargets", "RemoveTargets", "PutEvents"} {
		r.Target("AWSEvents", op, func(w http.ResponseWriter, r *http.Request) { e.handle(w, r, op) })
	}
	r.Target("AWSEvents", "CreateEventBus", e.createEventBus)
}

// Close ends the deliveries under way and waits for them.
func (e *Service) Close() {
	e.stop()
	e.wg.Wait()
}

func ruleKey(bus, name string) string {
	if bus == "" {
		bus = "default"
	}
	return awsapi.ResourceName(bus) + "/" + name
}

type eventsRequest struct {
	Name         string
	Rule         string
	EventBusName string
	EventPattern string
	Targets      []eventTarget
	Ids          []string
}

// patternOf reads a PutRule's event pattern: nil when it has none, or
// EventBridge's refusal of one that is not valid (InvalidEventPatternException,
// "Event pattern is not valid. Reason: ..."; PutRule in the EventBridge API
// Reference). A pattern with an operator the local AWS does not evaluate
// is refused too, saying so.
func patternOf(req eventsRequest) (*eventpattern.Pattern, string) {
	if req.EventPattern == "" {
		return nil, ""
	}
	p, err := eventpattern.Parse(req.EventPattern)
	switch {
	case errors.Is(err, eventpattern.ErrNotEmulated):
		return nil, err.Error()
	case err != nil:
		return nil, "Event pattern is not valid. Reason: " + err.Error()
	}
	return &p, ""
}

// handle lets kumo do its part, then keeps rules and targets, or delivers
// published events to SNS targets.
func (e *Service) handle(w http.ResponseWriter, r *http.Request, op string) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	if op == "PutEvents" {
		e.putEvents(w, r, body)
		return
	}
	var req eventsRequest
	readable := json.Unmarshal(body, &req) == nil
	var pattern *eventpattern.Pattern
	if op == "PutRule" && readable {
		var msg string
		if pattern, msg = patternOf(req); msg != "" {
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "InvalidEventPatternException", msg)
			return
		}
	}
	status, h, out, ok := e.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status < 300 && readable {
		var created struct{ RuleArn string }
		_ = json.Unmarshal(out, &created) // PutRule answers with the rule's ARN
		e.apply(op, req, pattern, created.RuleArn)
	}
	awsapi.Relay(w, status, h, out)
}

func (e *Service) apply(op string, req eventsRequest, pattern *eventpattern.Pattern, ruleARN string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch op {
	case "PutRule":
		rule := e.rules[ruleKey(req.EventBusName, req.Name)]
		if rule == nil {
			rule = &eventRule{targets: map[string]eventTarget{}}
			e.rules[ruleKey(req.EventBusName, req.Name)] = rule
		}
		rule.pattern, rule.arn = pattern, ruleARN
	case "DeleteRule":
		delete(e.rules, ruleKey(req.EventBusName, req.Name))
	case "PutTargets":
		if rule := e.rules[ruleKey(req.EventBusName, req.Rule)]; rule != nil {
			for _, t := range req.Targets {
				rule.targets[t.Id] = t
			}
		}
	case "RemoveTargets":
		if rule := e.rules[ruleKey(req.EventBusName, req.Rule)]; rule != nil {
			for _, id := range req.Ids {
				delete(rule.targets, id)
			}
		}
	}
}

// Deliver puts an event that an AWS service emits (a CloudWatch alarm
// state change, say) on the default bus.
func (e *Service) Deliver(event map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deliverLocked("", event)
}

// accountOf is the account of an ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deliverLocked delivers event to the SNS and SQS targets of every
// matching rule (Lambda targets are not delivered: README, gap table).
func (e *Service) deliverLocked(bus string, event map[string]any) {
	prefix := ruleKey(bus, "")
	for key, rule := range e.rules {
		if !strings.HasPrefix(key, prefix) || rule.pattern == nil || !rule.pattern.Matches(event) {
			continue
		}
		e.record(bus, key, "TriggeredRules", 1)
		for _, t := range rule.targets {
			if !strings.Contains(t.Arn, ":sns:") && !strings.Contains(t.Arn, ":sqs:") {
				e.log.Warn("event not delivered: the local AWS delivers to SNS and SQS targets only", zap.String("rule", key), zap.String("target", t.Arn))
				continue
			}
			d := delivery{bus: bus, rule: key, ruleARN: rule.arn, target: t, event: event}
			e.wg.Go(func() { e.deliver(d) })
		}
	}
}
