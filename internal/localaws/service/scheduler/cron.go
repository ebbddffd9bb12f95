package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule expressions as EventBridge Scheduler evaluates them (Scheduler
// User Guide, "Schedule types"): rate(), cron() with six fields, at().

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
		// Minutes in absolute time, matched on loc's wall clock: a wall time
		// a spring-forward shift skips never matches ("your schedule
		// invocation is skipped"), and one a fall-back shift repeats
		// matches its first time only ("runs only once and doesn't repeat
		// its invocation"): Scheduler User Guide, "Daylight savings time".
		t := now.In(loc).Truncate(time.Minute).Add(time.Minute)
		for range 366 * 24 * 60 {
			if c.matches(t) && !repeatedWallTime(t) {
				return t
			}
			t = t.Add(time.Minute)
		}
	}
	return time.Time{}
}

// repeatedWallTime reports whether t's wall clock already showed an hour
// earlier in absolute time: the second pass through a fall-back hour.
func repeatedWallTime(t time.Time) bool {
	earlier := t.Add(-time.Hour).In(t.Location())
	return earlier.Hour() == t.Hour() && earlier.Minute() == t.Minute() && earlier.Day() == t.Day()
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
	// "You can't specify the Day-of-month and Day-of-week fields in the
	// same cron expression. If you specify a value or a * in one of the
	// fields, you must use a ? in the other" (Scheduler User Guide,
	// "Cron-based schedules"); ? belongs to those two fields only.
	if (parts[2] == "?") == (parts[4] == "?") {
		return nil, fmt.Errorf("invalid cron(%s): one of day-of-month and day-of-week must be ?, not both", arg)
	}
	for i, p := range parts {
		if p == "?" && i != 2 && i != 4 {
			return nil, fmt.Errorf("invalid cron(%s): ? is for day-of-month or day-of-week only", arg)
		}
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
