// Package outputs reads the tracking-pipeline module's outputs into one Go
// type, used by trackctl, the provisioner, the demo and the tests.
// TestStackMatchesTheModule ties its fields to the module's outputs.tf.
package outputs

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Root is the output under which a root module passes the module's outputs
// whole (`output "pipeline" { value = module.pipeline }` in envs/dev,
// envs/prod and examples/complete), so that no root repeats them one by one.
const Root = "pipeline"

// Stack is a deployed stack as the module's outputs name it.
type Stack struct {
	IngestQueueURL           string            `json:"ingest_queue_url"`
	IngestQueueARN           string            `json:"ingest_queue_arn"`
	IngestDLQURL             string            `json:"ingest_dlq_url"`
	IngestDLQARN             string            `json:"ingest_dlq_arn"`
	MaintenanceDLQURL        string            `json:"maintenance_dlq_url"`
	MaintenanceDLQARN        string            `json:"maintenance_dlq_arn"`
	AlertDLQURL              string            `json:"alert_dlq_url"`
	AlertDLQARN              string            `json:"alert_dlq_arn"`
	ProducerPolicyJSON       string            `json:"producer_policy_json"`
	ProcessorFunctionName    string            `json:"processor_function_name"`
	ProcessorFunctionARN     string            `json:"processor_function_arn"`
	ProjectorFunctionName    string            `json:"projector_function_name"`
	ProjectorDLQURL          string            `json:"projector_dlq_url"`
	ProjectorDLQARN          string            `json:"projector_dlq_arn"`
	EventBusName             string            `json:"event_bus_name"`
	EventBusARN              string            `json:"event_bus_arn"`
	StatusChangeEventPattern string            `json:"status_change_event_pattern"`
	MaintenanceFunctionName  string            `json:"maintenance_function_name"`
	MaintenanceFunctionARN   string            `json:"maintenance_function_arn"`
	AuditTableName           string            `json:"audit_table_name"`
	AuditTableARN            string            `json:"audit_table_arn"`
	KMSKeyARN                string            `json:"kms_key_arn"`
	AlertTopicARN            string            `json:"alert_topic_arn"`
	AlarmNames               map[string]string `json:"alarm_names"`
	DashboardName            string            `json:"dashboard_name"`
	MaintenanceScheduleName  string            `json:"maintenance_schedule_name"`
	LogGroupNames            map[string]string `json:"log_group_names"`
}

// ErrNotOutputs is returned for input that is not a JSON object of outputs.
var ErrNotOutputs = errors.New("not a JSON object of outputs")

// Decode reads `terraform output -json` ({"name": {"value": ...}, ...}) or
// a plain {"name": value, ...} object, of the module itself or of a root
// that outputs it whole under Root. Outputs the type does not know are
// ignored, so a root may output more.
func Decode(raw []byte) (Stack, error) {
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		return Stack{}, fmt.Errorf("%w: %w", ErrNotOutputs, err)
	}
	flat := make(map[string]json.RawMessage, len(wrapped))
	for k, v := range wrapped {
		var o struct {
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(v, &o) == nil && o.Value != nil {
			flat[k] = o.Value
		} else {
			flat[k] = v
		}
	}
	b, err := json.Marshal(flat)
	if err != nil {
		return Stack{}, fmt.Errorf("%w: %w", ErrNotOutputs, err)
	}
	return unmarshal(b)
}

// unmarshal decodes a flat object of outputs, or the module's outputs
// nested under Root.
func unmarshal(b []byte) (Stack, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(b, &root); err != nil {
		return Stack{}, fmt.Errorf("decode outputs: %w", err)
	}
	if nested, ok := root[Root]; ok {
		b = nested
	}
	var s Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return Stack{}, fmt.Errorf("decode outputs: %w", err)
	}
	return s, nil
}
