package sns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "SNS e-mail subscribers receive into the local mailbox", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		n := sns.NewFromConfig(localawstest.Config(endpoint))
		topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(localawstest.Unique("mail"))})
		if err != nil {
			return err
		}
		to := localawstest.Unique("oncall") + "@example.com"
		if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: &to}); err != nil {
			return err
		}
		if _, err := n.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("Hello"), Message: aws.String("the DLQ is not empty")}); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/_localaws/mailbox?to="+url.QueryEscape(to), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var box struct {
			Mail []struct{ To, Subject, Body string }
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&box) != nil {
			return fmt.Errorf("mailbox answered %s", resp.Status)
		}
		if len(box.Mail) != 1 || box.Mail[0].Subject != "Hello" || box.Mail[0].Body != "the DLQ is not empty" {
			return fmt.Errorf("mailbox holds %+v", box.Mail)
		}
		return nil
	}},
	{Name: "SNS refuses a topic policy naming a principal that does not exist (CreateTopic, SetTopicAttributes)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := localawstest.ExistingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		s := sns.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("topic")
		arn := "arn:aws:sns:us-east-1:000000000000:" + name
		_, err = s.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: map[string]string{"Policy": localawstest.PrincipalPolicy(ghost, "sns:Publish", arn)}})
		if err := localawstest.RefusedWith("CreateTopic naming "+ghost, err, "InvalidParameter"); err != nil {
			return err
		}
		created, err := s.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: map[string]string{"Policy": localawstest.PrincipalPolicy(real, "sns:Publish", arn)}})
		if err != nil {
			return fmt.Errorf("CreateTopic naming %s: %w", real, err)
		}
		_, err = s.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: created.TopicArn, AttributeName: aws.String("Policy"),
			AttributeValue: aws.String(localawstest.PrincipalPolicy(ghost, "sns:Publish", arn))})
		return localawstest.RefusedWith("SetTopicAttributes naming "+ghost, err, "InvalidParameter")
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }
