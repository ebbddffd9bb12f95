package maintenance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// StuckStatus is the packages stuck in one status.
type StuckStatus struct {
	Count   int            `json:"count"`    // at most stuckLimit
	AtLeast bool           `json:"at_least"` // Count is a floor: there are more
	Oldest  []audit.Latest `json:"oldest"`   // the longest stuck, at most stuckShown
}

const (
	stuckLimit = 1000 // packages counted per status
	stuckShown = 5    // packages named per status
	// stuckLookback adds to the threshold the days whose counters say which
	// statuses exist (statuses are an open set: carriers differ).
	stuckLookback = 7 * 24 * time.Hour
)

// stuck finds, for each non-final status seen in the day counters since
// the threshold plus a week, the packages whose latest event in it is older
// than the threshold (from the status index: a few Queries per status).
func (j *Job) stuck(ctx context.Context, day time.Time) (map[string]StuckStatus, error) {
	if j.cfg.StuckAfter <= 0 {
		return nil, nil
	}
	final := map[string]bool{}
	for _, s := range j.cfg.FinalStatuses {
		final[s] = true
	}
	statuses := map[string]bool{}
	for d := day; !d.Before(day.Add(-j.cfg.StuckAfter - stuckLookback)); d = d.AddDate(0, 0, -1) {
		st, err := j.stats.DailyStats(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("statuses of %s: %w", d.Format(audit.DayLayout), err)
		}
		for s := range st.ByStatus {
			statuses[s] = !final[s]
		}
	}
	cutoff := j.now().Add(-j.cfg.StuckAfter)
	out := map[string]StuckStatus{}
	for status, watch := range statuses {
		if !watch {
			continue
		}
		got, err := j.stats.InStatus(ctx, status, cutoff, stuckLimit)
		if err != nil {
			return nil, fmt.Errorf("stuck packages: %w", err)
		}
		if len(got) > 0 {
			out[status] = StuckStatus{Count: len(got), AtLeast: len(got) == stuckLimit, Oldest: got[:min(stuckShown, len(got))]}
		}
	}
	return out, nil
}

// reportStuck stores the stuck packages and tells on-call when there are any.
func (j *Job) reportStuck(ctx context.Context, dayName string, stuck map[string]StuckStatus) error {
	if err := j.stats.PutReport(ctx, "STUCK", dayName, stuck); err != nil {
		return fmt.Errorf("store stuck packages: %w", err)
	}
	if len(stuck) == 0 {
		return nil
	}
	names := make([]string, 0, len(stuck))
	for s := range stuck {
		names = append(names, s)
	}
	sort.Strings(names)
	var parts []string
	for _, s := range names {
		st := stuck[s]
		more := map[bool]string{true: "+"}[st.AtLeast]
		ids := make([]string, 0, len(st.Oldest))
		for _, p := range st.Oldest {
			ids = append(ids, p.TrackingID+" since "+p.EventTime)
		}
		parts = append(parts, fmt.Sprintf("%s: %d%s (oldest: %s)", s, st.Count, more, strings.Join(ids, ", ")))
	}
	msg := fmt.Sprintf("Packages in a non-final status for over %s. %s. List them with: trackctl packages --status <STATUS> --stale-for %s.",
		j.cfg.StuckAfter, strings.Join(parts, "; "), j.cfg.StuckAfter)
	if err := j.notify.Notify(ctx, "Tracking pipeline: stuck packages", msg); err != nil {
		return fmt.Errorf("publish stuck packages: %w", err)
	}
	j.log.Warn("stuck packages", zap.Any("by_status", stuck))
	return nil
}
