package trackctl

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const outputsJSON = `{
  "ingest_queue_url": {"sensitive": false, "type": "string", "value": "http://q/ingest"},
  "ingest_dlq_url": {"sensitive": false, "type": "string", "value": "http://q/dlq"},
  "audit_table_name": {"sensitive": false, "type": "string", "value": "tp-audit"},
  "alarm_names": {"sensitive": false, "type": ["map", "string"], "value": {"dlq_not_empty": "tp-dlq-not-empty"}}
}`

// TestResolveFromEnvDir runs a stand-in Terraform binary that prints
// `terraform output -json`, as trackctl --env-dir reads it.
func TestResolveFromEnvDir(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-terraform")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "outputs.json"), []byte(outputsJSON), 0o600))
	script := "#!/bin/sh\n[ \"$1\" = output ] && [ \"$2\" = -json ] && exec cat \"" + filepath.Join(dir, "outputs.json") + "\"\nexit 1\n"
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o700)) //nolint:gosec // an executable test stand-in
	t.Setenv("TF_BINARY", bin)

	s, err := StackFlags{EnvDir: dir}.resolve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Stack{IngestQueueURL: "http://q/ingest", IngestDLQURL: "http://q/dlq", AuditTableName: "tp-audit",
		AlarmNames: map[string]string{"dlq_not_empty": "tp-dlq-not-empty"}}, s)
}

func TestResolvePrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "out.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"audit_table_name":"from-file","ingest_dlq_url":"http://q/dlq"}`), 0o600))
	tests := []struct {
		name    string
		give    StackFlags
		want    Stack
		wantErr string
	}{
		{"plain outputs file", StackFlags{OutputsFile: file}, Stack{AuditTableName: "from-file", IngestDLQURL: "http://q/dlq"}, ""},
		{"flags override the file", StackFlags{OutputsFile: file, Stack: Stack{AuditTableName: "from-flag"}}, Stack{AuditTableName: "from-flag", IngestDLQURL: "http://q/dlq"}, ""},
		{"flags alone", StackFlags{Stack: Stack{IngestQueueURL: "http://q/i"}}, Stack{IngestQueueURL: "http://q/i"}, ""},
		{"missing file", StackFlags{OutputsFile: file + ".missing"}, Stack{}, "read outputs file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.give.resolve(context.Background())
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
