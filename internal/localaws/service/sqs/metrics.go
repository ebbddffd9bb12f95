package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
)

// MetricRecorder takes the metrics a service publishes to CloudWatch.
type MetricRecorder interface {
	Record(namespace, name string, dims map[string]string, value float64, unit string)
}

// sampledAttributes maps the queue attributes sampled to the AWS/SQS metric
// each one feeds ("Available CloudWatch metrics for Amazon SQS": the
// approximate counts are sampled once a minute, per QueueName).
var sampledAttributes = map[sqstypes.QueueAttributeName]string{
	sqstypes.QueueAttributeNameApproximateNumberOfMessages:           "ApproximateNumberOfMessagesVisible",
	sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible: "ApproximateNumberOfMessagesNotVisible",
	sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed:    "ApproximateNumberOfMessagesDelayed",
}

// sampler publishes every queue's AWS/SQS metrics once a virtual minute.
type sampler struct {
	sqs  *sqs.Client
	rec  MetricRecorder
	log  *zap.Logger
	ages *ages

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// SampleMetrics starts publishing every queue's metrics to rec once a
// minute of clk; Close stops it.
func (s *Service) SampleMetrics(clk *clock.Clock, rec MetricRecorder) {
	ctx, stop := context.WithCancel(context.Background())
	sm := &sampler{sqs: s.kumo.SQS, rec: rec, log: s.log, ages: newAges(clk.Now), stop: stop}
	s.kumo.ObserveSQS(sm.ages.observe)
	s.sampler = sm
	sm.wg.Go(func() { clk.Every(ctx, time.Minute, func(time.Time) { sm.sample(ctx) }) })
}

func (sm *sampler) close() {
	sm.stop()
	sm.wg.Wait()
}

func (sm *sampler) sample(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	list, err := sm.sqs.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
	if err != nil {
		sm.log.Debug("queue metrics not sampled", zap.Error(err))
		return
	}
	names := []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy, sqstypes.QueueAttributeNameMessageRetentionPeriod}
	for a := range sampledAttributes {
		names = append(names, a)
	}
	for _, url := range list.QueueUrls {
		got, err := sm.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names})
		if err != nil {
			continue // deleted since the list
		}
		queue := awsapi.ResourceName(url)
		dims := map[string]string{"QueueName": queue}
		for attr, metric := range sampledAttributes {
			if v, err := strconv.ParseFloat(got.Attributes[string(attr)], 64); err == nil {
				sm.rec.Record("AWS/SQS", metric, dims, v, "Count")
			}
		}
		var redrive struct {
			MaxReceiveCount any `json:"maxReceiveCount"`
		} // a number, or a string of one
		_ = json.Unmarshal([]byte(got.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]), &redrive)
		maxReceives, _ := strconv.Atoi(strings.TrimSuffix(fmt.Sprint(redrive.MaxReceiveCount), ".0"))
		retention, _ := strconv.Atoi(got.Attributes[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)])
		if age, ok := sm.ages.oldest(queue, maxReceives, time.Duration(retention)*time.Second); ok {
			sm.rec.Record("AWS/SQS", "ApproximateAgeOfOldestMessage", dims, age.Seconds(), "Seconds")
		}
	}
}
