package localaws_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// streamReader is the policy a stream mapping's function needs: "dynamodb:DescribeStream,
// dynamodb:GetRecords, dynamodb:GetShardIterator, dynamodb:ListStreams",
// and sqs:SendMessage for its on-failure queue.
const streamReader = `{"Version":"2012-10-17","Statement":[` +
	`{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams"],"Resource":"*"},` +
	`{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`

// invocations collects what the stream test function printed.
type invocations struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *invocations) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p) //nolint:wrapcheck // a buffer
}

type invocation struct {
	Function string         `json:"function"`
	Keys     []string       `json:"keys"`
	Seqs     []string       `json:"seqs"`
	TTL      []bool         `json:"ttl"`
	Window   string         `json:"window"`
	State    map[string]int `json:"state"`
	Final    bool           `json:"final"`
}

// of returns the invocations of function so far, in order.
func (w *invocations) of(function string) []invocation {
	w.mu.Lock()
	text := w.buf.String()
	w.mu.Unlock()
	var out []invocation
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		_, js, ok := strings.Cut(sc.Text(), "STREAMTEST ")
		var inv invocation
		if ok && json.Unmarshal([]byte(js), &inv) == nil && inv.Function == function {
			out = append(out, inv)
		}
	}
	return out
}

// keysOf are the keys of the invocations, in order.
func keysOf(list []invocation) []string {
	var out []string
	for _, inv := range list {
		out = append(out, inv.Keys...)
	}
	return out
}

// streamFixture is a local AWS at 60 times real time (a minute a second)
// with the stream test function's code.
type streamFixture struct {
	srv  *localaws.Server
	out  *invocations
	code []byte
}

// mapped creates a table with a NEW_IMAGE stream, the test function with
// policy, an on-failure queue and a mapping of the stream to the function
// as tune sets it; it returns the table, function and queue URL.
func (f *streamFixture) mapped(ctx context.Context, t *testing.T, policy string, tune func(*lambda.CreateEventSourceMappingInput)) (string, string, string) {
	t.Helper()
	cfg := f.srv.ClientConfig()
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	table, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeNewImage)
	require.NoError(t, err)
	name := testenv.Unique("stream")
	createFunction(ctx, t, cfg, name, executionRole(ctx, t, cfg, name, policy), f.code)
	// One process, so that its output lines come in the order of its invocations.
	_, err = lambda.NewFromConfig(cfg).PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: &name, ReservedConcurrentExecutions: aws.Int32(1)})
	require.NoError(t, err)
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-failed")})
	require.NoError(t, err)
	in := &lambda.CreateEventSourceMappingInput{FunctionName: &name, EventSourceArn: &arn, StartingPosition: lambdatypes.EventSourcePositionTrimHorizon,
		DestinationConfig: &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:000000000000:" + name + "-failed")}}}
	if tune != nil {
		tune(in)
	}
	_, err = lambda.NewFromConfig(cfg).CreateEventSourceMapping(ctx, in)
	require.NoError(t, err)
	return table, name, aws.ToString(q.QueueUrl)
}

// testItem is the item a key names: "k=fail" is item k with fail = "fail".
func testItem(k string) map[string]ddbtypes.AttributeValue {
	pk, fail, _ := strings.Cut(k, "=")
	it := map[string]ddbtypes.AttributeValue{"pk": str(pk)}
	if fail != "" {
		it["fail"] = str(fail)
	}
	return it
}

// put writes the items of keys to table, one PutItem each.
func (f *streamFixture) put(ctx context.Context, t *testing.T, table string, keys ...string) {
	t.Helper()
	db := dynamodb.NewFromConfig(f.srv.ClientConfig(), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	for _, k := range keys {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: testItem(k)})
		require.NoError(t, err)
	}
}

// putTogether writes the items of keys in one BatchWriteItem, so that their
// records reach the stream within the mapping's batching window however
// loaded the machine is.
func (f *streamFixture) putTogether(ctx context.Context, t *testing.T, table string, keys ...string) {
	t.Helper()
	db := dynamodb.NewFromConfig(f.srv.ClientConfig(), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	writes := make([]ddbtypes.WriteRequest, len(keys))
	for i, k := range keys {
		writes[i] = ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: testItem(k)}}
	}
	_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{table: writes}})
	require.NoError(t, err)
}

