// Package alert publishes short operator messages to the alert topic.
package alert

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNS is the part of the SNS client the publisher uses.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ SNS = (*sns.Client)(nil)

// Publisher publishes to one topic.
type Publisher struct {
	client   SNS
	topicARN string
}

// NewPublisher returns a publisher to topicARN.
func NewPublisher(client SNS, topicARN string) *Publisher {
	return &Publisher{client: client, topicARN: topicARN}
}

// Notify publishes message with subject (at most 100 characters, as SNS requires).
func (p *Publisher) Notify(ctx context.Context, subject, message string) error {
	if len(subject) > 100 {
		subject = subject[:100]
	}
	if _, err := p.client.Publish(ctx, &sns.PublishInput{TopicArn: &p.topicARN, Subject: &subject, Message: &message}); err != nil {
		return fmt.Errorf("publish to %s: %w", p.topicARN, err)
	}
	return nil
}
