package sqs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "SQS refuses a queue policy naming a principal that does not exist (CreateQueue, SetQueueAttributes)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := localawstest.ExistingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("queue")
		arn := "arn:aws:sqs:us-east-1:000000000000:" + name
		_, err = q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"Policy": localawstest.PrincipalPolicy(ghost, "sqs:SendMessage", arn)}})
		if err := localawstest.RefusedWith("CreateQueue naming "+ghost, err, "InvalidAttributeValue"); err != nil {
			return err
		}
		created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"Policy": localawstest.PrincipalPolicy(real, "sqs:SendMessage", arn)}})
		if err != nil {
			return fmt.Errorf("CreateQueue naming %s: %w", real, err)
		}
		_, err = q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: created.QueueUrl, Attributes: map[string]string{"Policy": localawstest.PrincipalPolicy(ghost, "sqs:SendMessage", arn)}})
		return localawstest.RefusedWith("SetQueueAttributes naming "+ghost, err, "InvalidAttributeValue")
	}},
	{Name: "SQS refuses queue attributes out of range (CreateQueue, SetQueueAttributes)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		q := sqs.NewFromConfig(localawstest.Config(url))
		for attr, v := range map[string]string{"VisibilityTimeout": "43201", "DelaySeconds": "901", "MessageRetentionPeriod": "59",
			"ReceiveMessageWaitTimeSeconds": "21", "KmsDataKeyReusePeriodSeconds": "86401", "MaximumMessageSize": "1023"} {
			_, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("q")), Attributes: map[string]string{attr: v}})
			if err := localawstest.RefusedWith("CreateQueue with "+attr+"="+v, err, "InvalidAttributeValue"); err != nil {
				return err
			}
		}
		created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("q")), Attributes: map[string]string{"VisibilityTimeout": "43200"}})
		if err != nil {
			return err
		}
		_, err = q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: created.QueueUrl, Attributes: map[string]string{"MessageRetentionPeriod": "1209601"}})
		return localawstest.RefusedWith("SetQueueAttributes with MessageRetentionPeriod=1209601", err, "InvalidAttributeValue")
	}},
	{Name: "SQS keeps KmsMasterKeyId, KmsDataKeyReusePeriodSeconds, RedriveAllowPolicy; an empty value removes one", Check: func(ctx context.Context, t *testing.T, url string) error {
		q := sqs.NewFromConfig(localawstest.Config(url))
		allow := `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:src"]}`
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("kms")), Attributes: map[string]string{
			"KmsMasterKeyId": "alias/tp", "KmsDataKeyReusePeriodSeconds": "300", "RedriveAllowPolicy": allow,
		}})
		if err != nil {
			return err
		}
		got, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
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
		got, err = q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
		if err != nil {
			return err
		}
		if v, ok := got.Attributes["RedriveAllowPolicy"]; ok {
			return fmt.Errorf("RedriveAllowPolicy set to empty still reads back (%q)", v)
		}
		return nil
	}},
	{Name: "SQS queue URLs name the endpoint that was called", Check: func(ctx context.Context, t *testing.T, url string) error {
		out, err := sqs.NewFromConfig(localawstest.Config(url)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("url"))})
		if err != nil {
			return err
		}
		if !strings.HasPrefix(aws.ToString(out.QueueUrl), url) {
			return fmt.Errorf("queue URL %s is not on %s", aws.ToString(out.QueueUrl), url)
		}
		return nil
	}},
	{Name: "SQS StartMessageMoveTask and ListMessageMoveTasks", Check: func(ctx context.Context, t *testing.T, url string) error {
		q := sqs.NewFromConfig(localawstest.Config(url))
		dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("dlq"))})
		if err != nil {
			return err
		}
		src, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("src"))})
		if err != nil {
			return err
		}
		arn := func(u *string) string {
			a, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
			return a.Attributes["QueueArn"]
		}
		if _, err := q.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn(dlq.QueueUrl)), DestinationArn: aws.String(arn(src.QueueUrl))}); err != nil {
			return err
		}
		_, err = q.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(arn(dlq.QueueUrl))})
		return err
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }
