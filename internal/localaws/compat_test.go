package localaws_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// queryPost sends a CloudWatch Query-protocol request, as the Terraform
// provider does, and returns the status and body.
func queryPost(ctx context.Context, url, form string) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func configFor(url string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(url)}
}

// compatCheck is one row of the gap table: check must fail on bare kumo and
// pass through the layer.
type compatCheck struct {
	gap   string
	check func(ctx context.Context, t *testing.T, url string) error
}

// compatChecks are the gaps of the layer's README table: each must fail on
// bare kumo and pass through the layer.
var compatChecks = []compatCheck{
	{"SQS keeps KmsMasterKeyId, KmsDataKeyReusePeriodSeconds, RedriveAllowPolicy; an empty value removes one", func(ctx context.Context, t *testing.T, url string) error {
		q := sqs.NewFromConfig(configFor(url))
		allow := `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:src"]}`
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("kms")), Attributes: map[string]string{
			"KmsMasterKeyId": "alias/tp", "KmsDataKeyReusePeriodSeconds": "300", "RedriveAllowPolicy": allow,
		}})
		if err != nil {
			return err
		}
		got, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypesName{"All"}})
		if err != nil {
			return err
		}
		if got.Attributes["KmsMasterKeyId"] != "alias/tp" || got.Attributes["KmsDataKeyReusePeriodSeconds"] != "300" || got.Attributes["RedriveAllowPolicy"] != allow {
			return fmt.Errorf("attributes read back as %v", got.Attributes)
		}
		// The provider destroys aws_sqs_queue_redrive_allow_policy so, then
		// waits for the attribute to be gone.
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: out.QueueUrl, Attributes: map[string]string{"RedriveAllowPolicy": ""}}); err != nil {
			return err
		}
		got, err = q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypesName{"All"}})
		if err != nil {
			return err
		}
		if v, ok := got.Attributes["RedriveAllowPolicy"]; ok {
			return fmt.Errorf("RedriveAllowPolicy set to empty still reads back (%q)", v)
		}
		return nil
	}},
	{"SQS queue URLs name the endpoint that was called", func(ctx context.Context, t *testing.T, url string) error {
		out, err := sqs.NewFromConfig(configFor(url)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("url"))})
		if err != nil {
			return err
		}
		if !strings.HasPrefix(aws.ToString(out.QueueUrl), url) {
			return fmt.Errorf("queue URL %s is not on %s", aws.ToString(out.QueueUrl), url)
		}
		return nil
	}},
	{"SQS StartMessageMoveTask and ListMessageMoveTasks", func(ctx context.Context, t *testing.T, url string) error {
		q := sqs.NewFromConfig(configFor(url))
		dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("dlq"))})
		if err != nil {
			return err
		}
		src, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("src"))})
		if err != nil {
			return err
		}
		arn := func(u *string) string {
			a, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []sqstypesName{"QueueArn"}})
			return a.Attributes["QueueArn"]
		}
		if _, err := q.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn(dlq.QueueUrl)), DestinationArn: aws.String(arn(src.QueueUrl))}); err != nil {
			return err
		}
		_, err = q.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(arn(dlq.QueueUrl))})
		return err
	}},
	{"KMS key metadata carries CustomerMasterKeySpec", func(ctx context.Context, t *testing.T, url string) error {
		k := kms.NewFromConfig(configFor(url))
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			return err
		}
		got, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId})
		if err != nil {
			return err
		}
		if got.KeyMetadata.CustomerMasterKeySpec != "SYMMETRIC_DEFAULT" { //nolint:staticcheck // deprecated by AWS, still returned, read by the provider
			return fmt.Errorf("CustomerMasterKeySpec %q", got.KeyMetadata.CustomerMasterKeySpec) //nolint:staticcheck // as above
		}
		return nil
	}},
	{"KMS EnableKeyRotation and GetKeyRotationStatus", func(ctx context.Context, t *testing.T, url string) error {
		k := kms.NewFromConfig(configFor(url))
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			return err
		}
		if _, err := k.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}); err != nil {
			return err
		}
		st, err := k.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyMetadata.KeyId})
		if err != nil {
			return err
		}
		if !st.KeyRotationEnabled {
			return errors.New("rotation reads back disabled")
		}
		return nil
	}},
	{"DynamoDB point-in-time recovery and SSEDescription", func(ctx context.Context, t *testing.T, url string) error {
		d := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		in := audit.CreateTableInput(testenv.Unique("pitr"))
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/k")}
		if _, err := d.CreateTable(ctx, in); err != nil {
			return err
		}
		if _, err := d.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: in.TableName, PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
		}); err != nil {
			return err
		}
		cb, err := d.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: in.TableName})
		if err != nil {
			return err
		}
		if cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
			return errors.New("PITR reads back disabled")
		}
		desc, err := d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err != nil {
			return err
		}
		if desc.Table.SSEDescription == nil || aws.ToString(desc.Table.SSEDescription.KMSMasterKeyArn) == "" {
			return errors.New("no SSEDescription")
		}
		return nil
	}},
	{"DynamoDB responses carry X-Amz-Crc32", func(ctx context.Context, t *testing.T, url string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.Header.Get("X-Amz-Crc32") == "" {
			return errors.New("no X-Amz-Crc32 header")
		}
		return nil
	}},
	{"CloudWatch dashboards (SDK's CBOR protocol)", func(ctx context.Context, t *testing.T, url string) error {
		cw := cloudwatch.NewFromConfig(configFor(url))
		name := testenv.Unique("board")
		body := `{"widgets":[]}`
		if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: &name, DashboardBody: &body}); err != nil {
			return err
		}
		got, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: &name})
		if err != nil {
			return err
		}
		if aws.ToString(got.DashboardBody) != body {
			return fmt.Errorf("body reads back as %q", aws.ToString(got.DashboardBody))
		}
		if _, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{name}}); err != nil {
			return err
		}
		if _, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: &name}); err == nil {
			return errors.New("a deleted dashboard is still there")
		}
		return nil
	}},
	{"CloudWatch dashboards (Terraform provider's Query protocol)", func(ctx context.Context, t *testing.T, url string) error {
		post := func(form string) (int, string, error) { return queryPost(ctx, url, form) }
		name := testenv.Unique("qboard")
		if code, body, err := post("Action=PutDashboard&Version=2010-08-01&DashboardName=" + name + "&DashboardBody=%7B%22widgets%22%3A%5B%5D%7D"); err != nil || code != 200 {
			return fmt.Errorf("PutDashboard: %d %s %w", code, body, err)
		}
		code, body, err := post("Action=GetDashboard&Version=2010-08-01&DashboardName=" + name)
		if err != nil || code != 200 || !strings.Contains(body, "<DashboardBody>{&#34;widgets&#34;:[]}</DashboardBody>") {
			return fmt.Errorf("GetDashboard: %d %s %w", code, body, err)
		}
		return nil
	}},
	{"CloudWatch alarms read back dimensions, actions, TreatMissingData, DatapointsToAlarm and tags (Query protocol)", func(ctx context.Context, t *testing.T, url string) error {
		name := testenv.Unique("alarm")
		topic := "arn:aws:sns:us-east-1:000000000000:" + name
		put := "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=" + name +
			"&MetricName=ApproximateNumberOfMessagesVisible&Namespace=AWS%2FSQS&Statistic=Maximum&Period=60&EvaluationPeriods=5" +
			"&DatapointsToAlarm=3&Threshold=1000&ComparisonOperator=GreaterThanOrEqualToThreshold&TreatMissingData=notBreaching" +
			"&Dimensions.member.1.Name=QueueName&Dimensions.member.1.Value=ingest" +
			"&AlarmActions.member.1=" + topic + "&OKActions.member.1=" + topic +
			"&Tags.member.1.Key=Project&Tags.member.1.Value=tracking-pipeline"
		if code, body, err := queryPost(ctx, url, put); err != nil || code != 200 {
			return fmt.Errorf("PutMetricAlarm: %d %s %w", code, body, err)
		}
		code, body, err := queryPost(ctx, url, "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1="+name)
		if err != nil || code != 200 {
			return fmt.Errorf("DescribeAlarms: %d %s %w", code, body, err)
		}
		var described struct {
			Alarms []struct {
				AlarmName         string
				Dimensions        []struct{ Name, Value string } `xml:"Dimensions>member"`
				AlarmActions      []string                       `xml:"AlarmActions>member"`
				OKActions         []string                       `xml:"OKActions>member"`
				TreatMissingData  string
				DatapointsToAlarm int
			} `xml:"DescribeAlarmsResult>MetricAlarms>member"`
		}
		if err := xml.Unmarshal([]byte(body), &described); err != nil || len(described.Alarms) != 1 {
			return fmt.Errorf("DescribeAlarms answer %s: %w", body, err)
		}
		a := described.Alarms[0]
		if len(a.Dimensions) != 1 || a.Dimensions[0].Value != "ingest" || len(a.AlarmActions) != 1 || a.AlarmActions[0] != topic ||
			len(a.OKActions) != 1 || a.TreatMissingData != "notBreaching" || a.DatapointsToAlarm != 3 {
			return fmt.Errorf("alarm read back as %+v", a)
		}
		arn := "arn:aws:cloudwatch:us-east-1:000000000000:alarm:" + name
		if code, body, err := queryPost(ctx, url, "Action=TagResource&Version=2010-08-01&ResourceARN="+arn+"&Tags.member.1.Key=Env&Tags.member.1.Value=test"); err != nil || code != 200 {
			return fmt.Errorf("TagResource: %d %s %w", code, body, err)
		}
		code, body, err = queryPost(ctx, url, "Action=ListTagsForResource&Version=2010-08-01&ResourceARN="+arn)
		if err != nil || code != 200 || !strings.Contains(body, "<Key>Project</Key><Value>tracking-pipeline</Value>") || !strings.Contains(body, "<Key>Env</Key><Value>test</Value>") {
			return fmt.Errorf("ListTagsForResource: %d %s %w", code, body, err)
		}
		return nil
	}},
	{"EventBridge delivers to SNS targets through an input transformer", func(ctx context.Context, t *testing.T, url string) error {
		cfg := configFor(url)
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Unique("alerts"))})
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(cfg)
		inbox, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("inbox"))})
		if err != nil {
			return err
		}
		attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypesName{"QueueArn"}})
		if err != nil {
			return err
		}
		if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(attrs.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
			return err
		}
		ev := eventbridge.NewFromConfig(cfg)
		rule := testenv.Unique("alarms")
		created, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule,
			EventPattern: aws.String(`{"source":["compat.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],` +
				`"detail":{"$or":[{"state":{"value":[{"prefix":"AL"}]}},{"previousState":{"value":["ALARM"]}}]}}`)})
		if err != nil {
			return err
		}
		// EventBridge publishes as its service principal: the topic's policy must let it, for this rule.
		if _, err := sns.NewFromConfig(cfg).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Policy"),
			AttributeValue: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish",` +
				`"Resource":"` + aws.ToString(topic.TopicArn) + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + aws.ToString(created.RuleArn) + `"}}}]}`)}); err != nil {
			return err
		}
		if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, Targets: []ebtypes.Target{{
			Id: aws.String("topic"), Arn: topic.TopicArn,
			InputTransformer: &ebtypes.InputTransformer{
				InputPathsMap: map[string]string{"alarm": "$.detail.alarmName", "state": "$.detail.state.value"},
				InputTemplate: aws.String(`"<alarm> is <state>"`),
			},
		}}}); err != nil {
			return err
		}
		for _, change := range [][2]string{{"OK", "INSUFFICIENT_DATA"}, {"ALARM", "OK"}} { // only the second matches
			if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
				Source: aws.String("compat.cloudwatch"), DetailType: aws.String("CloudWatch Alarm State Change"), // "aws." sources are AWS's own
				Detail: aws.String(`{"alarmName":"tp-dlq-not-empty","state":{"value":"` + change[0] + `"},"previousState":{"value":"` + change[1] + `"}}`),
			}}}); err != nil {
				return err
			}
		}
		got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: inbox.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			return err
		}
		if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != `"tp-dlq-not-empty is ALARM"` {
			return fmt.Errorf("topic delivered %d message(s): %v", len(got.Messages), got.Messages)
		}
		return nil
	}},
	{"Lambda runs deployed code, keeps tracing/logging config, concurrency, event invoke config and event source settings", func(ctx context.Context, t *testing.T, url string) error {
		l := lambda.NewFromConfig(configFor(url))
		name := testenv.Unique("fn")
		code, err := os.ReadFile(testenv.LambdaZip(t, "maintenance"))
		if err != nil {
			return err
		}
		// The mapping below polls a queue with the function's role, which must allow it.
		queue := testenv.Unique("source")
		if _, err := sqs.NewFromConfig(configFor(url)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queue}); err != nil {
			return err
		}
		role, err := iam.NewFromConfig(configFor(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
			AssumeRolePolicyDocument: aws.String(lambdaTrust)})
		if err != nil {
			return err
		}
		if _, err := iam.NewFromConfig(configFor(url)).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("poll"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"*"}]}`)}); err != nil {
			return err
		}
		if _, err := l.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: &name, Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: code},
			TracingConfig: &lambdatypes.TracingConfig{Mode: lambdatypes.TracingModeActive},
		}); err != nil {
			return err
		}
		conf, err := l.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
		if err != nil {
			return err
		}
		if conf.TracingConfig == nil || conf.TracingConfig.Mode != lambdatypes.TracingModeActive {
			return errors.New("tracing config dropped")
		}
		if _, err := l.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: &name, ReservedConcurrentExecutions: aws.Int32(3)}); err != nil {
			return err
		}
		c, err := l.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: &name})
		if err != nil || aws.ToInt32(c.ReservedConcurrentExecutions) != 3 {
			return fmt.Errorf("reserved concurrency reads back as %v: %w", c, err)
		}
		if _, err := l.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: &name, MaximumRetryAttempts: aws.Int32(1)}); err != nil {
			return err
		}
		if eic, err := l.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: &name}); err != nil || aws.ToInt32(eic.MaximumRetryAttempts) != 1 {
			return fmt.Errorf("event invoke config reads back as %v: %w", eic, err)
		}
		m, err := l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
			FunctionName: &name, EventSourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:" + queue), Enabled: aws.Bool(false),
			FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
			ScalingConfig:         &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(7)},
		})
		if err != nil {
			return err
		}
		got, err := l.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: m.UUID})
		if err != nil || len(got.FunctionResponseTypes) != 1 || got.ScalingConfig == nil || aws.ToInt32(got.ScalingConfig.MaximumConcurrency) != 7 {
			return fmt.Errorf("mapping reads back as %+v: %w", got, err)
		}
		// The maintenance job rejects an unknown task: proof the code ran with its environment missing.
		out, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{"tasks":["x"]}`)})
		if err != nil {
			return err
		}
		if aws.ToString(out.FunctionError) == "" {
			return fmt.Errorf("expected the function's own error, got %s", out.Payload)
		}
		var fnErr struct{ ErrorType string }
		if json.Unmarshal(out.Payload, &fnErr) != nil || fnErr.ErrorType != "Runtime.ExitError" {
			return fmt.Errorf("unexpected function error %s", out.Payload)
		}
		return nil
	}},
}

type sqstypesName = sqstypes.QueueAttributeName

func TestCompatibilityLayerFillsKumoGaps(t *testing.T) {
	t.Parallel()
	bare := upstream.NewServer() // serialised with the layer's own kumo start
	t.Cleanup(bare.Close)
	layer := localawstest.New(t, localaws.Options{})
	for _, c := range append(append(append(append(append(append(append(append(append(append(append(append(compatChecks, cloudWatchChecks...), logsChecks...), dynamoDBChecks...), principalChecks...), eventsChecks...), policyChecks...), lambdaRefusals...), settingRefusals...), identityRefusals...), filterChecks...), capacityChecks...), streamChecks...) {
		t.Run(c.gap, func(t *testing.T) {
			ctx := context.Background()
			assert.Error(t, c.check(ctx, t, bare.URL), "bare kumo already does this: drop the gap from the layer")
			assert.NoError(t, c.check(ctx, t, layer.URL), "the layer does not fill this gap")
		})
	}
}
