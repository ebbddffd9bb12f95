package localaws

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/uuid"
	"go.uber.org/zap"
)

// eventRules delivers EventBridge events to SNS targets, which kumo stores
// but never delivers: rules' event patterns are matched as EventBridge does
// (values, nested fields, prefix, exists, anything-but) and the target's
// Input, InputPath or InputTransformer shapes the message.
type eventRules struct {
	s     *Server
	mu    sync.Mutex
	rules map[string]*eventRule // bus/name -> rule
}

type eventRule struct {
	pattern map[string]any
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
}

func newEventRules(s *Server) *eventRules { return &eventRules{s: s, rules: map[string]*eventRule{}} }

func ruleKey(bus, name string) string {
	if bus == "" {
		bus = "default"
	}
	return queueName(bus) + "/" + name
}

// handler returns the layer's handler for an EventBridge operation, or nil.
func (e *eventRules) handler(op string) http.HandlerFunc {
	switch op {
	case "PutRule", "DeleteRule", "PutTargets", "RemoveTargets", "PutEvents":
		return func(w http.ResponseWriter, r *http.Request) { e.handle(w, r, op) }
	}
	return nil
}

type eventsRequest struct {
	Name         string
	Rule         string
	EventBusName string
	EventPattern string
	Targets      []eventTarget
	Ids          []string
	Entries      []struct {
		Source, DetailType, Detail, EventBusName string
		Resources                                []string
	}
}

// handle lets kumo do its part, then keeps rules and targets, or delivers
// published events to SNS targets.
func (e *eventRules) handle(w http.ResponseWriter, r *http.Request, op string) {
	body, status, h, out, ok := e.s.readAndExchange(w, r)
	if !ok {
		return
	}
	var req eventsRequest
	if status < 300 && json.Unmarshal(body, &req) == nil {
		e.apply(op, req)
	}
	relay(w, status, h, out)
}

func (e *eventRules) apply(op string, req eventsRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch op {
	case "PutRule":
		rule := e.rules[ruleKey(req.EventBusName, req.Name)]
		if rule == nil {
			rule = &eventRule{targets: map[string]eventTarget{}}
			e.rules[ruleKey(req.EventBusName, req.Name)] = rule
		}
		rule.pattern = nil
		if req.EventPattern != "" {
			_ = json.Unmarshal([]byte(req.EventPattern), &rule.pattern)
		}
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
	case "PutEvents":
		for _, entry := range req.Entries {
			event := map[string]any{
				"version": "0", "id": uuid.NewString(), "detail-type": entry.DetailType, "source": entry.Source,
				"account": "000000000000", "time": time.Now().UTC().Format(time.RFC3339), "region": e.s.opts.Region,
				"resources": nonNil(entry.Resources), "detail": map[string]any{},
			}
			if entry.Detail != "" {
				var detail any
				if json.Unmarshal([]byte(entry.Detail), &detail) == nil {
					event["detail"] = detail
				}
			}
			e.deliverLocked(entry.EventBusName, event)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deliverLocked publishes event to the SNS targets of every matching rule.
func (e *eventRules) deliverLocked(bus string, event map[string]any) {
	prefix := ruleKey(bus, "")
	for key, rule := range e.rules {
		if !strings.HasPrefix(key, prefix) || rule.pattern == nil || !matches(rule.pattern, event) {
			continue
		}
		for _, t := range rule.targets {
			if !strings.Contains(t.Arn, ":sns:") {
				continue // kumo delivers SQS and Lambda targets itself
			}
			msg := transform(t, event)
			go func(arn string) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := e.s.SNS.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: &msg}); err != nil {
					e.s.log.Warn("event not delivered to SNS target", zap.String("rule", key), zap.String("topic", arn), zap.Error(err))
				}
			}(t.Arn)
		}
	}
}

// matches applies an EventBridge event pattern to an event.
func matches(pattern map[string]any, event map[string]any) bool {
	for field, want := range pattern {
		got, present := event[field]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matches(w, sub) {
				return false
			}
		case []any:
			if !matchAny(w, got, present) {
				return false
			}
		default:
			return false // patterns hold arrays or objects only
		}
	}
	return true
}

// matchAny is true when one of the allowed values or filters matches got.
func matchAny(allowed []any, got any, present bool) bool {
	values := []any{got}
	if list, ok := got.([]any); ok {
		values = list // an array field matches when any element does
	}
	if l, ok := got.([]string); ok {
		values = make([]any, len(l))
		for i, v := range l {
			values[i] = v
		}
	}
	for _, a := range allowed {
		if f, ok := a.(map[string]any); ok {
			if matchFilter(f, values, present) {
				return true
			}
			continue
		}
		for _, v := range values {
			if present && v == a {
				return true
			}
		}
	}
	return false
}

func matchFilter(f map[string]any, values []any, present bool) bool {
	if exists, ok := f["exists"].(bool); ok {
		return exists == present
	}
	if !present {
		return false
	}
	for _, v := range values {
		s, isString := v.(string)
		if p, ok := f["prefix"].(string); ok && isString && strings.HasPrefix(s, p) {
			return true
		}
		if but, ok := f["anything-but"]; ok {
			excluded := []any{but}
			if l, isList := but.([]any); isList {
				excluded = l
			}
			hit := false
			for _, x := range excluded {
				hit = hit || x == v
			}
			if !hit {
				return true
			}
		}
	}
	return false
}

var placeholder = regexp.MustCompile(`<([A-Za-z0-9_.-]+)>`)

// transform shapes the message a target receives.
func transform(t eventTarget, event map[string]any) string {
	switch {
	case t.Input != "":
		return t.Input
	case t.InputPath != "":
		b, _ := json.Marshal(jsonPath(event, t.InputPath))
		return string(b)
	case t.InputTransformer != nil:
		return placeholder.ReplaceAllStringFunc(t.InputTransformer.InputTemplate, func(m string) string {
			path, ok := t.InputTransformer.InputPathsMap[strings.Trim(m, "<>")]
			if !ok {
				return m
			}
			switch v := jsonPath(event, path).(type) {
			case string:
				return v
			case nil:
				return ""
			default:
				b, _ := json.Marshal(v)
				return string(b)
			}
		})
	}
	b, _ := json.Marshal(event)
	return string(b)
}

// jsonPath reads a simple $.a.b path.
func jsonPath(doc map[string]any, path string) any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(path, "$"), "."), ".") {
		if part == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}
