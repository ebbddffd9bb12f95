package e2e_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
)

// localAccount is the account kumo's IAM names its roles in.
const localAccount = "123456789012"

// producerRole is the role the mutation stacks name in
// producer_principal_arns: it sends with the queue's and the key's grant
// alone (no policy of its own).
func producerRole(prefix string) string { return prefix + "-producer" }

// withNamedProducer names the stack's producer role in producer_principal_arns.
func withNamedProducer(st *provision.Settings) {
	st.ProducerPrincipalARNs = []string{"arn:aws:iam::" + localAccount + ":role/" + producerRole(st.NamePrefix)}
}

// producerTrust lets this account's principals assume a role.
const producerTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + localAccount + `:root"},"Action":"sts:AssumeRole"}]}`

// createProducerRole creates the role withNamedProducer names, before the
// stack's key and queue policies name it: KMS and SQS refuse a policy
// naming a principal that does not exist.
func createProducerRole(ctx context.Context, cfg aws.Config, st provision.Settings) error {
	_, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(producerRole(st.NamePrefix)), AssumeRolePolicyDocument: aws.String(producerTrust)})
	return err //nolint:wrapcheck // the test says what failed
}

// assumeRole creates a role this account may assume, with identity policy
// doc ("" none), and returns a configuration of a session of it over
// HTTPS (secure) or plain HTTP.
func (s *stack) assumeRole(ctx context.Context, name, doc string, secure bool) (aws.Config, error) {
	admin := s.srv.ClientConfig()
	roles := iam.NewFromConfig(admin)
	var roleARN *string
	if got, err := roles.GetRole(ctx, &iam.GetRoleInput{RoleName: &name}); err == nil {
		roleARN = got.Role.Arn
	} else {
		created, err := roles.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(producerTrust)})
		if err != nil {
			return aws.Config{}, fmt.Errorf("create role %s: %w", name, err)
		}
		roleARN = created.Role.Arn
	}
	if doc != "" {
		if _, err := roles.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &doc}); err != nil {
			return aws.Config{}, fmt.Errorf("put the policy of %s: %w", name, err)
		}
	}
	out, err := sts.NewFromConfig(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: aws.String("scenario")})
	if err != nil {
		return aws.Config{}, fmt.Errorf("assume %s: %w", name, err)
	}
	c := out.Credentials
	cfg := aws.Config{Region: admin.Region, BaseEndpoint: aws.String(s.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
	if secure {
		cfg.BaseEndpoint = aws.String(s.srv.TLSURL)
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.TLSClientConfig = &tls.Config{RootCAs: s.srv.Authority.CertPool(), MinVersion: tls.VersionTLS12}
		})
	}
	return cfg, nil
}

// refused checks err is the refusal code; a nil err is a refusal missing.
func refused(what string, err error, code string) error {
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return fmt.Errorf("%s: served, AWS would refuse it (%s)", what, code)
	case !errors.As(err, &apiErr) || apiErr.ErrorCode() != code:
		return fmt.Errorf("%s: want %s, got %w", what, code, err)
	}
	return nil
}

// alertSubscriber is the e-mail subscriber of the mutation stacks' topic.
const alertSubscriber = "oncall@example.com"

