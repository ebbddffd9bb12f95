package trackctl

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// packagesView is what `trackctl packages` prints.
type packagesView struct {
	Status   string         `json:"status"`
	StaleFor string         `json:"stale_for,omitempty"`
	Packages []audit.Latest `json:"packages"`
}

// runPackages lists the packages whose latest status is --status, oldest
// first, from the status index (a handful of Queries, never a Scan).
func runPackages(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("packages", io, &c, true)
	status := fs.String("status", "", "latest status to list, e.g. EXCEPTION (required)")
	staleFor := fs.Duration("stale-for", 0, "only packages whose latest event is older than this, e.g. 48h")
	limit := fs.Int("limit", 100, fmt.Sprintf("at most this many packages (1-%d)", audit.MaxStatusLimit))
	if _, err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *status == "":
		return fmt.Errorf("%w: --status is required", ErrUsage)
	case *staleFor < 0:
		return fmt.Errorf("%w: --stale-for must not be negative", ErrUsage)
	case *limit < 1 || *limit > audit.MaxStatusLimit:
		return fmt.Errorf("%w: --limit must be 1-%d", ErrUsage, audit.MaxStatusLimit)
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	s, cl, err := c.setup(ctx, "audit table", func(s Stack) string { return s.AuditTableName }, "--table")
	if err != nil {
		return err
	}
	var before time.Time
	v := packagesView{Status: *status}
	if *staleFor > 0 {
		before = time.Now().Add(-*staleFor)
		v.StaleFor = staleFor.String()
	}
	if v.Packages, err = cl.store(s).InStatus(ctx, *status, before, *limit); err != nil {
		return err //nolint:wrapcheck // audit errors carry their context
	}
	return c.emit(io.Out, v, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "TRACKING ID\tSTATUS\tSINCE (EVENT TIME)\tEVENT ID\n")
		for _, p := range v.Packages {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.TrackingID, p.Status, p.EventTime, p.EventID)
		}
		if len(v.Packages) == 0 {
			fmt.Fprintf(tw, "no package has the latest status %s%s\n", *status, map[bool]string{true: " for longer than " + v.StaleFor}[v.StaleFor != ""])
		}
	})
}
