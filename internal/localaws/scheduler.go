package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

var errNoSchedule = errors.New("no such schedule")

// Scheduler fires EventBridge Scheduler schedules, which kumo stores but
// never runs: rate(), cron() and at() expressions in their time zone, with
// Lambda targets invoked asynchronously with the schedule's input.
type Scheduler struct {
	s         *Server
	mu        sync.Mutex
	schedules map[string]*schedule
	done      chan struct{}
	once      sync.Once
}

type schedule struct {
	name   string
	expr   string
	loc    *time.Location
	target string // function name
	input  string
	next   time.Time // zero: never again
}

func newScheduler(s *Server) *Scheduler {
	sc := &Scheduler{s: s, schedules: map[string]*schedule{}, done: make(chan struct{})}
	go sc.loop()
	return sc
}

func (sc *Scheduler) stop() { sc.once.Do(func() { close(sc.done) }) }

func (sc *Scheduler) loop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-sc.done:
			return
		case now := <-t.C:
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

func (sc *Scheduler) fire(s *schedule) {
	sc.s.log.Info("schedule fired", zap.String("schedule", s.name), zap.String("target", s.target))
	go sc.s.invokeAsync(s.target, []byte(s.input))
}

// Trigger fires a schedule now, for tests and demos.
func (sc *Scheduler) Trigger(_ context.Context, name string) error {
	sc.mu.Lock()
	s := sc.schedules[name]
	sc.mu.Unlock()
	if s == nil {
		return fmt.Errorf("%w: %s", errNoSchedule, name)
	}
	sc.fire(s)
	return nil
}

// handle keeps the layer's copy of a schedule in step with kumo's.
func (sc *Scheduler) handle(w http.ResponseWriter, r *http.Request, name string) {
	body, ok := readOrReject(w, r)
	if !ok {
		return
	}
	var parsed *schedule
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		var err error
		if parsed, err = parseSchedule(name, body); err != nil {
			writeAWSError(w, http.StatusBadRequest, "ValidationException", err.Error())
			return
		}
	}
	status, h, out, ok := sc.s.exchange(w, r, body)
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
	relay(w, status, h, out)
}

func parseSchedule(name string, body []byte) (*schedule, error) {
	var req struct {
		ScheduleExpression         string
		ScheduleExpressionTimezone string
		State                      string
		Target                     struct{ Arn, Input string }
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
	now := time.Now()
	if _, err := validateExpression(req.ScheduleExpression); err != nil {
		return nil, err
	}
	s := &schedule{name: name, expr: req.ScheduleExpression, loc: loc, target: functionName(req.Target.Arn), input: req.Target.Input}
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

// nextFire is the first firing strictly after now; zero when there is none.
func nextFire(expr string, loc *time.Location, now time.Time) time.Time {
	kind, arg, _ := strings.Cut(strings.TrimSuffix(expr, ")"), "(")
	switch kind {
	case "rate":
		d, _ := rateInterval(arg)
		return now.Add(d)
	case "at":
		t, _ := time.ParseInLocation("2006-01-02T15:04:05", arg, loc)
		if t.After(now) {
			return t
		}
	case "cron":
		c, err := parseCron(arg)
		if err != nil {
			return time.Time{}
		}
		t := now.In(loc).Truncate(time.Minute).Add(time.Minute)
		for range 366 * 24 * 60 {
			if c.matches(t) {
				return t
			}
			t = t.Add(time.Minute)
		}
	}
	return time.Time{}
}

func rateInterval(arg string) (time.Duration, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(arg), " ")
	v, err := strconv.Atoi(n)
	if !ok || err != nil || v < 1 {
		return 0, fmt.Errorf("invalid rate(%s): want rate(<n> minute[s]|hour[s]|day[s])", arg)
	}
	switch strings.TrimSuffix(unit, "s") {
	case "minute":
		return time.Duration(v) * time.Minute, nil
	case "hour":
		return time.Duration(v) * time.Hour, nil
	case "day":
		return time.Duration(v) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("invalid rate(%s): unit must be minutes, hours or days", arg)
}

// cronSpec is AWS's six-field cron: minutes hours day-of-month month day-of-week year.
type cronSpec struct{ fields [6]map[int]bool }

var cronRanges = [6][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {1, 7}, {1970, 2199}}

var cronNames = map[string]int{
	"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7,
}

func parseCron(arg string) (*cronSpec, error) {
	parts := strings.Fields(arg)
	if len(parts) != 6 {
		return nil, fmt.Errorf("invalid cron(%s): want 6 fields", arg)
	}
	c := &cronSpec{}
	for i, p := range parts {
		set, err := cronField(p, cronRanges[i][0], cronRanges[i][1])
		if err != nil {
			return nil, fmt.Errorf("invalid cron(%s): field %d: %w", arg, i+1, err)
		}
		c.fields[i] = set // nil means any
	}
	return c, nil
}

func cronField(p string, lo, hi int) (map[int]bool, error) {
	if p == "*" || p == "?" {
		return nil, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(p, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = strconv.Atoi(stepStr); err != nil || step < 1 {
				return nil, fmt.Errorf("bad step in %q", part)
			}
		}
		from, to := lo, hi
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = cronValue(a); err != nil {
				return nil, err
			}
			to = from
			if isRange {
				if to, err = cronValue(b); err != nil {
					return nil, err
				}
			} else if hasStep {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return nil, fmt.Errorf("%q is outside %d-%d", part, lo, hi)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func cronValue(s string) (int, error) {
	if v, ok := cronNames[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not supported here (L, W and # are not)", s)
	}
	return v, nil
}

func (c *cronSpec) matches(t time.Time) bool {
	values := [6]int{t.Minute(), t.Hour(), t.Day(), int(t.Month()), int(t.Weekday()) + 1, t.Year()}
	for i, set := range c.fields {
		if set != nil && !set[values[i]] {
			return false
		}
	}
	return true
}
