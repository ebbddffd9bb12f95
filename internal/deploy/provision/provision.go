// Package provision creates the pipeline's runtime resources through the AWS
// SDK, with settings, policies and alarms read from the module's HCL (the
// folder is given: Load). It is the local deploy path where the
// hashicorp/aws Terraform provider cannot be installed.
package provision

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// Settings are the module's variables the provisioner reads, by name (the
// json tag); Load fills them with the module's defaults.
type Settings struct {
	NamePrefix                    string          `json:"name_prefix"`
	Environment                   string          `json:"environment"`
	LambdaArchitecture            string          `json:"lambda_architecture"`
	ProcessorTimeoutSeconds       int             `json:"processor_timeout_seconds"`
	ProcessorMemoryMB             int             `json:"processor_memory_mb"`
	ProcessorWorkerConcurrency    int             `json:"processor_worker_concurrency"`
	LogLevel                      string          `json:"log_level"`
	MetricsNamespace              string          `json:"metrics_namespace"`
	BatchSize                     int             `json:"batch_size"`
	MaximumBatchingWindowSeconds  int             `json:"maximum_batching_window_seconds"`
	EventSourceMaximumConcurrency int             `json:"event_source_maximum_concurrency"`
	VisibilityTimeoutSeconds      *int            `json:"visibility_timeout_seconds"`
	MessageRetentionSeconds       int             `json:"message_retention_seconds"`
	DLQMessageRetentionSeconds    int             `json:"dlq_message_retention_seconds"`
	MaxReceiveCount               int             `json:"max_receive_count"`
	KMSDataKeyReusePeriodSeconds  int             `json:"kms_data_key_reuse_period_seconds"`
	RetentionDays                 int             `json:"retention_days"`
	PointInTimeRecovery           bool            `json:"point_in_time_recovery"`
	DeletionProtection            bool            `json:"deletion_protection"`
	MaintenanceTimeoutSeconds     int             `json:"maintenance_timeout_seconds"`
	MaintenanceScheduleExpression string          `json:"maintenance_schedule_expression"`
	MaintenanceScheduleTimezone   string          `json:"maintenance_schedule_timezone"`
	MaintenanceRedriveTransient   bool            `json:"maintenance_redrive_transient"`
	MaintenanceRedriveRate        int             `json:"maintenance_redrive_rate"`
	LogRetentionDays              int             `json:"log_retention_days"`
	AlarmThresholds               AlarmThresholds `json:"alarm_thresholds"`
	AlertEmailAddresses           []string        `json:"alert_email_addresses"`
	ProducerPrincipalARNs         []string        `json:"producer_principal_arns"`

	module *hclmodule.Module // the module Load read, which Apply renders policies and alarms from
}

// ModuleDir is where the module lives in this repository, from its root:
// the commands' -module default.
const ModuleDir = "modules/tracking-pipeline"

// Load reads the module in moduleDir (modules/tracking-pipeline) and
// returns its variable defaults as Settings, for a stack named namePrefix
// in environment dev (the two variables without a default).
func Load(moduleDir, namePrefix string) (Settings, error) {
	mod, err := hclmodule.Load(moduleDir)
	if err != nil {
		return Settings{}, fmt.Errorf("read the module: %w", err)
	}
	defaults, err := mod.Defaults()
	if err != nil {
		return Settings{}, fmt.Errorf("read the module: %w", err)
	}
	fields := map[string]json.RawMessage{}
	for name, v := range defaults {
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return Settings{}, fmt.Errorf("the module's default of %s: %w", name, err)
		}
		fields[name] = b
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return Settings{}, fmt.Errorf("the module's defaults: %w", err)
	}
	s := Settings{module: mod}
	if err := json.Unmarshal(raw, &s); err != nil {
		return Settings{}, fmt.Errorf("the module's defaults: %w", err)
	}
	s.NamePrefix, s.Environment = namePrefix, "dev"
	if _, err := s.inputs(); err != nil {
		return Settings{}, fmt.Errorf("%s is not the module Settings read: %w", moduleDir, err)
	}
	return s, nil
}

// inputs are s as the module's variables, for rendering its HCL.
func (s Settings) inputs() (map[string]cty.Value, error) {
	if s.module == nil {
		return nil, errors.New("settings not read from the module: use provision.Load")
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	v, err := s.module.Inputs(raw)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return v, nil
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
	var out outputs.Stack

	keyARN, err := st.key(ctx)
	if err != nil {
		return out, err
	}
	out.KMSKeyARN = keyARN

	vars, err := s.inputs() // once: every resource read from the module renders these
	if err != nil {
		return out, err
	}
	q := sqs.NewFromConfig(st.cfg)
	key := map[string]string{"KmsMasterKeyId": keyARN}
	if out.IngestDLQURL, out.IngestDLQARN, err = st.createModuleQueue(ctx, q, vars, "ingest_dlq", key); err != nil {
		return out, err
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": out.IngestDLQARN, "maxReceiveCount": s.MaxReceiveCount})
	if out.IngestQueueURL, out.IngestQueueARN, err = st.createModuleQueue(ctx, q, vars, "ingest", map[string]string{
		"KmsMasterKeyId": keyARN, "RedrivePolicy": string(redrive),
	}); err != nil {
		return out, err
	}
	allow, _ := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{out.IngestQueueARN}})
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: &out.IngestDLQURL, Attributes: map[string]string{"RedriveAllowPolicy": string(allow)},
	}); err != nil {
		return out, fmt.Errorf("set the DLQ's redrive allow policy: %w", err)
	}
	for resource, dst := range map[string][2]*string{
		"maintenance_dlq": {&out.MaintenanceDLQURL, &out.MaintenanceDLQARN},
		"alert_dlq":       {&out.AlertDLQURL, &out.AlertDLQARN},
		"projector_dlq":   {&out.ProjectorDLQURL, &out.ProjectorDLQARN},
	} {
		if *dst[0], *dst[1], err = st.createModuleQueue(ctx, q, vars, resource, key); err != nil {
			return out, err
		}
	}

	names, err := s.names(vars)
	if err != nil {
		return out, err
	}
	out.AuditTableName = names.table
	tableARN, streamARN, err := st.table(ctx, out.AuditTableName, keyARN)
	if err != nil {
		return out, err
	}
	out.AuditTableARN = tableARN
	out.EventBusName = names.bus
	bus, err := eventbridge.NewFromConfig(st.cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &out.EventBusName})
	if err != nil {
		return out, fmt.Errorf("create the status event bus: %w", err)
	}
	out.EventBusARN = aws.ToString(bus.EventBusArn)

	topic, err := sns.NewFromConfig(st.cfg).CreateTopic(ctx, &sns.CreateTopicInput{
		Name: aws.String(names.topic), Attributes: map[string]string{"KmsMasterKeyId": keyARN},
	})
	if err != nil {
		return out, fmt.Errorf("create alert topic: %w", err)
	}
	out.AlertTopicARN = aws.ToString(topic.TopicArn)

	out.ProcessorFunctionName, out.ProjectorFunctionName, out.MaintenanceFunctionName = names.processor, names.projector, names.maintenance
	policies, err := newRolePolicies(s, vars, out, tableARN, streamARN, out.ProjectorDLQARN)
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

	if err := st.maintenance(ctx, fns, zips.Maintenance, &out); err != nil {
		return out, err
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
	arch := lambdatypes.Architecture(f.st.s.LambdaArchitecture) // the module's names are Lambda's
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
