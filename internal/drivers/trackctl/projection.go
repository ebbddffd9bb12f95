package trackctl

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// lagWindow is how far back `trackctl lag` reads the projector's metrics.
const lagWindow = 15 * time.Minute

// lagView is what `trackctl lag` prints.
type lagView struct {
	Function string `json:"projector_function"`
	// LagMS is the projector's IteratorAge at its last batch: how old the
	// newest record it delivered was ("the time between when the stream
	// receives the record and when the event source mapping sends the
	// event to the function"); null when no batch ran in the window.
	LagMS   *float64 `json:"lag_ms"`
	MaxMS   *float64 `json:"max_lag_ms"`
	At      string   `json:"at,omitempty"`
	Errors  float64  `json:"errors"`
	Window  string   `json:"window"`
	Stalled bool     `json:"stalled"`
}

// runLag shows how far the projection (latest statuses, the status index,
// the day counters, the status-change events) is behind the rows: the
// projector mapping's IteratorAge, the last and the highest of the window,
// and the projector's errors.
func runLag(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("lag", io, &c, true)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	s, cl, err := c.setup(ctx, "projector function", func(s Stack) string { return s.ProjectorFunctionName }, "--projector-function")
	if err != nil {
		return err
	}
	v := lagView{Function: s.ProjectorFunctionName, Window: lagWindow.String()}
	end := time.Now()
	read := func(metric string, stat cwtypes.Statistic) ([]cwtypes.Datapoint, error) {
		out, err := cl.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/Lambda"), MetricName: &metric,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: &s.ProjectorFunctionName}},
			StartTime:  aws.Time(end.Add(-lagWindow)), EndTime: aws.Time(end), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{stat},
		})
		if err != nil {
			return nil, fmt.Errorf("read %s of %s: %w", metric, s.ProjectorFunctionName, err)
		}
		return out.Datapoints, nil
	}
	ages, err := read("IteratorAge", cwtypes.StatisticMaximum)
	if err != nil {
		return err
	}
	var last time.Time
	for _, p := range ages {
		m := aws.ToFloat64(p.Maximum)
		if v.MaxMS == nil || m > *v.MaxMS {
			v.MaxMS = aws.Float64(m)
		}
		if t := aws.ToTime(p.Timestamp); t.After(last) {
			last, v.LagMS = t, aws.Float64(m)
		}
	}
	if !last.IsZero() {
		v.At = last.UTC().Format(time.RFC3339)
	}
	errs, err := read("Errors", cwtypes.StatisticSum)
	if err != nil {
		return err
	}
	for _, p := range errs {
		v.Errors += aws.ToFloat64(p.Sum)
	}
	v.Stalled = v.LagMS == nil && v.Errors > 0
	return c.emit(io.Out, v, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "projector\t%s\n", v.Function)
		switch {
		case v.LagMS == nil && v.Errors > 0:
			fmt.Fprintf(tw, "lag\tunknown: no batch delivered in %s, %.0f errors: the projection is stalled (see the projector's log group)\n", v.Window, v.Errors)
		case v.LagMS == nil:
			fmt.Fprintf(tw, "lag\tnone: no batch in %s, nothing to project\n", v.Window)
		default:
			fmt.Fprintf(tw, "lag\t%s at %s (highest in %s: %s)\nerrors\t%.0f\n", ms(*v.LagMS), v.At, v.Window, ms(*v.MaxMS), v.Errors)
		}
	})
}

func ms(v float64) string { return (time.Duration(v) * time.Millisecond).String() }

// rebuildView is what `trackctl rebuild` prints.
type rebuildView struct {
	Latest *audit.Latest   `json:"latest,omitempty"`
	Day    *audit.DayStats `json:"day,omitempty"`
}

// runRebuild recomputes a package's latest status or a day's counters from
// the rows: for a projection that lost a record to the stream's retention
// or to a batch the projector gave up on (the projector DLQ).
func runRebuild(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("rebuild", io, &c, true)
	pkg := fs.String("package", "", "tracking id whose latest status to recompute")
	day := fs.String("day", "", "UTC day whose counters to recompute, YYYY-MM-DD (scans the table once)")
	force := fs.Bool("force", false, "rebuild a day that ended less than 24 hours ago (the projector may still count its records)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if (*pkg == "") == (*day == "") {
		return fmt.Errorf("%w: pass one of --package or --day", ErrUsage)
	}
	var d time.Time
	if *day != "" {
		var err error
		if d, err = time.Parse(audit.DayLayout, *day); err != nil {
			return fmt.Errorf("%w: --day must be YYYY-MM-DD, got %q", ErrUsage, *day)
		}
		// A stream keeps records 24 hours: after that no record of the day
		// can still reach the projector and be counted twice.
		if ended := d.Add(24 * time.Hour); time.Since(ended) < 24*time.Hour && !*force {
			return fmt.Errorf("%w: %s ended less than 24 hours ago: the projector may still count its records (--force to rebuild anyway)", ErrUsage, *day)
		}
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	s, cl, err := c.setup(ctx, "audit table", func(s Stack) string { return s.AuditTableName }, "--table")
	if err != nil {
		return err
	}
	var v rebuildView
	if *pkg != "" {
		l, err := cl.store(s).RebuildLatest(ctx, *pkg)
		if errors.Is(err, audit.ErrNoRows) {
			return fmt.Errorf("no rows for %s: nothing to rebuild from", *pkg)
		}
		if err != nil {
			return err //nolint:wrapcheck // audit errors carry their context
		}
		v.Latest = &l
	} else {
		st, err := cl.store(s).RebuildDay(ctx, d)
		if err != nil {
			return err //nolint:wrapcheck // audit errors carry their context
		}
		v.Day = &st
	}
	return c.emit(io.Out, v, func(tw *tabwriter.Writer) {
		if v.Latest != nil {
			fmt.Fprintf(tw, "latest status of %s\t%s (event %s at %s)\n", v.Latest.TrackingID, v.Latest.Status, v.Latest.EventID, v.Latest.EventTime)
			return
		}
		fmt.Fprintf(tw, "day\t%s (recounted from the rows)\nrows written\t%d\nduplicates\t%d\nconflicts\t%d\ninvalid\t%d\n",
			v.Day.Day, v.Day.Total, v.Day.Duplicates, v.Day.Conflicts, v.Day.Invalid)
	})
}