// resourcePolicyScenarios need the queue, topic and key policies.
var resourcePolicyScenarios = []scenario{
	{"an alarm transition reaches the topic's subscriber (EventBridge publishing as its service principal)", func(ctx context.Context, s *stack) error {
		alarm := s.out.AlarmNames["dlq_not_empty"]
		if _, err := cloudwatch.NewFromConfig(s.srv.ClientConfig()).SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: &alarm, StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("mutation scenario"),
		}); err != nil {
			return fmt.Errorf("set %s to ALARM: %w", alarm, err)
		}
		return within(10*time.Second, func() error {
			for _, m := range s.srv.SNS.Mailbox(alertSubscriber) {
				if strings.Contains(m.Body, alarm+" is ALARM") {
					return nil
				}
			}
			return fmt.Errorf("no alert for %s reached %s", alarm, alertSubscriber)
		})
	}},
	{"an alert EventBridge cannot deliver is parked in the alert DLQ, and CloudWatch tells on-call", undeliverableAlert},
	{"a producer named in producer_principal_arns sends over TLS, not over plain HTTP", func(ctx context.Context, s *stack) error {
		name := producerRole(strings.TrimSuffix(s.out.ProcessorFunctionName, "-processor"))
		body := aws.String(update("P1", "e1", "PICKED_UP", "2026-11-25T09:00:00Z"))
		cfg, err := s.assumeRole(ctx, name, "", true)
		if err != nil {
			return err
		}
		var errs []error // both sends, whatever the first does: each refusal counts
		if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestQueueURL, MessageBody: body}); err != nil {
			errs = append(errs, fmt.Errorf("producer over TLS: %w", err))
		}
		plain, err := s.assumeRole(ctx, name, "", false)
		if err != nil {
			return err
		}
		_, err = sqs.NewFromConfig(plain).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestQueueURL, MessageBody: body})
		return errors.Join(append(errs, refused("producer over plain HTTP", err, "AccessDenied"))...)
	}},
	{"plain HTTP refused by every queue and the topic (an operator allowed otherwise)", func(ctx context.Context, s *stack) error {
		name := "operator-" + s.out.AuditTableName
		doc := `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"sqs:GetQueueAttributes","Resource":["` + s.out.IngestQueueARN + `","` + s.out.IngestDLQARN + `","` + s.out.MaintenanceDLQARN + `","` + s.out.AlertDLQARN + `","` + s.out.ProjectorDLQARN + `"]},` +
			`{"Effect":"Allow","Action":"sns:Publish","Resource":"` + s.out.AlertTopicARN + `"},` +
			`{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"` + s.out.KMSKeyARN + `"}]}`
		for _, secure := range []bool{true, false} {
			cfg, err := s.assumeRole(ctx, name, doc, secure)
			if err != nil {
				return err
			}
			check := func(what string, err error, code string) error {
				if secure {
					if err != nil {
						return fmt.Errorf("%s over TLS: %w", what, err)
					}
					return nil
				}
				return refused(what+" over plain HTTP", err, code)
			}
			for _, url := range []string{s.out.IngestQueueURL, s.out.IngestDLQURL, s.out.MaintenanceDLQURL, s.out.AlertDLQURL, s.out.ProjectorDLQURL} {
				_, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url)})
				if err := check("GetQueueAttributes of "+url[strings.LastIndex(url, "/")+1:], err, "AccessDenied"); err != nil {
					return err
				}
			}
			_, err = sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: &s.out.AlertTopicARN, Message: aws.String("operator check")})
			if err := check("Publish", err, "AuthorizationError"); err != nil {
				return err
			}
		}
		return nil
	}},
}

// undeliverableAlert breaks the alert path as an operator might (a topic
// policy without EventBridge's statement), changes an alarm's state, and
// needs the sentence EventBridge could not deliver in the alert DLQ (its
// queue policy and the key, as events.amazonaws.com) and the
// alert-delivery alarm's notification in on-call's mailbox (the topic's
// and the key's grants to cloudwatch.amazonaws.com). The topic's policy is
// put back.
func undeliverableAlert(ctx context.Context, s *stack) error {
	topics := sns.NewFromConfig(s.srv.ClientConfig())
	attrs, err := topics.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &s.out.AlertTopicARN})
	if err != nil {
		return fmt.Errorf("read the topic's policy: %w", err)
	}
	policy := attrs.Attributes["Policy"]
	setPolicy := func(doc string) error {
		_, err := topics.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &s.out.AlertTopicARN,
			AttributeName: aws.String("Policy"), AttributeValue: &doc})
		return err //nolint:wrapcheck // said by the caller
	}
	if err := setPolicy(editStatement("alerts", "EventBridgeAlarmStateRule", nil)("alerts", policy)); err != nil {
		return fmt.Errorf("break the topic's policy: %w", err)
	}
	defer func() { _ = setPolicy(policy) }()
	cw := cloudwatch.NewFromConfig(s.srv.ClientConfig())
	watched := s.out.AlarmNames["queue_depth"]
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: &watched, StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("mutation scenario"),
	}); err != nil {
		return fmt.Errorf("set %s to ALARM: %w", watched, err)
	}
	if err := within(10*time.Second, func() error {
		out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &s.out.AlertDLQURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return err //nolint:wrapcheck // said as it is
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), watched) {
				return nil
			}
		}
		return errors.New("the undelivered sentence is not in the alert DLQ (EventBridge sends it as events.amazonaws.com)")
	}); err != nil {
		return err
	}
	delivery := s.out.AlarmNames["alert_delivery"]
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: &delivery, StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("mutation scenario"),
	}); err != nil {
		return fmt.Errorf("set %s to ALARM: %w", delivery, err)
	}
	return within(10*time.Second, func() error {
		for _, m := range s.srv.SNS.Mailbox(alertSubscriber) {
			if strings.Contains(m.Body, `"AlarmName":"`+delivery+`"`) {
				return nil
			}
		}
		return fmt.Errorf("no notification of %s reached %s (CloudWatch publishes it as cloudwatch.amazonaws.com)", delivery, alertSubscriber)
	})
}
