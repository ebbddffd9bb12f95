package access

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
)

// TestServicePublish: EventBridge publishes to a topic as
// events.amazonaws.com; only the topic's policy (for the rule) and, on an
// encrypted topic, the key policy can let it.
func TestServicePublish(t *testing.T) {
	t.Parallel()
	const (
		topic   = "arn:aws:sns:us-east-1:000000000000:alerts"
		sealed  = "arn:aws:sns:us-east-1:000000000000:sealed"
		rule    = "arn:aws:events:us-east-1:000000000000:rule/alarm-state-change"
		account = "000000000000"
	)
	topicPolicy := func(arn string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"` + arn +
			`","Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}}]}`
	}
	// keyFor is a key policy that lets service use the key under condition.
	keyFor := func(service, condition string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",` +
			`"Condition":` + condition + `}]}`
	}
	topicContext := func(arn string) string {
		return `{"StringEquals":{"kms:EncryptionContext:aws:sns:topicArn":"` + arn + `"}}`
	}
	sourceAccount := `{"StringEquals":{"aws:SourceAccount":"` + account + `"}}`
	sourceArn := `{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}`
	for _, tt := range []struct {
		name      string
		resources fakeResources
		source    string
		allowed   bool
	}{
		{"the topic's policy names the service for the rule", fakeResources{topic: {ARN: topic, Policy: topicPolicy(topic)}}, rule, true},
		{"a topic without a policy", fakeResources{topic: {ARN: topic}}, rule, false},
		{"another rule", fakeResources{topic: {ARN: topic, Policy: topicPolicy(topic)}}, rule + "-other", false},
		{"an encrypted topic whose key lets the service for the topic", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("events.amazonaws.com", topicContext(sealed))}}, rule, true},
		{"an encrypted topic whose key lets the service for another topic", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("events.amazonaws.com", topicContext(topic))}}, rule, false},
		{"an encrypted topic whose key lets another service", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("cloudwatch.amazonaws.com", topicContext(sealed))}}, rule, false},
		// "Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to
		// a AWS KMS policy is not supported for EventBridge-to-encrypted topics."
		{"a key statement for the service under aws:SourceAccount", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("events.amazonaws.com", sourceAccount)}}, rule, false},
		{"a key statement for the service under aws:SourceArn", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("events.amazonaws.com", sourceArn)}}, rule, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Enforce, nil, tt.resources, "us-east-1", time.Now, zap.NewNop())
			target := topic
			if _, ok := tt.resources[sealed]; ok {
				target = sealed
			}
			err := g.ServicePublish(context.Background(), "events.amazonaws.com", tt.source, account, target)
			assert.Equal(t, tt.allowed, err == nil, "%v", err)
			if !tt.allowed {
				assert.ErrorIs(t, err, ErrRefused)
				assert.Len(t, g.Denials(), 1)
				logged := New(Log, nil, tt.resources, "us-east-1", time.Now, zap.NewNop())
				assert.NoError(t, logged.ServicePublish(context.Background(), "events.amazonaws.com", tt.source, account, target), "log mode serves")
			}
		})
	}
}

// TestServicePublishOfAlarms: CloudWatch publishes an alarm's action as
// cloudwatch.amazonaws.com for the alarm; a topic with kumo's default
// policy is not judged on it (README, gap table), its key still is.
func TestServicePublishOfAlarms(t *testing.T) {
	t.Parallel()
	const (
		topic   = "arn:aws:sns:us-east-1:000000000000:alerts"
		alarm   = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:tp-alert-delivery"
		account = "000000000000"
	)
	topicPolicy := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"` + topic +
		`","Condition":{"ArnEquals":{"aws:SourceArn":"` + alarm + `"},"StringEquals":{"aws:SourceAccount":"` + account + `"}}}]}`
	keyPolicy := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"kms:EncryptionContext:aws:sns:topicArn":"` + topic + `","aws:SourceAccount":"` + account + `"}}}]}`
	key := Resource{ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyPolicy}
	for _, tt := range []struct {
		name      string
		resources fakeResources
		source    string
		allowed   bool
	}{
		{"the topic's policy names the alarm", fakeResources{topic: {ARN: topic, Policy: topicPolicy}}, alarm, true},
		{"another alarm", fakeResources{topic: {ARN: topic, Policy: topicPolicy}}, alarm + "-other", false},
		{"kumo's default policy: not judged", fakeResources{topic: {ARN: topic, DefaultPolicy: true}}, alarm, true},
		{"an encrypted topic whose key lets CloudWatch (aws:SourceAccount is supported here)", fakeResources{topic: {ARN: topic, Policy: topicPolicy, KeyID: "k"}, "k": key}, alarm, true},
		{"kumo's default policy, a key that refuses", fakeResources{topic: {ARN: topic, DefaultPolicy: true, KeyID: "k"}, "k": {ARN: key.ARN, Policy: `{"Statement":[]}`}}, alarm, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := New(Enforce, nil, tt.resources, "us-east-1", time.Now, zap.NewNop())
			err := g.ServicePublish(context.Background(), "cloudwatch.amazonaws.com", tt.source, account, topic)
			assert.Equal(t, tt.allowed, err == nil, "%v", err)
		})
	}
}

// TestServiceSend: EventBridge sends an undelivered event to a target's
// dead-letter queue as events.amazonaws.com: the queue's policy must let
// it for the rule and an encrypted queue's key must let it through SQS.
func TestServiceSend(t *testing.T) {
	t.Parallel()
	const (
		queueURL = "http://h/000000000000/alert-dlq"
		queueARN = "arn:aws:sqs:us-east-1:000000000000:alert-dlq"
		rule     = "arn:aws:events:us-east-1:000000000000:rule/alarm-state-change"
		account  = "000000000000"
	)
	queuePolicy := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + queueARN +
		`","Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}}]}`
	keyFor := func(arn string) Resource {
		return Resource{ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},` +
			`"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:aws:sqs:arn":"` + arn + `"}}}]}`}
	}
	for _, tt := range []struct {
		name      string
		resources fakeResources
		source    string
		allowed   bool
	}{
		{"the queue's policy names the rule", fakeResources{queueURL: {ARN: queueARN, Policy: queuePolicy}}, rule, true},
		{"another rule", fakeResources{queueURL: {ARN: queueARN, Policy: queuePolicy}}, rule + "-other", false},
		{"a queue without a policy", fakeResources{queueURL: {ARN: queueARN}}, rule, false},
		{"an encrypted queue whose key lets EventBridge for it", fakeResources{queueURL: {ARN: queueARN, Policy: queuePolicy, KeyID: "k"}, "k": keyFor(queueARN)}, rule, true},
		{"an encrypted queue whose key lets EventBridge for another queue", fakeResources{queueURL: {ARN: queueARN, Policy: queuePolicy, KeyID: "k"}, "k": keyFor(queueARN + "-other")}, rule, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := New(Enforce, nil, tt.resources, "us-east-1", time.Now, zap.NewNop())
			err := g.ServiceSend(context.Background(), "events.amazonaws.com", tt.source, account, queueURL)
			assert.Equal(t, tt.allowed, err == nil, "%v", err)
			if !tt.allowed {
				assert.ErrorIs(t, err, ErrRefused)
			}
		})
	}
}
