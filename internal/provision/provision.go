// Package provision creates the pipeline's runtime resources through the AWS
// SDK with the module's default settings. It is the local deploy path where
// the hashicorp/aws Terraform provider cannot be installed; a parity test
// keeps Settings' defaults equal to the module's variable defaults.
package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/outputs"
)

// Settings mirror modules/tracking-pipeline's variables; the hcl tag names
// the variable whose default the field's default must equal.
type Settings struct {
	NamePrefix                    string          `hcl:"name_prefix"`
	Environment                   string          `hcl:"environment"`
	LambdaArchitecture            string          `hcl:"lambda_architecture"`
	ProcessorTimeoutSeconds       int             `hcl:"processor_timeout_seconds"`
	ProcessorMemoryMB             int             `hcl:"processor_memory_mb"`
	ProcessorWorkerConcurrency    int             `hcl:"processor_worker_concurrency"`
	LogLevel                      string          `hcl:"log_level"`
	MetricsNamespace              string          `hcl:"metrics_namespace"`
	BatchSize                     int             `hcl:"batch_size"`
	MaximumBatchingWindowSeconds  int             `hcl:"maximum_batching_window_seconds"`
	EventSourceMaximumConcurrency int             `hcl:"event_source_maximum_concurrency"`
	VisibilityTimeoutSeconds      *int            `hcl:"visibility_timeout_seconds"`
	MessageRetentionSeconds       int             `hcl:"message_retention_seconds"`
	DLQMessageRetentionSeconds    int             `hcl:"dlq_message_retention_seconds"`
	MaxReceiveCount               int             `hcl:"max_receive_count"`
	KMSDataKeyReusePeriodSeconds  int             `hcl:"kms_data_key_reuse_period_seconds"`
	RetentionDays                 int             `hcl:"retention_days"`
	PointInTimeRecovery           bool            `hcl:"point_in_time_recovery"`
	DeletionProtection            bool            `hcl:"deletion_protection"`
	MaintenanceTimeoutSeconds     int             `hcl:"maintenance_timeout_seconds"`
	MaintenanceScheduleExpression string          `hcl:"maintenance_schedule_expression"`
	MaintenanceScheduleTimezone   string          `hcl:"maintenance_schedule_timezone"`
	MaintenanceRedriveTransient   bool            `hcl:"maintenance_redrive_transient"`
	MaintenanceRedriveRate        int             `hcl:"maintenance_redrive_rate"`
	LogRetentionDays              int             `hcl:"log_retention_days"`
	AlarmThresholds               AlarmThresholds `hcl:"alarm_thresholds"`
	AlertEmailAddresses           []string        `hcl:"alert_email_addresses"`
	ProducerPrincipalARNs         []string        `hcl:"producer_principal_arns"`
}

// Defaults are the module's variable defaults (name_prefix and environment
// have none: environment is dev here).
func Defaults(namePrefix string) Settings {
	return Settings{
		NamePrefix:                    namePrefix,
		Environment:                   "dev",
		LambdaArchitecture:            "arm64",
		ProcessorTimeoutSeconds:       30,
		ProcessorMemoryMB:             256,
		ProcessorWorkerConcurrency:    10,
		LogLevel:                      "info",
		MetricsNamespace:              "TrackingPipeline",
		BatchSize:                     10,
		MaximumBatchingWindowSeconds:  0,
		EventSourceMaximumConcurrency: 10,
		MessageRetentionSeconds:       345600,
		DLQMessageRetentionSeconds:    1209600,
		MaxReceiveCount:               5,
		KMSDataKeyReusePeriodSeconds:  300,
		RetentionDays:                 90,
		PointInTimeRecovery:           true,
		DeletionProtection:            false,
		MaintenanceTimeoutSeconds:     300,
		MaintenanceScheduleExpression: "cron(15 0 * * ? *)",
		MaintenanceScheduleTimezone:   "UTC",
		MaintenanceRedriveTransient:   false,
		MaintenanceRedriveRate:        10,
		LogRetentionDays:              30,
		AlarmThresholds: AlarmThresholds{
			QueueDepth: 1000, OldestMessageAgeSeconds: 300, DLQMessages: 0, ProcessorErrors: 5, ProcessorThrottles: 5, MaintenanceErrors: 0,
			ProjectorErrors: 1, ProjectorLagSeconds: 900,
		},
		AlertEmailAddresses:   []string{},
		ProducerPrincipalARNs: []string{},
	}
}

