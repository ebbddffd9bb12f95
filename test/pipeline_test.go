package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/gruntwork-io/terratest/modules/terraform"
	teststructure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// target says where the suite deploys: the local AWS (default) or, with
// TRACKING_E2E_TARGET=aws and credentials, a real account.
type target struct {
	name     string
	endpoint string // "" on AWS
	cfg      aws.Config
	arch     string
}

func chooseTarget(t *testing.T) target {
	t.Helper()
	if os.Getenv("TRACKING_E2E_TARGET") == "aws" {
		cfg, err := config.LoadDefaultConfig(t.Context())
		require.NoError(t, err)
		if _, err := cfg.Credentials.Retrieve(t.Context()); err != nil {
			t.Skipf("TRACKING_E2E_TARGET=aws but no AWS credentials: %v", err)
		}
		return target{name: "aws", cfg: cfg, arch: "arm64"}
	}
	url := os.Getenv("TRACKING_LOCALAWS_URL")
	if url == "" {
		// Its warnings (every access denied among them) go to the test log.
		srv := localawstest.New(t, localaws.Options{TimeScale: localTimeScale, Log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))})
		url = srv.URL
	}
	cfg := localawstest.Config(url)
	return target{name: "local", endpoint: url, cfg: cfg, arch: lambdazip.HostArchitecture()}
}

// localTimeScale runs the suite's own local AWS 10 times real time, so an
// alarm's minute lasts 6 s (a local AWS at TRACKING_LOCALAWS_URL keeps its own).
const localTimeScale = 10

// minute is how long a CloudWatch minute lasts on the target.
func (tg target) minute() time.Duration {
	if tg.name == "local" && os.Getenv("TRACKING_LOCALAWS_URL") == "" {
		return time.Minute / localTimeScale
	}
	return time.Minute
}

// TestPipelineModule applies the module's complete example (every feature
// on), sends updates and checks the audit rows, the DLQ and the
// configuration, then destroys it. Only timings are shortened: a 10 s
// processor timeout and two receives, so a transient failure reaches the
// DLQ in about two minutes. Stages can be
// skipped with SKIP_deploy, SKIP_validate, SKIP_teardown (terratest's
// test_structure convention): the deploy stage keeps its working copy and
// Terraform options in tfharness.StageDir, so a run with SKIP_teardown=true
// leaves a stack that later runs with SKIP_deploy=true validate and, without
// SKIP_teardown, destroy. Across runs that needs a target that outlives the
// test: a real account, or a local AWS at TRACKING_LOCALAWS_URL.
func TestPipelineModule(t *testing.T) {
	t.Parallel()
	tgt := chooseTarget(t)
	stage := tfharness.StageDir("pipeline")

	defer teststructure.RunTestStage(t, "teardown", func() {
		opts := tfharness.LoadOptions(t, stage)
		terraform.Destroy(t, opts)
		assertNothingLeft(t, tgt, opts.Vars["name_prefix"].(string))
		require.NoError(t, os.RemoveAll(stage))
	})
	teststructure.RunTestStage(t, "deploy", func() {
		dir := tfharness.FreshCopy(t, stage, "modules/tracking-pipeline/examples/complete")
		if tgt.endpoint != "" {
			tfharness.WriteLocalOverride(t, dir, tgt.endpoint)
		}
		opts := tfharness.Options(dir, nil)
		tfharness.Init(t, opts)
		opts.Vars = map[string]any{
			"name_prefix": "tp-" + strings.ToLower(random.UniqueId()), "lambda_zip_dir": zipsFor(t, tgt).Dir(),
			"lambda_architecture": tgt.arch, "max_receive_count": 2, "processor_timeout_seconds": 10,
			// No e-mail subscriptions: nobody would confirm them.
			"alert_email_addresses": []string{},
		}
		// The target's region: the local AWS is one region (its ARNs and
		// the functions' endpoints are us-east-1's), so the stack's
		// kms:ViaService and ARN conditions name the region it runs in.
		opts.Vars["region"] = tgt.cfg.Region
		tfharness.SaveOptions(t, stage, opts)
		// A second plan must be empty: what the module asks for is what
		// the target reads back, so no apply ever shows perpetual changes.
		terraform.ApplyAndIdempotent(t, opts)
	})
	teststructure.RunTestStage(t, "validate", func() {
		opts := tfharness.LoadOptions(t, stage)
		out, err := outputs.Decode([]byte(terraform.OutputJson(t, opts, "")))
		require.NoError(t, err)
		validateOutputs(t, out, opts.Vars["name_prefix"].(string))
		validatePipeline(t, tgt, out, terraform.Output(t, opts, "delivered_queue_url"))
		validateConfiguration(t, tgt, out)
		validateAlerts(t, tgt, out)
		validateProducers(t, tgt, out, opts.Vars["name_prefix"].(string))
		validateSchedule(t, tgt, out)
		validateTransientFailure(t, tgt, out) // last: it deletes the table
	})
}

