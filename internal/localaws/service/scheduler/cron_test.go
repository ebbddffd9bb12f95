package scheduler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseCron: every field form the Scheduler User Guide's "Cron-based
// schedules" documents that the local AWS emulates, and what it refuses.
func TestParseCron(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give    string
		wantErr string
	}{
		{give: "15 0 * * ? *"},                // the module's default
		{give: "0 1 * * ? *"},                 // prod's
		{give: "0/15 * * * ? *"},              // every 15 minutes
		{give: "0 8-17 ? * MON-FRI *"},        // ranges, day names
		{give: "0 12 1,15 * ? *"},             // lists
		{give: "0 0 ? jan-mar sun 2026-2030"}, // names in any case, a year range
		{give: "*/5 * * * ? *"},               // a step from the field's start
		{give: "0 0 * * ?", wantErr: "want 6 fields"},
		{give: "0 0 * * * *", wantErr: "must be ?"},
		{give: "0 0 ? * ? *", wantErr: "must be ?"},
		{give: "? 0 * * ? *", wantErr: "day-of-month or day-of-week only"},
		{give: "60 0 * * ? *", wantErr: "outside 0-59"},
		{give: "0 24 * * ? *", wantErr: "outside 0-23"},
		{give: "0 0 0 * ? *", wantErr: "outside 1-31"},
		{give: "0 0 ? 13 * *", wantErr: "outside 1-12"},
		{give: "0 0 ? * 8 *", wantErr: "outside 1-7"},
		{give: "0 0 * * ? 2200", wantErr: "outside 1970-2199"},
		{give: "0/0 0 * * ? *", wantErr: "bad step"},
		{give: "30-10 0 * * ? *", wantErr: "outside"},
		// Documented by AWS, not emulated (the gap table says so): refused loudly.
		{give: "0 0 L * ? *", wantErr: "not supported"},
		{give: "0 0 ? * 6#3 *", wantErr: "not supported"},
		{give: "0 0 3W * ? *", wantErr: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			_, err := parseCron(tt.give)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

// TestNextFire: the first firing strictly after now, in the schedule's time
// zone, across both daylight saving shifts (Scheduler User Guide,
// "Daylight savings time": a skipped wall time is skipped, a repeated one
// runs once).
func TestNextFire(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name string
		expr string
		loc  *time.Location
		now  string
		want string // "" for none
	}{
		{"daily, later today", "cron(15 0 * * ? *)", time.UTC, "2026-12-05T00:10:00Z", "2026-12-05T00:15:00Z"},
		{"daily, strictly after now", "cron(15 0 * * ? *)", time.UTC, "2026-12-05T00:15:00Z", "2026-12-06T00:15:00Z"},
		{"in the schedule's zone", "cron(0 1 * * ? *)", berlin, "2026-12-05T00:30:00Z", "2026-12-06T00:00:00Z"},
		{"weekdays", "cron(0 9 ? * MON-FRI *)", time.UTC, "2026-12-05T10:00:00Z", "2026-12-07T09:00:00Z"}, // Saturday to Monday
		{"day of month", "cron(0 0 31 * ? *)", time.UTC, "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z"},
		{"a year that has passed", "cron(0 0 1 1 ? 2025)", time.UTC, "2026-01-01T00:00:00Z", ""},
		{"spring forward: 02:30 does not exist, skipped", "cron(30 2 * * ? *)", berlin, "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
		{"spring forward: the next hour runs", "cron(30 3 * * ? *)", berlin, "2026-03-28T12:00:00Z", "2026-03-29T01:30:00Z"},
		{"fall back: 02:30 runs at its first pass", "cron(30 2 * * ? *)", berlin, "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
		{"fall back: and not at its second", "cron(30 2 * * ? *)", berlin, "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
		{"fall back: every 30 minutes through the repeated hour", "cron(0/30 * * * ? *)", berlin, "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"},
		{"rate", "rate(5 minutes)", time.UTC, "2026-12-05T00:00:00Z", "2026-12-05T00:05:00Z"},
		{"at, ahead", "at(2026-12-24T18:00:00)", berlin, "2026-12-05T00:00:00Z", "2026-12-24T17:00:00Z"},
		{"at, past", "at(2026-12-01T18:00:00)", time.UTC, "2026-12-05T00:00:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := nextFire(tt.expr, tt.loc, utc(tt.now))
			if tt.want == "" {
				assert.True(t, got.IsZero(), "fires at %s", got)
				return
			}
			assert.Equal(t, utc(tt.want), got.UTC())
		})
	}
}

// TestValidateExpression: what CreateSchedule refuses with ValidationException.
func TestValidateExpression(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"rate(0 minutes)", "rate(5 weeks)", "cron(0 0 * * * *)", "at(2026-12-24)", "every(5)", "rate(5 minutes"} {
		_, err := validateExpression(bad)
		assert.Error(t, err, bad)
	}
	for _, good := range []string{"rate(1 minute)", "rate(2 hours)", "cron(15 0 * * ? *)", "at(2026-12-24T18:00:00)"} {
		_, err := validateExpression(good)
		assert.NoError(t, err, good)
	}
}