// VisibilityTimeout is the module's rule: the override, else 6 x timeout + window.
func (s Settings) VisibilityTimeout() int {
	if s.VisibilityTimeoutSeconds != nil {
		return *s.VisibilityTimeoutSeconds
	}
	return 6*s.ProcessorTimeoutSeconds + s.MaximumBatchingWindowSeconds
}

// Zips are the paths of the Lambda packages.
type Zips struct{ Processor, Projector, Maintenance string }

// ZipsIn are the packages make build puts in dir.
func ZipsIn(dir string) Zips {
	return Zips{
		Processor:   filepath.Join(dir, "processor.zip"),
		Projector:   filepath.Join(dir, "projector.zip"),
		Maintenance: filepath.Join(dir, "maintenance.zip"),
	}
}

// Stack creates the resources of one stack.
type Stack struct {
	cfg  aws.Config
	s    Settings
	edit func(policy, doc string) string
}

// New returns a provisioner for settings s on the AWS that cfg reaches.
func New(cfg aws.Config, s Settings) *Stack { return &Stack{cfg: cfg, s: s} }

// EditPolicies makes the provisioner pass each policy document it renders
// (policy names the module's aws_iam_policy_document: the roles', the key
// policy, the queue and topic policies) through edit first: the IAM
// mutation test removes one statement or action this way.
func (st *Stack) EditPolicies(edit func(policy, doc string) string) *Stack {
	st.edit = edit
	return st
}

