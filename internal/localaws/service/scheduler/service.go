// Package scheduler fires the EventBridge Scheduler schedules kumo stores.
package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

var errNoSchedule = errors.New("no such schedule")

// Invoker invokes a function asynchronously, as the Scheduler's Lambda targets are.
type Invoker interface {
	InvokeAsync(function string, payload []byte)
}

// Authorizer decides a call a service makes with a role it assumes for a
// source (the access guard's ServiceActsAs).
type Authorizer interface {
	ServiceActsAs(ctx context.Context, service, roleARN, sourceARN, sourceAccount, action, resource string) error
}

// Service fires EventBridge Scheduler schedules, which kumo stores but
// never runs: rate(), cron() and at() expressions in their time zone, with
// Lambda targets invoked asynchronously with the schedule's input.
type Service struct {
	kumo    *upstream.Kumo
	log     *zap.Logger
	invoker Invoker
	auth    Authorizer   // nil: schedules invoke without a role check
	clock   *clock.Clock // schedules follow the local AWS's clock

	mu        sync.Mutex
	schedules map[string]*schedule

	done chan struct{}
	wg   sync.WaitGroup // the clock
}

type schedule struct {
	name      string
	arn       string // arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>
	expr      string
	loc       *time.Location
	target    string // function name
	targetARN string
	role      string // the target's execution role ARN
	input     string
	next      time.Time // zero: never again
}

// New returns the scheduler and starts its clock; Close stops it. With
// auth, a schedule invokes its target only as its role may.
func New(k *upstream.Kumo, log *zap.Logger, invoker Invoker, auth Authorizer, clk *clock.Clock) *Service {
	sc := &Service{kumo: k, log: log, invoker: invoker, auth: auth, clock: clk, schedules: map[string]*schedule{}, done: make(chan struct{})}
	sc.wg.Go(sc.loop)
	return sc
}

// Register adds the Scheduler operations the layer follows to r, and the
// admin path that fires a schedule now.
func (sc *Service) Register(r *awsapi.Router) {
	r.REST("/schedules/{name}", sc.handle)
	r.REST("POST /_localaws/schedules/{name}/trigger", sc.trigger)
}

// Close stops the clock and waits for it.
func (sc *Service) Close() {
	close(sc.done)
	sc.wg.Wait()
}

func (sc *Service) loop() {
	// A tick each virtual second, at most a hundred a real second.
	t := time.NewTicker(max(sc.clock.RealDuration(time.Second), 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-sc.done:
			return
		case <-t.C:
			now := sc.clock.Now()
			sc.mu.Lock()
			var due []*schedule
			for _, s := range sc.schedules {
				if !s.next.IsZero() && !now.Before(s.next) {
					due = append(due, s)
					s.next = nextFire(s.expr, s.loc, now)
				}
			}
			sc.mu.Unlock()
			for _, s := range due {
				sc.fire(s)
			}
		}
	}
}

func (sc *Service) fire(s *schedule) {
	sc.log.Info("schedule fired", zap.String("schedule", s.name), zap.String("target", s.target))
	// "EventBridge Scheduler assumes the execution role to invoke the
	// target" (Scheduler User Guide, "Set up the execution role"): its
	// trust policy and lambda:InvokeFunction on the target must allow it.
	if sc.auth != nil {
		if err := sc.auth.ServiceActsAs(context.Background(), "scheduler.amazonaws.com", s.role, s.arn, awsapi.Account, "lambda:InvokeFunction", s.targetARN); err != nil {
			sc.log.Error("schedule could not invoke its target", zap.String("schedule", s.name), zap.String("role", s.role), zap.Error(err))
			return
		}
	}
	sc.invoker.InvokeAsync(s.target, []byte(s.input))
}

// Trigger fires a schedule now, for tests and demos.
func (sc *Service) Trigger(_ context.Context, name string) error {
	sc.mu.Lock()
	s := sc.schedules[name]
	sc.mu.Unlock()
	if s == nil {
		return fmt.Errorf("%w: %s", errNoSchedule, name)
	}
	sc.fire(s)
	return nil
}

// trigger serves POST /_localaws/schedules/{name}/trigger.
func (sc *Service) trigger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := sc.Trigger(r.Context(), name); err != nil {
		awsapi.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
		return
	}
	awsapi.WriteJSON(w, http.StatusOK, map[string]string{"triggered": name})
}

// handle keeps the layer's copy of a schedule in step with kumo's.
func (sc *Service) handle(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	var parsed *schedule
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		var err error
		if parsed, err = parseSchedule(name, awsapi.SigningRegion(r), body, sc.clock.Now()); err != nil {
			awsapi.WriteError(w, http.StatusBadRequest, "ValidationException", err.Error())
			return
		}
	}
	status, h, out, ok := sc.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status < 300 {
		sc.mu.Lock()
		switch r.Method {
		case http.MethodPost, http.MethodPut:
			sc.schedules[name] = parsed
		case http.MethodDelete:
			delete(sc.schedules, name)
		}
		sc.mu.Unlock()
	}
	awsapi.Relay(w, status, h, out)
}

func parseSchedule(name, region string, body []byte, now time.Time) (*schedule, error) {
	var req struct {
		GroupName                  string
		ScheduleExpression         string
		ScheduleExpressionTimezone string
		State                      string
		Target                     struct{ Arn, Input, RoleArn string }
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("request body is not JSON: %w", err)
	}
	loc := time.UTC
	if req.ScheduleExpressionTimezone != "" {
		l, err := time.LoadLocation(req.ScheduleExpressionTimezone)
		if err != nil {
			return nil, fmt.Errorf("invalid ScheduleExpressionTimezone %q", req.ScheduleExpressionTimezone)
		}
		loc = l
	}
	if _, err := validateExpression(req.ScheduleExpression); err != nil {
		return nil, err
	}
	group := req.GroupName
	if group == "" {
		group = "default"
	}
	s := &schedule{
		name: name, arn: fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/%s/%s", region, awsapi.Account, group, name),
		expr: req.ScheduleExpression, loc: loc, target: awsapi.FunctionName(req.Target.Arn), targetARN: req.Target.Arn,
		role: req.Target.RoleArn, input: req.Target.Input,
	}
	if req.State != "DISABLED" {
		s.next = nextFire(s.expr, loc, now)
	}
	return s, nil
}

func validateExpression(expr string) (string, error) {
	kind, arg, ok := strings.Cut(strings.TrimSuffix(expr, ")"), "(")
	if !ok || !strings.HasSuffix(expr, ")") {
		return "", fmt.Errorf("invalid ScheduleExpression %q", expr)
	}
	switch kind {
	case "rate":
		_, err := rateInterval(arg)
		return kind, err
	case "cron":
		_, err := parseCron(arg)
		return kind, err
	case "at":
		_, err := time.Parse("2006-01-02T15:04:05", arg)
		if err != nil {
			return kind, fmt.Errorf("invalid at() expression %q", expr)
		}
		return kind, nil
	}
	return "", fmt.Errorf("invalid ScheduleExpression %q: use rate(), cron() or at()", expr)
}
