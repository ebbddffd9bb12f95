package demo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/demo"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
)

// TestDemoRunsEndToEnd runs the README's main job on a small stream and
// checks its summary accounts for every message.
func TestDemoRunsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline; skipped with -short")
	}
	zips := t.TempDir()
	for _, name := range []string{"processor", "projector", "maintenance"} {
		data, err := os.ReadFile(testenv.LambdaZip(t, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(zips, name+".zip"), data, 0o600))
	}
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	var out bytes.Buffer
	err = demo.Run(context.Background(), demo.Options{
		Root: root, ZipDir: zips, Count: 400, Seed: 3, Timeout: 90 * time.Second,
		Out: &out, LogFile: filepath.Join(t.TempDir(), "demo.log"), TimeScale: 60,
	})
	require.NoError(t, err, out.String())
	text := out.String()
	for _, want := range []string{"Deploying", "audit rows written", "DLQ by reason", "send-to-row latency: p50", "Audit trail of", "latest status:"} {
		assert.Contains(t, text, want)
	}
	m := regexp.MustCompile(`audit rows written +(\d+) +(\d+)`).FindStringSubmatch(text)
	require.Len(t, m, 3, "no rows line in the summary")
	assert.Equal(t, m[2], m[1], "every new event became exactly one row")
	assert.Regexp(t, `invalid, sent to the DLQ +(\d+) +(\d+)`, text)
	alerts := regexp.MustCompile(`-dlq-not-empty is ALARM \(was (OK|INSUFFICIENT_DATA)\) at .*: Threshold Crossed`).FindAllString(text, -1)
	assert.Len(t, alerts, 1, "the mailbox shows the DLQ alarm firing once, readable")
}