// Apply creates every runtime resource and returns the outputs.
func (st *Stack) Apply(ctx context.Context, zips Zips) (outputs.Stack, error) {
	s := st.s
	name := s.NamePrefix
	var out outputs.Stack

	keyARN, err := st.key(ctx)
	if err != nil {
		return out, err
	}
	out.KMSKeyARN = keyARN

	q := sqs.NewFromConfig(st.cfg)
	if out.IngestDLQURL, out.IngestDLQARN, err = createQueue(ctx, q, name+"-ingest-dlq", map[string]string{
		"MessageRetentionPeriod":       strconv.Itoa(s.DLQMessageRetentionSeconds),
		"KmsMasterKeyId":               keyARN,
		"KmsDataKeyReusePeriodSeconds": strconv.Itoa(s.KMSDataKeyReusePeriodSeconds),
	}); err != nil {
		return out, err
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": out.IngestDLQARN, "maxReceiveCount": s.MaxReceiveCount})
	if out.IngestQueueURL, out.IngestQueueARN, err = createQueue(ctx, q, name+"-ingest", map[string]string{
		"VisibilityTimeout":             strconv.Itoa(s.VisibilityTimeout()),
		"MessageRetentionPeriod":        strconv.Itoa(s.MessageRetentionSeconds),
		"ReceiveMessageWaitTimeSeconds": "20",
		"KmsMasterKeyId":                keyARN,
		"KmsDataKeyReusePeriodSeconds":  strconv.Itoa(s.KMSDataKeyReusePeriodSeconds),
		"RedrivePolicy":                 string(redrive),
	}); err != nil {
		return out, err
	}
	allow, _ := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{out.IngestQueueARN}})
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: &out.IngestDLQURL, Attributes: map[string]string{"RedriveAllowPolicy": string(allow)},
	}); err != nil {
		return out, fmt.Errorf("set the DLQ's redrive allow policy: %w", err)
	}
	if out.MaintenanceDLQURL, out.MaintenanceDLQARN, err = createQueue(ctx, q, name+"-maintenance-dlq", map[string]string{
		"MessageRetentionPeriod": "1209600", "KmsMasterKeyId": keyARN,
	}); err != nil {
		return out, err
	}
	if out.AlertDLQURL, out.AlertDLQARN, err = createQueue(ctx, q, name+"-alert-dlq", map[string]string{
		"MessageRetentionPeriod": "1209600", "KmsMasterKeyId": keyARN,
		"KmsDataKeyReusePeriodSeconds": strconv.Itoa(s.KMSDataKeyReusePeriodSeconds),
	}); err != nil {
		return out, err
	}

	if out.ProjectorDLQURL, out.ProjectorDLQARN, err = createQueue(ctx, q, name+"-projector-dlq", map[string]string{
		"MessageRetentionPeriod": "1209600", "KmsMasterKeyId": keyARN,
		"KmsDataKeyReusePeriodSeconds": strconv.Itoa(s.KMSDataKeyReusePeriodSeconds),
	}); err != nil {
		return out, err
	}

	out.AuditTableName = name + "-audit"
	tableARN, streamARN, err := st.table(ctx, out.AuditTableName, keyARN)
	if err != nil {
		return out, err
	}
	out.AuditTableARN = tableARN
	out.EventBusName = name + "-tracking"
	bus, err := eventbridge.NewFromConfig(st.cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &out.EventBusName})
	if err != nil {
		return out, fmt.Errorf("create the status event bus: %w", err)
	}
	out.EventBusARN = aws.ToString(bus.EventBusArn)

	topic, err := sns.NewFromConfig(st.cfg).CreateTopic(ctx, &sns.CreateTopicInput{
		Name: aws.String(name + "-alerts"), Attributes: map[string]string{"KmsMasterKeyId": keyARN},
	})
	if err != nil {
		return out, fmt.Errorf("create alert topic: %w", err)
	}
	out.AlertTopicARN = aws.ToString(topic.TopicArn)

	out.ProcessorFunctionName = name + "-processor"
	out.ProjectorFunctionName = name + "-projector"
	out.MaintenanceFunctionName = name + "-maintenance"
	policies, err := newRolePolicies(s, out, tableARN, streamARN, out.ProjectorDLQARN)
	if err != nil {
		return out, err
	}
	fns := lambdaFunctions{st: st, client: lambda.NewFromConfig(st.cfg), policies: policies}
	if _, err := fns.create(ctx, out.ProcessorFunctionName, "processor", zips.Processor, s.ProcessorTimeoutSeconds, s.ProcessorMemoryMB, map[string]string{
		config.EnvAuditTable:       out.AuditTableName,
		config.EnvDLQURL:           out.IngestDLQURL,
		config.EnvRetentionDays:    strconv.Itoa(s.RetentionDays),
		config.EnvMaxConcurrency:   strconv.Itoa(s.ProcessorWorkerConcurrency),
		config.EnvLogLevel:         s.LogLevel,
		config.EnvMetricsNamespace: s.MetricsNamespace,
	}); err != nil {
		return out, err
	}
	if _, err := fns.client.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		EventSourceArn:                 &out.IngestQueueARN,
		FunctionName:                   &out.ProcessorFunctionName,
		BatchSize:                      aws.Int32(int32(s.BatchSize)),                    //nolint:gosec // validated 1-10000
		MaximumBatchingWindowInSeconds: aws.Int32(int32(s.MaximumBatchingWindowSeconds)), //nolint:gosec // validated 0-300
		FunctionResponseTypes:          []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
		ScalingConfig:                  &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(int32(s.EventSourceMaximumConcurrency))}, //nolint:gosec // validated 2-1000
	}); err != nil {
		return out, fmt.Errorf("create the event source mapping: %w", err)
	}

	if err := st.projector(ctx, fns, zips.Projector, &out, streamARN, out.ProjectorDLQARN); err != nil {
		return out, err
	}

	maintenanceARN, err := fns.create(ctx, out.MaintenanceFunctionName, "maintenance", zips.Maintenance, s.MaintenanceTimeoutSeconds, 256, map[string]string{
		config.EnvAuditTable:       out.AuditTableName,
		config.EnvDLQURL:           out.IngestDLQURL,
		config.EnvIngestQueueURL:   out.IngestQueueURL,
		config.EnvAlertTopicARN:    out.AlertTopicARN,
		config.EnvRedriveTransient: strconv.FormatBool(s.MaintenanceRedriveTransient),
		config.EnvRedriveRate:      strconv.Itoa(s.MaintenanceRedriveRate),
		config.EnvRetentionDays:    strconv.Itoa(s.RetentionDays),
		config.EnvLogLevel:         s.LogLevel,
		config.EnvMetricsNamespace: s.MetricsNamespace,
	})
	if err != nil {
		return out, err
	}
	if _, err := fns.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:             &out.MaintenanceFunctionName,
		MaximumRetryAttempts:     aws.Int32(2),
		MaximumEventAgeInSeconds: aws.Int32(3600),
		DestinationConfig:        &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: &out.MaintenanceDLQARN}},
	}); err != nil {
		return out, fmt.Errorf("configure maintenance async invocations: %w", err)
	}
	policies.withFunction("maintenance", maintenanceARN)
	schedulerRole, err := fns.role(ctx, name+"-maintenance-scheduler", "scheduler_assume", "scheduler")
	if err != nil {
		return out, err
	}
	out.MaintenanceScheduleName = name + "-maintenance"
	if _, err := scheduler.NewFromConfig(st.cfg).CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name:                       &out.MaintenanceScheduleName,
		ScheduleExpression:         &s.MaintenanceScheduleExpression,
		ScheduleExpressionTimezone: &s.MaintenanceScheduleTimezone,
		FlexibleTimeWindow:         &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{
			Arn:              &maintenanceARN,
			RoleArn:          &schedulerRole,
			Input:            aws.String(`{"tasks":["dlq-digest","daily-stats","redrive"]}`),
			RetryPolicy:      &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(3), MaximumEventAgeInSeconds: aws.Int32(3600)},
			DeadLetterConfig: &schedtypes.DeadLetterConfig{Arn: &out.MaintenanceDLQARN},
		},
	}); err != nil {
		return out, fmt.Errorf("create the maintenance schedule: %w", err)
	}
	if err := st.alerts(ctx, &out, policies); err != nil {
		return out, err
	}
	if err := st.resourcePolicies(ctx, policies, out); err != nil {
		return out, err
	}
	out.LogGroupNames = map[string]string{
		"processor":   "/aws/lambda/" + out.ProcessorFunctionName,
		"projector":   "/aws/lambda/" + out.ProjectorFunctionName,
		"maintenance": "/aws/lambda/" + out.MaintenanceFunctionName,
	}
	logs := cloudwatchlogs.NewFromConfig(st.cfg)
	for _, group := range []string{out.LogGroupNames["processor"], out.LogGroupNames["projector"], out.LogGroupNames["maintenance"]} {
		if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group, KmsKeyId: &keyARN}); err != nil {
			return out, fmt.Errorf("create log group %s: %w", group, err)
		}
		if _, err := logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: &group, RetentionInDays: aws.Int32(int32(s.LogRetentionDays)), //nolint:gosec // validated to CloudWatch's values
		}); err != nil {
			return out, fmt.Errorf("set the retention of %s: %w", group, err)
		}
	}
	return out, nil
}

