package localaws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// cloudWatchChecks are the CloudWatch and SNS rows of the gap table.
var cloudWatchChecks = []compatCheck{
	{"CloudWatch refuses an alarm with more than 5 actions for a state (PutMetricAlarm)", func(ctx context.Context, _ *testing.T, endpoint string) error {
		cw := cloudwatch.NewFromConfig(configFor(endpoint))
		six := make([]string, 6)
		for i := range six {
			six[i] = fmt.Sprintf("arn:aws:sns:us-east-1:000000000000:topic-%d", i)
		}
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(testenv.Unique("alarm")), Namespace: aws.String("Compat"),
			MetricName: aws.String("Failures"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: six})
		return refusedWith("PutMetricAlarm with 6 alarm actions", err, "ValidationError")
	}},
	{"CloudWatch aggregates datapoints per period (GetMetricStatistics, GetMetricData)", func(ctx context.Context, _ *testing.T, url string) error {
		cw := cloudwatch.NewFromConfig(configFor(url))
		ns, dims := "Compat/"+testenv.Unique("ns"), []cwtypes.Dimension{{Name: aws.String("Queue"), Value: aws.String("q")}}
		t0 := time.Now().Truncate(time.Minute).Add(-5 * time.Minute)
		var data []cwtypes.MetricDatum
		for _, p := range []struct {
			at time.Duration
			v  float64
		}{{10 * time.Second, 1}, {20 * time.Second, 2}, {70 * time.Second, 4}} {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Depth"), Dimensions: dims, Timestamp: aws.Time(t0.Add(p.at)), Value: aws.Float64(p.v)})
		}
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: &ns, MetricData: data}); err != nil {
			return err
		}
		stats, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: &ns, MetricName: aws.String("Depth"), Dimensions: dims,
			StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(3 * time.Minute)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticMaximum}})
		if err != nil {
			return err
		}
		sums := map[time.Time]float64{}
		for _, dp := range stats.Datapoints {
			sums[aws.ToTime(dp.Timestamp).UTC()] = aws.ToFloat64(dp.Sum)
		}
		if want := map[time.Time]float64{t0.UTC(): 3, t0.Add(time.Minute).UTC(): 4}; fmt.Sprint(sums) != fmt.Sprint(want) {
			return fmt.Errorf("sums per minute %v, want %v", sums, want)
		}
		got, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(3 * time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: &ns, MetricName: aws.String("Depth"), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String("Maximum")}}}})
		if err != nil {
			return err
		}
		if len(got.MetricDataResults) != 1 || fmt.Sprint(got.MetricDataResults[0].Values) != "[4 2]" {
			return fmt.Errorf("GetMetricData maxima, newest first: %+v", got.MetricDataResults)
		}
		return nil
	}},
	{"CloudWatch alarms are evaluated; a transition runs the SNS actions and is in the history", func(ctx context.Context, _ *testing.T, endpoint string) error {
		cfg := configFor(endpoint)
		cw, q, n := cloudwatch.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
		topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Unique("alarm-actions"))})
		if err != nil {
			return err
		}
		inbox, arn, err := subscribedQueue(ctx, q, n, aws.ToString(topic.TopicArn))
		if err != nil {
			return err
		}
		ns, name := "Compat/"+testenv.Unique("ns"), testenv.Unique("alarm")
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: &ns, MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Failures"), Timestamp: aws.Time(time.Now().Truncate(time.Minute).Add(-30 * time.Second)), Value: aws.Float64(5),
		}}}); err != nil {
			return err
		}
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: &name, Namespace: &ns, MetricName: aws.String("Failures"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
			AlarmActions: []string{aws.ToString(topic.TopicArn)}}); err != nil {
			return err
		}
		if err := adminPost(ctx, endpoint+"/_localaws/alarms/evaluate"); err != nil {
			return err
		}
		described, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil || len(described.MetricAlarms) != 1 {
			return fmt.Errorf("DescribeAlarms: %v %w", described, err)
		}
		if a := described.MetricAlarms[0]; a.StateValue != cwtypes.StateValueAlarm || !strings.HasPrefix(aws.ToString(a.StateReason), "Threshold Crossed: 1 out of the last 1 datapoints [5.0") {
			return fmt.Errorf("alarm is %s: %s", a.StateValue, aws.ToString(a.StateReason))
		}
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &inbox, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			return err
		}
		var note struct{ AlarmName, NewStateValue, OldStateValue string }
		if len(msgs.Messages) != 1 || json.Unmarshal([]byte(aws.ToString(msgs.Messages[0].Body)), &note) != nil ||
			note.AlarmName != name || note.NewStateValue != "ALARM" || note.OldStateValue != "INSUFFICIENT_DATA" {
			return fmt.Errorf("the action delivered %d message(s) to %s: %v", len(msgs.Messages), arn, msgs.Messages)
		}
		history, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: &name, HistoryItemType: cwtypes.HistoryItemTypeStateUpdate})
		if err != nil || len(history.AlarmHistoryItems) != 1 || aws.ToString(history.AlarmHistoryItems[0].HistorySummary) != "Alarm updated from INSUFFICIENT_DATA to ALARM" {
			return fmt.Errorf("history %+v: %w", history, err)
		}
		return nil
	}},
	{"SNS e-mail subscribers receive into the local mailbox", func(ctx context.Context, _ *testing.T, endpoint string) error {
		n := sns.NewFromConfig(configFor(endpoint))
		topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Unique("mail"))})
		if err != nil {
			return err
		}
		to := testenv.Unique("oncall") + "@example.com"
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
}

// subscribedQueue creates a queue subscribed to topic with raw delivery and
// returns its URL and ARN.
func subscribedQueue(ctx context.Context, q *sqs.Client, n *sns.Client, topic string) (string, string, error) {
	inbox, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("inbox"))})
	if err != nil {
		return "", "", err
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypesName{"QueueArn"}})
	if err != nil {
		return "", "", err
	}
	arn := attrs.Attributes["QueueArn"]
	if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &arn,
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		return "", "", err
	}
	return aws.ToString(inbox.QueueUrl), arn, nil
}

// adminPost calls one of the local AWS's admin endpoints.
func adminPost(ctx context.Context, u string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s answered %s", u, resp.Status)
	}
	return nil
}
