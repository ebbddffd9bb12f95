package projection_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/eventpattern"
)

// TestFilterLetsThroughWhatTheProjectorReads evaluates the mapping's filter
// (main.tf's local.projector_filter_pattern) on the stream records of each
// item of the audit table, in the form Lambda filters them: the items the
// processor writes pass, the projector's own writes and TTL deletes do not.
func TestFilterLetsThroughWhatTheProjectorReads(t *testing.T) {
	t.Parallel()
	mod, err := hclmodule.Load(filepath.Join("..", "..", "modules", "tracking-pipeline"))
	require.NoError(t, err)
	v, err := mod.Local("projector_filter_pattern", nil, nil)
	require.NoError(t, err)
	pattern, err := eventpattern.Parse(v.AsString())
	require.NoError(t, err)

	s := func(v string) map[string]any { return map[string]any{"S": v} }
	rec := func(eventName, pk, sk string, image map[string]any) map[string]any {
		d := map[string]any{"Keys": map[string]any{"pk": s(pk), "sk": s(sk)}, "SequenceNumber": "100000000000000000001"}
		if image != nil {
			image["pk"], image["sk"] = s(pk), s(sk)
			d["NewImage"] = image
		}
		return map[string]any{"eventName": eventName, "eventSource": "aws:dynamodb", "dynamodb": d}
	}
	sentAt := func() map[string]any { return map[string]any{audit.AttrSentAt: s("2026-11-25T15:00:00Z")} }
	ttl := rec("REMOVE", "TRK#P1", audit.PrefixEvent+"e1", nil)
	ttl["userIdentity"] = map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"}
	for _, tt := range []struct {
		name   string
		record map[string]any
		want   bool
	}{
		{"an audit row", rec("INSERT", "TRK#P1", audit.PrefixEvent+"e1", sentAt()), true},
		{"a conflict", rec("INSERT", "TRK#P1", audit.PrefixConflict+"e1#ab", sentAt()), true},
		{"a settled message", rec("INSERT", "MSG#m1", audit.SKSettled, sentAt()), true},
		{"the projector's latest status", rec("MODIFY", "TRK#P1", "LATEST", map[string]any{"status": s("DELIVERED")}), false},
		{"the projector's day counters", rec("MODIFY", "DAY#2026-11-25", "COUNTS#shardId-1", map[string]any{"total": map[string]any{"N": "3"}}), false},
		{"a report", rec("INSERT", "stats#2026-11-25", "REPORT", map[string]any{"report": s("{}")}), false},
		{"a TTL delete of a row", ttl, false},
	} {
		assert.Equal(t, tt.want, pattern.Matches(tt.record), tt.name)
	}
}