func (st *Stack) key(ctx context.Context) (string, error) {
	k := kms.NewFromConfig(st.cfg)
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("tracking-pipeline " + st.s.NamePrefix)})
	if err != nil {
		return "", fmt.Errorf("create KMS key: %w", err)
	}
	id := key.KeyMetadata.KeyId
	if _, err := k.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id}); err != nil {
		return "", fmt.Errorf("enable key rotation: %w", err)
	}
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/" + st.s.NamePrefix), TargetKeyId: id}); err != nil {
		return "", fmt.Errorf("create key alias: %w", err)
	}
	return aws.ToString(key.KeyMetadata.Arn), nil
}

// table creates the audit table and returns its ARN and its stream's.
func (st *Stack) table(ctx context.Context, name, keyARN string) (string, string, error) {
	d := dynamodb.NewFromConfig(st.cfg)
	in := audit.CreateTableInput(name)
	in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: &keyARN}
	in.DeletionProtectionEnabled = aws.Bool(st.s.DeletionProtection)
	created, err := d.CreateTable(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("create audit table: %w", err)
	}
	if _, err := d.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        &name,
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(st.s.PointInTimeRecovery)},
	}); err != nil {
		return "", "", fmt.Errorf("set point-in-time recovery of the audit table: %w", err)
	}
	if _, err := d.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &name,
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(audit.AttrExpiresAt), Enabled: aws.Bool(true)},
	}); err != nil {
		return "", "", fmt.Errorf("enable TTL on the audit table: %w", err)
	}
	return aws.ToString(created.TableDescription.TableArn), aws.ToString(created.TableDescription.LatestStreamArn), nil
}

