package outputs_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// TestStackMatchesTheModule checks that Stack has a field for every output
// of modules/tracking-pipeline and none for an output it does not declare.
func TestStackMatchesTheModule(t *testing.T) {
	t.Parallel()
	mod, diags := tfconfig.LoadModule(filepath.Join("..", "..", "..", "modules", "tracking-pipeline"))
	require.False(t, diags.HasErrors(), diags.Err())
	var module []string
	for name := range mod.Outputs {
		module = append(module, name)
	}
	typ := reflect.TypeFor[outputs.Stack]()
	var fields []string
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Tag.Get("json"))
	}
	slices.Sort(module)
	slices.Sort(fields)
	assert.Equal(t, module, fields)
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    outputs.Stack
		wantErr bool
	}{
		{"terraform output -json",
			`{"ingest_dlq_url":{"sensitive":false,"type":"string","value":"http://q/dlq"},"alarm_names":{"type":["map","string"],"value":{"dlq_not_empty":"a"}}}`,
			outputs.Stack{IngestDLQURL: "http://q/dlq", AlarmNames: map[string]string{"dlq_not_empty": "a"}}, false},
		{"plain object", `{"audit_table_name":"tp-audit","extra":1}`, outputs.Stack{AuditTableName: "tp-audit"}, false},
		{"a null output", `{"dashboard_name":{"value":null},"ingest_dlq_arn":"arn"}`, outputs.Stack{IngestDLQARN: "arn"}, false},
		{"a root's outputs, the module's whole under pipeline",
			`{"pipeline":{"sensitive":false,"type":["object",{}],"value":{"audit_table_name":"tp-audit","dashboard_name":null}},"delivered_queue_url":{"value":"http://q/d"}}`,
			outputs.Stack{AuditTableName: "tp-audit"}, false},
		{"not an object", `[1]`, outputs.Stack{}, true},
		{"pipeline not an object", `{"pipeline":{"value":"x"}}`, outputs.Stack{}, true},
		{"a field of the wrong type", `{"ingest_dlq_url":3}`, outputs.Stack{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := outputs.Decode([]byte(tt.raw))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