// zipsFor returns zips the target can run: the host's for the local AWS,
// arm64 from `make build` for AWS.
func zipsFor(t *testing.T, tgt target) tfharness.Zips {
	t.Helper()
	if tgt.name == "local" {
		return tfharness.HostZips(t)
	}
	return tfharness.ZipsIn(t, filepath.Join(tfharness.RepoRoot(), "dist"), "make build")
}

func validateOutputs(t *testing.T, out outputs.Stack, prefix string) {
	t.Helper()
	for k, url := range map[string]string{"ingest_queue_url": out.IngestQueueURL, "ingest_dlq_url": out.IngestDLQURL} {
		assert.Contains(t, url, "/"+prefix+"-", k)
	}
	for k, arn := range map[string]string{"ingest_queue_arn": out.IngestQueueARN, "ingest_dlq_arn": out.IngestDLQARN} {
		assert.Regexp(t, `^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:`+prefix+`-`, arn, k)
	}
	assert.Regexp(t, `^arn:aws[a-z-]*:kms:`, out.KMSKeyARN)
	assert.Regexp(t, `^arn:aws[a-z-]*:sns:`, out.AlertTopicARN)
	assert.Equal(t, prefix+"-processor", out.ProcessorFunctionName)
	assert.Equal(t, prefix+"-audit", out.AuditTableName)
	assert.Len(t, out.AlarmNames, 9, "eight symptoms and the alert path's own")
	assert.Equal(t, prefix+"-projector", out.ProjectorFunctionName)
	assert.Equal(t, prefix+"-tracking", out.EventBusName)
	assert.Contains(t, out.StatusChangeEventPattern, "Tracking Status Changed")
	assert.Regexp(t, `^https?://`, out.AlertDLQURL)
}