func createQueue(ctx context.Context, q *sqs.Client, name string, attrs map[string]string) (string, string, error) {
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("read queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"], nil
}

type lambdaFunctions struct {
	st       *Stack
	client   *lambda.Client
	policies *rolePolicies
}

// role makes the role name with the module's trust policy named trust and
// its policy named policy (iam.tf's aws_iam_policy_documents of those
// names; the policy as edited) and returns its ARN.
func (f *lambdaFunctions) role(ctx context.Context, name, trust, policy string) (string, error) {
	trustDoc, err := f.policies.document(trust)
	if err != nil {
		return "", err
	}
	doc, err := f.policies.document(policy)
	if err != nil {
		return "", err
	}
	if f.st.edit != nil {
		doc = f.st.edit(policy, doc)
	}
	roles := iam.NewFromConfig(f.st.cfg)
	role, err := roles.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: &trustDoc})
	if err != nil {
		return "", fmt.Errorf("create role %s: %w", name, err)
	}
	if _, err := roles.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: &policy, PolicyDocument: &doc}); err != nil {
		return "", fmt.Errorf("put the %s policy on role %s: %w", policy, name, err)
	}
	return aws.ToString(role.Role.Arn), nil
}

// create makes the function's role with the module's policy named policy
// (iam.tf's aws_iam_policy_document of that name) and the function; it
// returns the function ARN.
func (f *lambdaFunctions) create(ctx context.Context, name, policy, zipPath string, timeout, memory int, env map[string]string) (string, error) {
	code, err := os.ReadFile(zipPath) //nolint:gosec // the caller's own build output
	if err != nil {
		return "", fmt.Errorf("read %s: %w", zipPath, err)
	}
	roleARN, err := f.role(ctx, name, "lambda_assume", policy)
	if err != nil {
		return "", err
	}
	arch := lambdatypes.ArchitectureArm64
	if f.st.s.LambdaArchitecture == "x86_64" {
		arch = lambdatypes.ArchitectureX8664
	}
	out, err := f.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  &name,
		Role:          &roleARN,
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Architectures: []lambdatypes.Architecture{arch},
		Code:          &lambdatypes.FunctionCode{ZipFile: code},
		Timeout:       aws.Int32(int32(timeout)), //nolint:gosec // validated 3-900
		MemorySize:    aws.Int32(int32(memory)),  //nolint:gosec // validated 128-10240
		Environment:   &lambdatypes.Environment{Variables: env},
		TracingConfig: &lambdatypes.TracingConfig{Mode: lambdatypes.TracingModeActive},
		LoggingConfig: &lambdatypes.LoggingConfig{LogFormat: lambdatypes.LogFormatJson, LogGroup: aws.String("/aws/lambda/" + name)},
	})
	if err != nil {
		return "", fmt.Errorf("create function %s: %w", name, err)
	}
	return aws.ToString(out.FunctionArn), nil
}
