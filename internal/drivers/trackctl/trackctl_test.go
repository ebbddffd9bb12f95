package trackctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/trackctl"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = trackctl.Run(context.Background(), args, trackctl.IO{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func TestArgumentHandling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"help", []string{"help"}, "", 0, "Examples:", ""},
		{"no command", nil, "", 0, "Commands:", ""},
		{"unknown command", []string{"deploy"}, "", 2, "", `unknown command "deploy"`},
		{"unknown dlq command", []string{"dlq", "purge"}, "", 2, "", `unknown command "dlq purge"`},
		{"audit without id", []string{"audit", "--table", "t"}, "", 2, "", "exactly one tracking id"},
		{"bad output format", []string{"audit", "T1", "--table", "t", "--output", "yaml"}, "", 2, "", "--output must be table or json"},
		{"bad day", []string{"stats", "--table", "t", "--day", "24/11/2026"}, "", 2, "", "--day must be YYYY-MM-DD"},
		{"no stack", []string{"stats"}, "", 2, "", "pass --env-dir, --outputs or --table"},
		{"rebuild what", []string{"rebuild", "--table", "t"}, "", 2, "", "pass one of --package or --day"},
		{"rebuild both", []string{"rebuild", "--table", "t", "--package", "p", "--day", "2026-11-24"}, "", 2, "", "pass one of --package or --day"},
		{"rebuild a day still projected", []string{"rebuild", "--table", "t", "--day", time.Now().UTC().Format("2006-01-02")}, "", 2, "", "ended less than 24 hours ago"},
		{"lag without the projector", []string{"lag", "--table", "t"}, "", 2, "", "--projector-function"},
		{"bad flag", []string{"send", "--sped", "3"}, "", 2, "", "flag provided but not defined: -sped"},
		{"packages without status", []string{"packages", "--table", "t"}, "", 2, "", "--status is required"},
		{"packages limit out of range", []string{"packages", "--table", "t", "--status", "X", "--limit", "0"}, "", 2, "", "--limit must be 1-1000"},
		{"redrive rate out of range", []string{"dlq", "redrive", "--rate", "900", "--dlq-url", "u"}, "", 2, "", "--rate must be from 1 to 500"},
		{
			"invalid NDJSON names its lines, sends nothing", []string{"send", "--ingest-queue-url", "http://127.0.0.1:1/q"},
			"{\"tracking_id\":\"a\"}\nnot json\n\n{\"ok\":true}\n{broken\n", 2, "", "invalid NDJSON at line(s) 2 (not JSON), 5 (not JSON); nothing was sent",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, tt.stdin, tt.args...)
			assert.Equal(t, tt.wantCode, code, "stderr: %s", errOut)
			assert.Contains(t, out, tt.wantOut)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}

