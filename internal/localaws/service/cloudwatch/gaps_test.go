package cloudwatch_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "CloudWatch refuses an alarm with more than 5 actions for a state (PutMetricAlarm)", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		cw := cloudwatch.NewFromConfig(localawstest.Config(endpoint))
		six := make([]string, 6)
		for i := range six {
			six[i] = fmt.Sprintf("arn:aws:sns:us-east-1:000000000000:topic-%d", i)
		}
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(localawstest.Unique("alarm")), Namespace: aws.String("Compat"),
			MetricName: aws.String("Failures"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: six})
		return localawstest.RefusedWith("PutMetricAlarm with 6 alarm actions", err, "ValidationError")
	}},
	{Name: "CloudWatch aggregates datapoints per period (GetMetricStatistics, GetMetricData)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		cw := cloudwatch.NewFromConfig(localawstest.Config(url))
		ns, dims := "Compat/"+localawstest.Unique("ns"), []cwtypes.Dimension{{Name: aws.String("Queue"), Value: aws.String("q")}}
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
	{Name: "CloudWatch alarms are evaluated; a transition runs the SNS actions and is in the history", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		cfg := localawstest.Config(endpoint)
		cw, q, n := cloudwatch.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
		topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(localawstest.Unique("alarm-actions"))})
		if err != nil {
			return err
		}
		inbox, arn, err := subscribedQueue(ctx, q, n, aws.ToString(topic.TopicArn))
		if err != nil {
			return err
		}
		ns, name := "Compat/"+localawstest.Unique("ns"), localawstest.Unique("alarm")
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
	{Name: "CloudWatch dashboards (SDK's CBOR protocol)", Check: func(ctx context.Context, t *testing.T, url string) error {
		cw := cloudwatch.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("board")
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
	{Name: "CloudWatch dashboards (Terraform provider's Query protocol)", Check: func(ctx context.Context, t *testing.T, url string) error {
		post := func(form string) (int, string, error) { return queryPost(ctx, url, form) }
		name := localawstest.Unique("qboard")
		if code, body, err := post("Action=PutDashboard&Version=2010-08-01&DashboardName=" + name + "&DashboardBody=%7B%22widgets%22%3A%5B%5D%7D"); err != nil || code != 200 {
			return fmt.Errorf("PutDashboard: %d %s %w", code, body, err)
		}
		code, body, err := post("Action=GetDashboard&Version=2010-08-01&DashboardName=" + name)
		if err != nil || code != 200 || !strings.Contains(body, "<DashboardBody>{&#34;widgets&#34;:[]}</DashboardBody>") {
			return fmt.Errorf("GetDashboard: %d %s %w", code, body, err)
		}
		return nil
	}},
	{Name: "CloudWatch alarms read back dimensions, actions, TreatMissingData, DatapointsToAlarm and tags (Query protocol)", Check: func(ctx context.Context, t *testing.T, url string) error {
		name := localawstest.Unique("alarm")
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
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }

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

// subscribedQueue creates a queue subscribed to topic with raw delivery and
// returns its URL and ARN.
func subscribedQueue(ctx context.Context, q *sqs.Client, n *sns.Client, topic string) (string, string, error) {
	inbox, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("inbox"))})
	if err != nil {
		return "", "", err
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
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
