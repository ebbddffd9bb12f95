package contract_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

func compileStatusChanged(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile("tracking-status-changed.v1.schema.json")
	require.NoError(t, err)
	return s
}

func TestStatusChangedExamplesAgreeWithSchema(t *testing.T) {
	t.Parallel()
	schema := compileStatusChanged(t)
	for _, valid := range []bool{true, false} {
		dir := "status-changed/invalid"
		if valid {
			dir = "status-changed/valid"
		}
		for name, body := range examples(t, dir) {
			t.Run(dir+"/"+name, func(t *testing.T) {
				t.Parallel()
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
				require.NoError(t, err)
				if valid {
					assert.NoError(t, schema.Validate(doc))
				} else {
					assert.Error(t, schema.Validate(doc))
				}
			})
		}
	}
}

// TestStatusChangedMeetsItsSchema checks what the projector puts on the bus
// against the schema consumers read.
func TestStatusChangedMeetsItsSchema(t *testing.T) {
	t.Parallel()
	schema := compileStatusChanged(t)
	u := contract.Update{TrackingID: "PKG-1", EventID: "evt-9", Status: "DELIVERED",
		EventTime: time.Date(2026, 11, 25, 16, 40, 0, 0, time.FixedZone("", 3600)), Carrier: "UPS"}
	for _, tt := range []struct {
		name, previous string
		wantPrevious   any
	}{
		{"first status", "", nil},
		{"a move", "OUT_FOR_DELIVERY", "OUT_FOR_DELIVERY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, err := json.Marshal(contract.NewStatusChanged(u, tt.previous))
			require.NoError(t, err)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
			require.NoError(t, err)
			require.NoError(t, schema.Validate(doc), "%s", body)
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, tt.wantPrevious, got["previous_status"])
			assert.Equal(t, "2026-11-25T15:40:00Z", got["event_time"], "UTC")
			assert.Equal(t, "PKG-1/evt-9", got["idempotency_key"])
		})
	}
}
