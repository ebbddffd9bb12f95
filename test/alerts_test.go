package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestAlarmTransitionsReachTheTopicOnce plans the fixture with a topic of the
// caller's (so its ARN is known at plan) and reads every alarm's actions:
// by default none, so each transition reaches the topic once, through the
// EventBridge rule's readable sentence; with alarm_raw_notifications, the
// topic as alarm and OK action. The alert-delivery alarm, which watches the
// rule itself, always publishes to the topic directly, and the rule's
// target parks what it cannot deliver in the alert DLQ. Skipped, with the
// reason, where the aws provider cannot be installed.
func TestAlarmTransitionsReachTheTopicOnce(t *testing.T) {
	t.Parallel()
	const topic = "arn:aws:sns:us-east-1:000000000000:tp-byo-alerts"
	dir := tfharness.LocalRoot(t, "test/fixtures/pipeline")
	zips := tfharness.HostZips(t)

	tests := []struct {
		name string
		raw  bool
		want []any
	}{
		{"default: the EventBridge sentence only", false, []any{}},
		{"raw notifications on request", true, []any{topic}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := zips.Vars()
			vars["name_prefix"] = "plan-" + testenv.Unique("a")
			vars["lambda_architecture"] = lambdazip.HostArchitecture()
			vars["alert_topic_arn"] = topic
			vars["alarm_raw_notifications"] = tt.raw
			opts := tfharness.Options(dir, vars)
			opts.PlanFilePath = filepath.Join(t.TempDir(), "plan")
			plan, err := terraform.InitAndPlanAndShowWithStructE(t, opts)
			require.NoError(t, err)
			alarms, rules, watchers := 0, 0, 0
			for addr, r := range plan.ResourcePlannedValuesMap {
				switch {
				case strings.HasPrefix(addr, "module.pipeline.aws_cloudwatch_metric_alarm.this["):
					alarms++
					for _, attr := range []string{"alarm_actions", "ok_actions"} {
						got, _ := r.AttributeValues[attr].([]any)
						if got == nil {
							got = []any{}
						}
						assert.Equal(t, tt.want, got, "%s %s", addr, attr)
					}
				case addr == "module.pipeline.aws_cloudwatch_metric_alarm.alert_delivery":
					watchers++
					assert.Equal(t, []any{topic}, r.AttributeValues["alarm_actions"], "the alert path's alarm does not go through the rule it watches")
					assert.Equal(t, "AWS/Events", r.AttributeValues["namespace"])
					assert.Equal(t, "FailedInvocations", r.AttributeValues["metric_name"])
				case strings.HasPrefix(addr, "module.pipeline.aws_cloudwatch_event_target.alarm_state_change"):
					rules++
					assert.Equal(t, topic, r.AttributeValues["arn"], "the readable sentence goes to the topic")
					dlq, _ := r.AttributeValues["dead_letter_config"].([]any)
					assert.Len(t, dlq, 1, "undelivered sentences go to the alert DLQ")
				}
			}
			assert.Equal(t, 8, alarms, "the queues', the processor's, the projector's and the maintenance job's")
			assert.Equal(t, 1, rules)
			assert.Equal(t, 1, watchers)
		})
	}
}