func validatePipeline(t *testing.T, tgt target, out outputs.Stack, deliveredQueue string) {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(tgt.cfg)
	store := audit.NewStore(dynamodb.NewFromConfig(tgt.cfg), out.AuditTableName, 90)
	ingest, dlq := out.IngestQueueURL, out.IngestDLQURL
	send := func(body string) {
		_, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &ingest, MessageBody: &body})
		require.NoError(t, err)
	}
	ev := func(id, status, at string) string {
		return fmt.Sprintf(`{"tracking_id":"T1","event_id":%q,"status":%q,"event_time":%q}`, id, status, at)
	}
	send(ev("e2", "IN_TRANSIT", "2026-11-25T10:00:00Z"))
	send(ev("e3", "DELIVERED", "2026-11-25T12:00:00Z"))
	send(ev("e1", "PICKED_UP", "2026-11-25T08:00:00Z"))
	send(ev("e2", "IN_TRANSIT", "2026-11-25T10:00:00Z")) // duplicate
	send(`{"tracking_id":"T1","status":"DELIVERED"}`)    // poison

	retry.DoWithRetry(t, "three rows for T1", 60, 2*time.Second, func() (string, error) {
		rows, err := store.Trail(ctx, "T1")
		if err != nil || len(rows) != 3 {
			return "", fmt.Errorf("%d rows: %w", len(rows), err)
		}
		return "", nil
	})
	// The projector follows the rows from the table's stream: the latest
	// status (the newest event, whatever the arrival order), the day's
	// counters, and the change to DELIVERED on the bus, which the example's
	// consumer rule routes to its queue.
	retry.DoWithRetry(t, "T1's latest status projected", 30, 2*time.Second, func() (string, error) {
		latest, ok, err := store.LatestStatus(ctx, "T1")
		if err != nil || !ok || latest.Status != "DELIVERED" {
			return "", fmt.Errorf("latest status %+v (%w)", latest, err)
		}
		return "", nil
	})
	retry.DoWithRetry(t, "the day's counters projected", 30, 2*time.Second, func() (string, error) {
		st, err := store.DailyStats(ctx, time.Now())
		if err != nil || st.Total != 3 || st.Duplicates != 1 || st.Invalid != 1 {
			return "", fmt.Errorf("counters %+v (%w)", st, err)
		}
		return "", nil
	})
	retry.DoWithRetry(t, "T1's delivery at the example consumer", 30, 2*time.Second, func() (string, error) {
		got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &deliveredQueue, MaxNumberOfMessages: 10})
		if err != nil {
			return "", fmt.Errorf("receive: %w", err)
		}
		for _, m := range got.Messages {
			var ev struct {
				DetailType string                 `json:"detail-type"`
				Detail     contract.StatusChanged `json:"detail"`
			}
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &ev) == nil && ev.DetailType == contract.StatusChangedDetailType &&
				ev.Detail.TrackingID == "T1" && ev.Detail.Status == "DELIVERED" && ev.Detail.IdempotencyKey == "T1/e3" {
				return "", nil
			}
		}
		return "", fmt.Errorf("%d messages, none T1's delivery", len(got.Messages))
	})
	// The status index (eventually consistent, as every GSI) lists T1 under DELIVERED only.
	retry.DoWithRetry(t, "T1 in the status index", 30, 2*time.Second, func() (string, error) {
		delivered, err := store.InStatus(ctx, "DELIVERED", time.Time{}, 100)
		if err != nil {
			return "", fmt.Errorf("query the status index: %w", err)
		}
		for _, p := range delivered {
			if p.TrackingID == "T1" {
				return "", nil
			}
		}
		return "", fmt.Errorf("T1 not among %d DELIVERED packages", len(delivered))
	})
	inTransit, err := store.InStatus(ctx, "IN_TRANSIT", time.Time{}, 100)
	require.NoError(t, err)
	for _, p := range inTransit {
		assert.NotEqual(t, "T1", p.TrackingID, "T1 moved on from IN_TRANSIT")
	}

	retry.DoWithRetry(t, "poison in the DLQ with its reason", 60, 2*time.Second, func() (string, error) {
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlq, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, VisibilityTimeout: 5})
		if err != nil {
			return "", fmt.Errorf("receive: %w", err) // retried: a failed read is reported, never indexed
		}
		if len(msgs.Messages) != 1 {
			return "", fmt.Errorf("%d messages", len(msgs.Messages))
		}
		m := msgs.Messages[0]
		// Make it visible again at once for the redrive below.
		if _, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &dlq, ReceiptHandle: m.ReceiptHandle}); err != nil {
			return "", fmt.Errorf("release: %w", err)
		}
		if code := aws.ToString(m.MessageAttributes["ErrorCode"].StringValue); code != "CONTRACT_VIOLATION" {
			return "", fmt.Errorf("ErrorCode %q", code)
		}
		return "", nil
	})

	// A redrive of the DLQ re-rejects the poison and adds no row.
	dlqARN := out.IngestDLQARN
	_, err = q.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: &dlqARN})
	require.NoError(t, err)
	retry.DoWithRetry(t, "move task done", 60, 2*time.Second, func() (string, error) {
		l, err := q.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: &dlqARN})
		if err != nil || len(l.Results) == 0 || aws.ToString(l.Results[0].Status) != "COMPLETED" {
			return "", fmt.Errorf("not completed: %w", err)
		}
		return "", nil
	})
	rows, err := store.Trail(ctx, "T1")
	require.NoError(t, err)
	assert.Len(t, rows, 3)
}