// TestOperatorWorkflow runs trackctl against the pipeline on the local AWS:
// send, audit, DLQ list, redrive, audit again, stats, maintenance.
func TestOperatorWorkflow(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{Instances: 2})
	cfg := srv.ClientConfig()
	s := testenv.Settings(t, "ctl")
	out, err := provision.New(cfg, s).Apply(context.Background(), provision.Zips{
		Processor: testenv.LambdaZip(t, "processor"), Projector: testenv.LambdaZip(t, "projector"), Maintenance: testenv.LambdaZip(t, "maintenance"),
	})
	require.NoError(t, err)
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	raw, _ := json.Marshal(out)
	require.NoError(t, os.WriteFile(outputs, raw, 0o600))
	stack := []string{"--outputs", outputs, "--endpoint", srv.URL}
	ctl := func(stdin string, args ...string) (string, string) {
		t.Helper()
		code, o, e := run(t, stdin, append(args, stack...)...)
		require.Equal(t, 0, code, "trackctl %v: %s", args, e)
		return o, e
	}

	updates := strings.Join([]string{
		`{"tracking_id":"OPS1","event_id":"e1","status":"PICKED_UP","event_time":"2026-11-25T08:00:00Z"}`,
		`{"tracking_id":"OPS1","event_id":"e2","status":"DELIVERED","event_time":"2026-11-25T12:00:00Z"}`,
		`{"tracking_id":"OPS1","event_id":"e1","status":"PICKED_UP","event_time":"2026-11-25T08:00:00Z"}`,
		`{"tracking_id":"OPS1","status":"LOST"}`,
	}, "\n")
	o, e := ctl(updates, "send")
	assert.Contains(t, o, "sent 4 of 4")
	assert.Contains(t, e, "4/4")

	var view struct {
		Latest struct{ Status string }
		Trail  []struct {
			EventID string `json:"event_id"`
		}
	}
	// The rows are the commit; the latest status follows from the stream.
	retry.DoWithRetry(t, "two rows for OPS1, and its latest status projected", 60, 250*time.Millisecond, func() (string, error) {
		o, _ := ctl("", "audit", "OPS1", "--output", "json")
		if err := json.Unmarshal([]byte(o), &view); err != nil || len(view.Trail) != 2 || view.Latest.Status != "DELIVERED" {
			return "", fmt.Errorf("trail %s: %w", o, err)
		}
		return "", nil
	})
	table, _ := ctl("", "audit", "OPS1")
	assert.Contains(t, table, "latest status:")

	var inStatus struct {
		Packages []struct {
			TrackingID string `json:"tracking_id"`
		}
	}
	o, _ = ctl("", "packages", "--status", "DELIVERED", "--output", "json")
	require.NoError(t, json.Unmarshal([]byte(o), &inStatus), o)
	require.Len(t, inStatus.Packages, 1)
	assert.Equal(t, "OPS1", inStatus.Packages[0].TrackingID)
	o, _ = ctl("", "packages", "--status", "PICKED_UP")
	assert.Contains(t, o, "no package has the latest status PICKED_UP", "OPS1 moved on to DELIVERED")
	o, _ = ctl("", "packages", "--status", "DELIVERED", "--stale-for", "240000h")
	assert.Contains(t, o, "for longer than 240000h0m0s", "delivered in 2026, not stuck since before 1999")

	var list struct {
		ByReason map[string]int `json:"by_reason"`
	}
	retry.DoWithRetry(t, "poison listed in the DLQ", 60, 250*time.Millisecond, func() (string, error) {
		o, _ := ctl("", "dlq", "list", "--output", "json")
		if err := json.Unmarshal([]byte(o), &list); err != nil || list.ByReason["CONTRACT_VIOLATION"] != 1 {
			return "", fmt.Errorf("list %s: %w", o, err)
		}
		return "", nil
	})

	o, _ = ctl("", "dlq", "redrive", "--reason", "CONTRACT_VIOLATION", "--dry-run")
	assert.Contains(t, o, "1 of 1 inspected message(s) have reason CONTRACT_VIOLATION")
	o, _ = ctl("", "dlq", "redrive", "--reason", "CONTRACT_VIOLATION", "--rate", "50")
	assert.Contains(t, o, "redrove 1 message(s)")
	// The redriven poison is rejected again; the trail gains no row.
	retry.DoWithRetry(t, "poison back in the DLQ", 60, 250*time.Millisecond, func() (string, error) {
		o, _ := ctl("", "dlq", "list", "--output", "json")
		if err := json.Unmarshal([]byte(o), &list); err != nil || list.ByReason["CONTRACT_VIOLATION"] != 1 {
			return "", fmt.Errorf("list %s: %w", o, err)
		}
		return "", nil
	})
	o, _ = ctl("", "audit", "OPS1", "--output", "json")
	require.NoError(t, json.Unmarshal([]byte(o), &view))
	assert.Len(t, view.Trail, 2, "no duplicate rows")

	var st struct {
		Total      int64 `json:"total"`
		Duplicates int64 `json:"duplicates"`
		Invalid    int64 `json:"invalid"`
	}
	// The counters follow from the stream too: the poison, rejected twice.
	retry.DoWithRetry(t, "day counters projected", 60, 250*time.Millisecond, func() (string, error) {
		o, _ := ctl("", "stats", "--output", "json")
		if err := json.Unmarshal([]byte(o), &st); err != nil || st.Total != 2 || st.Duplicates != 1 || st.Invalid != 2 {
			return "", fmt.Errorf("stats %s: %w", o, err)
		}
		return "", nil
	})

	// The projection's lag: the projector delivered batches, so it has one.
	var lag struct {
		LagMS *float64 `json:"lag_ms"`
	}
	retry.DoWithRetry(t, "the projector's lag", 60, 250*time.Millisecond, func() (string, error) {
		o, _ := ctl("", "lag", "--output", "json")
		if err := json.Unmarshal([]byte(o), &lag); err != nil || lag.LagMS == nil {
			return "", fmt.Errorf("lag %s: %w", o, err)
		}
		return "", nil
	})
	o, _ = ctl("", "lag")
	assert.Contains(t, o, "lag")

	// Repairs from the rows: the same projection again.
	o, _ = ctl("", "rebuild", "--package", "OPS1")
	assert.Contains(t, o, "DELIVERED")
	o, _ = ctl("", "rebuild", "--day", time.Now().UTC().Format("2006-01-02"), "--force", "--output", "json")
	var rebuilt struct {
		Day struct {
			Total, Duplicates, Invalid int64
		} `json:"day"`
	}
	require.NoError(t, json.Unmarshal([]byte(o), &rebuilt), o)
	assert.Equal(t, int64(2), rebuilt.Day.Total)
	assert.Equal(t, int64(1), rebuilt.Day.Duplicates)
	assert.Equal(t, int64(2), rebuilt.Day.Invalid)

	o, _ = ctl("", "maintenance", "run", "--day", time.Now().UTC().Format("2006-01-02"), "--tasks", "daily-stats")
	var res struct {
		Stats struct{ Total int64 } `json:"daily_stats"`
	}
	require.NoError(t, json.Unmarshal([]byte(o), &res), o)
	assert.Equal(t, int64(2), res.Stats.Total)
}
