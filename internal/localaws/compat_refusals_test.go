package localaws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// tableWith is a CreateTable request of a table keyed pk (and sk when
// sorted) defining attrs.
func tableWith(sorted bool, attrs ...string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: aws.String(testenv.Unique("t")), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}}
	if sorted {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, a := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(a), AttributeType: ddbtypes.ScalarAttributeTypeS})
	}
	return in
}

// settingRefusals are rows of the refusal table for settings out of
// AWS's ranges and trust policies naming principals that do not exist.
var settingRefusals = []compatCheck{
	{"SQS refuses queue attributes out of range (CreateQueue, SetQueueAttributes)", func(ctx context.Context, _ *testing.T, url string) error {
		q := sqs.NewFromConfig(configFor(url))
		for attr, v := range map[string]string{"VisibilityTimeout": "43201", "DelaySeconds": "901", "MessageRetentionPeriod": "59",
			"ReceiveMessageWaitTimeSeconds": "21", "KmsDataKeyReusePeriodSeconds": "86401", "MaximumMessageSize": "1023"} {
			_, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("q")), Attributes: map[string]string{attr: v}})
			if err := refusedWith("CreateQueue with "+attr+"="+v, err, "InvalidAttributeValue"); err != nil {
				return err
			}
		}
		created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("q")), Attributes: map[string]string{"VisibilityTimeout": "43200"}})
		if err != nil {
			return err
		}
		_, err = q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: created.QueueUrl, Attributes: map[string]string{"MessageRetentionPeriod": "1209601"}})
		return refusedWith("SetQueueAttributes with MessageRetentionPeriod=1209601", err, "InvalidAttributeValue")
	}},
	{"CloudWatch Logs refuses a retention it does not offer (PutRetentionPolicy)", func(ctx context.Context, _ *testing.T, url string) error {
		l := cloudwatchlogs.NewFromConfig(configFor(url))
		group := "/compat/" + testenv.Unique("g")
		if _, err := l.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
			return err
		}
		if _, err := l.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(30)}); err != nil {
			return err
		}
		_, err := l.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(31)})
		return refusedWith("PutRetentionPolicy of 31 days", err, "InvalidParameterException")
	}},
	{"DynamoDB refuses attribute definitions that do not match the key schemas (CreateTable)", func(ctx context.Context, _ *testing.T, url string) error {
		d := dynamodb.NewFromConfig(configFor(url))
		_, err := d.CreateTable(ctx, tableWith(false, "pk", "unused"))
		if err := refusedWith("CreateTable defining an unused attribute", err, "ValidationException"); err != nil {
			return err
		}
		_, err = d.CreateTable(ctx, tableWith(true, "pk"))
		if err := refusedWith("CreateTable without a definition of its sort key", err, "ValidationException"); err != nil {
			return err
		}
		_, err = d.CreateTable(ctx, tableWith(true, "pk", "sk"))
		return err //nolint:wrapcheck // said by the check's failure
	}},
	{"IAM refuses a trust policy naming a principal that does not exist (CreateRole, UpdateAssumeRolePolicy)", func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := existingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		trust := func(principal string) *string {
			return aws.String(strings.ReplaceAll(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"@"},"Action":"sts:AssumeRole"}]}`, "@", principal))
		}
		roles := iam.NewFromConfig(configFor(url))
		name := testenv.Unique("bridge")
		_, err = roles.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: trust(ghost)})
		if err := refusedWith("CreateRole trusting "+ghost, err, "MalformedPolicyDocument"); err != nil {
			return err
		}
		if _, err := roles.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: trust(real)}); err != nil {
			return err
		}
		_, err = roles.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &name, PolicyDocument: trust(ghost)})
		return refusedWith("UpdateAssumeRolePolicy trusting "+ghost, err, "MalformedPolicyDocument")
	}},
}
