package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadProcessor(t *testing.T) {
	t.Parallel()
	base := map[string]string{"AUDIT_TABLE_NAME": "t", "DLQ_URL": "https://sqs/q"}
	merge := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		give    map[string]string
		want    config.Processor
		wantErr []string // variable names the error must mention
	}{
		{"defaults", base, config.Processor{
			AuditTable: "t", DLQURL: "https://sqs/q", RetentionDays: 90, MaxConcurrency: 10,
			LogLevel: zapcore.InfoLevel, MetricsNamespace: "TrackingPipeline", DeadlineMargin: 2 * time.Second,
		}, nil},
		{"all set", merge(map[string]string{"RETENTION_DAYS": "365", "MAX_CONCURRENCY": "32", "LOG_LEVEL": "DEBUG", "METRICS_NAMESPACE": "Acme/Tracking", "DEADLINE_MARGIN_MS": "500"}),
			config.Processor{AuditTable: "t", DLQURL: "https://sqs/q", RetentionDays: 365, MaxConcurrency: 32,
				LogLevel: zapcore.DebugLevel, MetricsNamespace: "Acme/Tracking", DeadlineMargin: 500 * time.Millisecond}, nil},
		{"missing required", map[string]string{}, config.Processor{}, []string{"AUDIT_TABLE_NAME", "DLQ_URL"}},
		{"retention zero", merge(map[string]string{"RETENTION_DAYS": "0"}), config.Processor{}, []string{"RETENTION_DAYS"}},
		{"concurrency not a number", merge(map[string]string{"MAX_CONCURRENCY": "ten"}), config.Processor{}, []string{"MAX_CONCURRENCY"}},
		{"bad level", merge(map[string]string{"LOG_LEVEL": "loud"}), config.Processor{}, []string{"LOG_LEVEL"}},
		{"reserved namespace", merge(map[string]string{"METRICS_NAMESPACE": "AWS/Lambda"}), config.Processor{}, []string{"METRICS_NAMESPACE"}},
		{"margin too small", merge(map[string]string{"DEADLINE_MARGIN_MS": "5"}), config.Processor{}, []string{"DEADLINE_MARGIN_MS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.LoadProcessor(env(tt.give))
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, name := range tt.wantErr {
					assert.Contains(t, err.Error(), name)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