type failureRecord struct {
	RequestContext struct {
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	Info struct {
		ShardID             string `json:"shardId"`
		StartSequenceNumber string `json:"startSequenceNumber"`
		EndSequenceNumber   string `json:"endSequenceNumber"`
		BatchSize           int    `json:"batchSize"`
		StreamArn           string `json:"streamArn"`
	} `json:"DDBStreamBatchInfo"`
}

// failed waits for n records on the on-failure queue.
func (f *streamFixture) failed(ctx context.Context, t *testing.T, queueURL string, n int) []failureRecord {
	t.Helper()
	var got []failureRecord
	require.Eventually(t, func() bool {
		out, err := sqs.NewFromConfig(f.srv.ClientConfig()).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, MaxNumberOfMessages: 10})
		require.NoError(t, err)
		for _, m := range out.Messages {
			var r failureRecord
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &r))
			got = append(got, r)
		}
		return len(got) >= n
	}, 30*time.Second, 50*time.Millisecond, "%d on-failure records", n)
	return got
}

// TestStreamMappingsRunAsLambdaDocuments runs the stream test function
// behind DynamoDB stream mappings (Lambda Developer Guide, "Using AWS
// Lambda with Amazon DynamoDB" and its pages on batching, errors, partial
// batch responses, tumbling windows and filtering).
func TestStreamMappingsRunAsLambdaDocuments(t *testing.T) {
	t.Parallel()
	out := &invocations{}
	srv := localawstest.New(t, localaws.Options{FunctionOutput: out, TimeScale: 60})
	f := &streamFixture{srv: srv, out: out, code: handlerZip(t, "./testdata/streamhandler")}
	ctx := context.Background()
	window := func(seconds, size int32) func(*lambda.CreateEventSourceMappingInput) {
		return func(in *lambda.CreateEventSourceMappingInput) {
			in.MaximumBatchingWindowInSeconds, in.BatchSize = aws.Int32(seconds), aws.Int32(size)
		}
	}

	t.Run("records arrive in order; filtered ones never invoke; LATEST skips what came before", func(t *testing.T) {
		t.Parallel()
		table, fn, _ := f.mapped(ctx, t, streamReader, func(in *lambda.CreateEventSourceMappingInput) {
			in.FilterCriteria = &lambdatypes.FilterCriteria{Filters: []lambdatypes.Filter{{Pattern: aws.String(`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"skip":[{"exists":false}]}}}`)}}}
		})
		f.put(ctx, t, table, "a", "b", "a") // the second a changes nothing: no record
		db := dynamodb.NewFromConfig(srv.ClientConfig(), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("s"), "skip": str("yes")}})
		require.NoError(t, err)
		_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": str("a")},
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": str("1")}})
		require.NoError(t, err)
		f.put(ctx, t, table, "c")
		require.Eventually(t, func() bool { return len(keysOf(out.of(fn))) >= 3 }, 20*time.Second, 20*time.Millisecond, "got %v", keysOf(out.of(fn)))
		assert.Equal(t, []string{"a", "b", "c"}, keysOf(out.of(fn)), "the INSERTs, in order; not the MODIFY nor the filtered item")

		// A second mapping at LATEST sees only what is written after it.
		cfg := srv.ClientConfig()
		desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		require.NoError(t, err)
		late := testenv.Unique("latest")
		createFunction(ctx, t, cfg, late, executionRole(ctx, t, cfg, late, streamReader), f.code)
		_, err = lambda.NewFromConfig(cfg).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &late,
			EventSourceArn: desc.Table.LatestStreamArn, StartingPosition: lambdatypes.EventSourcePositionLatest})
		require.NoError(t, err)
		f.put(ctx, t, table, "d")
		require.Eventually(t, func() bool { return len(keysOf(out.of(late))) >= 1 }, 20*time.Second, 20*time.Millisecond)
		assert.Equal(t, []string{"d"}, keysOf(out.of(late)), "LATEST")

		cw := cloudwatch.NewFromConfig(cfg)
		stats, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("IteratorAge"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: &fn}}, StartTime: aws.Time(srv.Clock.Now().Add(-time.Hour)),
			EndTime: aws.Time(srv.Clock.Now().Add(time.Hour)), Period: aws.Int32(7200), Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount}})
		require.NoError(t, err)
		require.NotEmpty(t, stats.Datapoints, "IteratorAge is published")
		assert.Positive(t, aws.ToFloat64(stats.Datapoints[0].SampleCount))
	})

	t.Run("a partial batch response moves the checkpoint to the lowest failed record; exhausted retries reach the on-failure queue", func(t *testing.T) {
		t.Parallel()
		table, fn, queue := f.mapped(ctx, t, streamReader, func(in *lambda.CreateEventSourceMappingInput) {
			window(30, 3)(in)
			in.FunctionResponseTypes = []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}
			in.MaximumRetryAttempts = aws.Int32(2)
		})
		f.putTogether(ctx, t, table, "x1", "x2=item", "x3")
		records := f.failed(ctx, t, queue, 1)
		calls := out.of(fn)
		require.GreaterOrEqual(t, len(calls), 3)
		assert.Equal(t, []string{"x1", "x2", "x3"}, calls[0].Keys, "the first batch")
		for _, c := range calls[1:] {
			assert.Equal(t, []string{"x2", "x3"}, c.Keys, "retried from the lowest failed record")
		}
		assert.Len(t, calls, 3, "the first try and two retries")
		r := records[0]
		assert.Equal(t, "RetryAttemptsExhausted", r.RequestContext.Condition)
		assert.Equal(t, 3, r.RequestContext.ApproximateInvokeCount)
		assert.Equal(t, calls[0].Seqs[1], r.Info.StartSequenceNumber)
		assert.Equal(t, calls[0].Seqs[2], r.Info.EndSequenceNumber)
		assert.Equal(t, 2, r.Info.BatchSize)

		f.put(ctx, t, table, "x4")
		require.Eventually(t, func() bool { return strings.Contains(strings.Join(keysOf(out.of(fn)), ","), "x4") }, 20*time.Second, 20*time.Millisecond, "the shard goes on")
	})

	t.Run("bisect on a function error isolates the failing record", func(t *testing.T) {
		t.Parallel()
		table, fn, queue := f.mapped(ctx, t, streamReader, func(in *lambda.CreateEventSourceMappingInput) {
			window(30, 4)(in)
			in.BisectBatchOnFunctionError = aws.Bool(true)
			in.MaximumRetryAttempts = aws.Int32(0)
		})
		f.putTogether(ctx, t, table, "r1", "r2", "r3=always", "r4")
		records := f.failed(ctx, t, queue, 1)
		var batches []string
		for _, c := range out.of(fn) {
			batches = append(batches, strings.Join(c.Keys, "+"))
		}
		assert.Equal(t, []string{"r1+r2+r3+r4", "r1+r2", "r3+r4", "r3", "r4"}, batches, "halved until the failing record is alone")
		assert.Equal(t, 1, records[0].Info.BatchSize)
		assert.Equal(t, "RetryAttemptsExhausted", records[0].RequestContext.Condition)
	})

	t.Run("records older than MaximumRecordAgeInSeconds are discarded to an SNS on-failure topic", func(t *testing.T) {
		t.Parallel()
		cfg := srv.ClientConfig()
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Unique("failed"))})
		require.NoError(t, err)
		inbox, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("inbox"))})
		require.NoError(t, err)
		_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint:   aws.String("arn:aws:sqs:us-east-1:000000000000:" + awsapi.ResourceName(aws.ToString(inbox.QueueUrl))),
			Attributes: map[string]string{"RawMessageDelivery": "true"}})
		require.NoError(t, err)
		publisher := strings.Replace(streamReader, `"sqs:SendMessage"`, `"sns:Publish"`, 1)
		table, fn, _ := f.mapped(ctx, t, publisher, func(in *lambda.CreateEventSourceMappingInput) {
			// Retries until the record is a minute old (a second here).
			in.MaximumRecordAgeInSeconds = aws.Int32(60)
			in.DestinationConfig = &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: topic.TopicArn}}
		})
		f.put(ctx, t, table, "stale=always")
		records := f.failed(ctx, t, aws.ToString(inbox.QueueUrl), 1)
		assert.Equal(t, "RecordAgeExceeded", records[0].RequestContext.Condition)
		assert.Equal(t, 1, records[0].Info.BatchSize)
		assert.Greater(t, len(out.of(fn)), 1, "retried until too old")
		f.put(ctx, t, table, "fresh")
		require.Eventually(t, func() bool { return strings.Contains(strings.Join(keysOf(out.of(fn)), ","), "fresh") }, 20*time.Second, 20*time.Millisecond, "the shard goes on")
	})

	t.Run("a tumbling window carries the function's state and ends with a final invocation", func(t *testing.T) {
		t.Parallel()
		table, fn, _ := f.mapped(ctx, t, streamReader, func(in *lambda.CreateEventSourceMappingInput) {
			in.TumblingWindowInSeconds = aws.Int32(120)
			in.BatchSize = aws.Int32(1)
		})
		f.put(ctx, t, table, "w1", "w2", "w3")
		// The puts may straddle a window's end: each window that got records
		// ends with one final invocation.
		require.Eventually(t, func() bool {
			delivered, windows, finals := 0, map[string]bool{}, map[string]bool{}
			for _, c := range out.of(fn) {
				if c.Final {
					finals[c.Window] = true
					continue
				}
				delivered += len(c.Keys)
				windows[c.Window] = true
			}
			for w := range windows {
				if !finals[w] {
					return false
				}
			}
			return delivered == 3
		}, 30*time.Second, 20*time.Millisecond, "every window's final invocation")
		counts := map[string]int{}
		for _, c := range out.of(fn) {
			require.NotEmpty(t, c.Window, "every invocation names its window")
			assert.Equal(t, counts[c.Window], c.State["count"], "the state the previous invocation of its window returned")
			if c.Final {
				assert.Empty(t, c.Keys, "the final invocation carries no records")
				continue
			}
			counts[c.Window] += len(c.Keys)
		}
	})

	t.Run("TTL deletes reach the function with the service's identity", func(t *testing.T) {
		t.Parallel()
		table, fn, _ := f.mapped(ctx, t, streamReader, func(in *lambda.CreateEventSourceMappingInput) {
			in.FilterCriteria = &lambdatypes.FilterCriteria{Filters: []lambdatypes.Filter{{Pattern: aws.String(`{"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`)}}}
		})
		db := dynamodb.NewFromConfig(srv.ClientConfig(), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expires_at")}})
		require.NoError(t, err)
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("gone"),
			"expires_at": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(srv.Clock.Now().Add(time.Minute).Unix(), 10)}}})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(out.of(fn)) > 0 }, 30*time.Second, 20*time.Millisecond)
		calls := out.of(fn)
		assert.Equal(t, []string{"gone"}, keysOf(calls), "only the TTL delete, not the write")
		assert.Equal(t, []bool{true}, calls[0].TTL)
	})

	t.Run("CreateEventSourceMapping is refused when the role cannot read the stream", func(t *testing.T) {
		t.Parallel()
		cfg := srv.ClientConfig()
		db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		_, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeKeysOnly)
		require.NoError(t, err)
		name := testenv.Unique("noread")
		createFunction(ctx, t, cfg, name, executionRole(ctx, t, cfg, name,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:DescribeStream"],"Resource":"*"}]}`), f.code)
		_, err = lambda.NewFromConfig(cfg).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &name,
			EventSourceArn: &arn, StartingPosition: lambdatypes.EventSourcePositionLatest})
		require.NoError(t, localawstest.RefusedWith("a mapping whose role lacks dynamodb:ListStreams", err, "InvalidParameterValueException"))
		assert.Contains(t, err.Error(), "Cannot access stream "+arn)
		_, err = lambda.NewFromConfig(cfg).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &name,
			EventSourceArn: &arn})
		require.NoError(t, localawstest.RefusedWith("a stream mapping without a starting position", err, "InvalidParameterValueException"))
	})
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