func validateConfiguration(t *testing.T, tgt target, out outputs.Stack) {
	t.Helper()
	ctx := context.Background()
	attrs, err := sqs.NewFromConfig(tgt.cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(out.IngestQueueURL), AttributeNames: []sqstypes.QueueAttributeName{"All"},
	})
	require.NoError(t, err)
	assert.Equal(t, out.KMSKeyARN, attrs.Attributes["KmsMasterKeyId"])
	vis, _ := strconv.Atoi(attrs.Attributes["VisibilityTimeout"])
	assert.Equal(t, 65, vis, "6 x the 10 s function timeout + the complete example's 5 s batching window")

	table, err := dynamodb.NewFromConfig(tgt.cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(out.AuditTableName)})
	require.NoError(t, err)
	require.NotNil(t, table.Table.SSEDescription)
	assert.Equal(t, out.KMSKeyARN, aws.ToString(table.Table.SSEDescription.KMSMasterKeyArn))

	alarmNames := []string{}
	for _, v := range out.AlarmNames {
		alarmNames = append(alarmNames, v)
	}
	alarms, err := cloudwatch.NewFromConfig(tgt.cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: alarmNames})
	require.NoError(t, err)
	require.Len(t, alarms.MetricAlarms, 9)
	thresholds := map[string]float64{}
	for _, a := range alarms.MetricAlarms {
		thresholds[strings.TrimPrefix(aws.ToString(a.AlarmName), strings.TrimSuffix(out.ProcessorFunctionName, "processor"))] = aws.ToFloat64(a.Threshold)
		if aws.ToString(a.AlarmName) == out.AlarmNames["alert_delivery"] {
			// The alert path's alarm reaches the topic itself, not through the rule it watches.
			assert.Equal(t, []string{out.AlertTopicARN}, a.AlarmActions)
			continue
		}
		// Each transition reaches the topic once, through the EventBridge
		// rule; raw alarm actions would send it twice.
		assert.Empty(t, a.AlarmActions, aws.ToString(a.AlarmName))
		assert.Empty(t, a.OKActions, aws.ToString(a.AlarmName))
	}
	assert.Equal(t, map[string]float64{
		"queue-depth": 5000, "oldest-message-age": 600, "dlq-not-empty": 0, // the complete example's
		"processor-errors": 5, "processor-throttles": 5, "maintenance-errors": 0, "alert-delivery": 0,
		"projector-errors": 1, "projector-lag": 900000, // IteratorAge is in milliseconds
	}, thresholds)

	tags, err := sqs.NewFromConfig(tgt.cfg).ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(out.IngestQueueURL)})
	require.NoError(t, err)
	assert.Equal(t, "tracking-pipeline", tags.Tags["Project"])
	assert.Equal(t, "example", tags.Tags["Environment"])
	assert.Equal(t, "logistics", tags.Tags["CostCentre"], "the example's own tag")
}

// validateTransientFailure makes every write fail (the table is deleted):
// the update is retried max_receive_count (2) times, then SQS moves it to
// the DLQ without a processor reason.
func validateTransientFailure(t *testing.T, tgt target, out outputs.Stack) {
	t.Helper()
	ctx := context.Background()
	table := out.AuditTableName
	_, err := dynamodb.NewFromConfig(tgt.cfg).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	require.NoError(t, err)
	q := sqs.NewFromConfig(tgt.cfg)
	ingest, dlq := out.IngestQueueURL, out.IngestDLQURL
	body := `{"tracking_id":"T2","event_id":"e1","status":"DELIVERED","event_time":"2026-11-25T10:00:00Z"}`
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &ingest, MessageBody: &body})
	require.NoError(t, err)
	// Two receives with a 65 s visibility timeout: over two minutes on AWS.
	retry.DoWithRetry(t, "transient failure redriven to the DLQ", 60, 5*time.Second, func() (string, error) {
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &dlq, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, VisibilityTimeout: 5,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return "", fmt.Errorf("receive: %w", err)
		}
		for _, m := range msgs.Messages {
			if aws.ToString(m.Body) == body {
				if m.MessageAttributes["ErrorCode"].StringValue != nil {
					return "", retry.FatalError{Underlying: fmt.Errorf("a transient failure was rejected as permanent")}
				}
				return "", nil
			}
		}
		return "", fmt.Errorf("not in the DLQ yet (%d other messages)", len(msgs.Messages))
	})
}

// assertNothingLeft checks that no queue or table with the prefix remains.
func assertNothingLeft(t *testing.T, tgt target, prefix string) {
	t.Helper()
	ctx := context.Background()
	queues, err := sqs.NewFromConfig(tgt.cfg).ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(prefix)})
	require.NoError(t, err)
	assert.Empty(t, queues.QueueUrls)
	tables, err := dynamodb.NewFromConfig(tgt.cfg).ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String(prefix)})
	require.NoError(t, err)
	for _, name := range tables.TableNames {
		assert.False(t, strings.HasPrefix(name, prefix), "table %s is left", name)
	}
}
