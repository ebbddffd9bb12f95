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
	keyFor := func(service string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:SourceAccount":"` + account + `"}}}]}`
	}
	for _, tt := range []struct {
		name      string
		resources fakeResources
		source    string
		allowed   bool
	}{
		{"the topic's policy names the service for the rule", fakeResources{topic: {ARN: topic, Policy: topicPolicy(topic)}}, rule, true},
		{"a topic without a policy", fakeResources{topic: {ARN: topic}}, rule, false},
		{"another rule", fakeResources{topic: {ARN: topic, Policy: topicPolicy(topic)}}, rule + "-other", false},
		{"an encrypted topic whose key lets the service", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("events.amazonaws.com")}}, rule, true},
		{"an encrypted topic whose key lets only the account", fakeResources{sealed: {ARN: sealed, Policy: topicPolicy(sealed), KeyID: "k"},
			"k": {ARN: "arn:aws:kms:us-east-1:000000000000:key/k", Policy: keyFor("cloudwatch.amazonaws.com")}}, rule, false},
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
