package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	sttypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// streamClients are a DynamoDB and a DynamoDB Streams client of url.
func streamClients(url string) (*dynamodb.Client, *dynamodbstreams.Client) {
	cfg := localawstest.Config(url)
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }),
		dynamodbstreams.NewFromConfig(cfg)
}

// readStream returns the records of arn's shard from an iterator of typ
// (at seq for the sequence-number types) to the shard's current end.
func readStream(ctx context.Context, st *dynamodbstreams.Client, arn string, typ sttypes.ShardIteratorType, seq string) ([]sttypes.Record, error) {
	desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil {
		return nil, err
	}
	if len(desc.StreamDescription.Shards) != 1 {
		return nil, fmt.Errorf("shards: %d", len(desc.StreamDescription.Shards))
	}
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: desc.StreamDescription.Shards[0].ShardId, ShardIteratorType: typ}
	if seq != "" {
		in.SequenceNumber = &seq
	}
	it, err := st.GetShardIterator(ctx, in)
	if err != nil {
		return nil, err
	}
	var out []sttypes.Record
	for next := it.ShardIterator; next != nil; {
		page, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next, Limit: aws.Int32(2)})
		if err != nil {
			return nil, err
		}
		if len(page.Records) == 0 {
			break
		}
		out = append(out, page.Records...)
		next = page.NextShardIterator
	}
	return out, nil
}

func names(records []sttypes.Record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = string(r.EventName) + " " + r.Dynamodb.Keys["pk"].(*sttypes.AttributeValueMemberS).Value
	}
	return out
}

// writeEveryWay writes table through each write path: PutItem, UpdateItem,
// a PutItem that changes nothing, a failed condition, DeleteItem,
// TransactWriteItems and BatchWriteItem.
func writeEveryWay(ctx context.Context, db *dynamodb.Client, table string) error {
	key := func(pk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": str(pk)}
	}
	a := map[string]ddbtypes.AttributeValue{"pk": str("a"), "v": str("1")}
	steps := []func() error{
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: a})
			return err
		},
		func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key("a"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": str("2")}})
			return err
		},
		func() error { // the same item again: no change, no record
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("a"), "v": str("2")}})
			return err
		},
		func() error { // a failed condition: no record
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: a, ConditionExpression: aws.String("attribute_not_exists(pk)")})
			var failed *ddbtypes.ConditionalCheckFailedException
			if !errors.As(err, &failed) {
				return fmt.Errorf("conditional put: %w", err)
			}
			return nil
		},
		func() error {
			_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: key("a")})
			return err
		},
		func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("t1")}}},
				{Put: &ddbtypes.Put{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("t2")}}},
			}})
			return err
		},
		func() error {
			_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{table: {
				{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": str("b1")}}},
				{DeleteRequest: &ddbtypes.DeleteRequest{Key: key("t1")}},
			}}})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
	}
	return nil
}

// everyWay is what writeEveryWay leaves on the stream.
var everyWay = []string{"INSERT a", "MODIFY a", "REMOVE a", "INSERT t1", "INSERT t2", "INSERT b1", "REMOVE t1"}

// streamGaps are the gap table's rows for DynamoDB Streams.
var streamGaps = []localawstest.Gap{
	{Name: "DynamoDB Streams record every write path, transactions and batch writes included, and no write that changes nothing", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db, st := streamClients(url)
		table, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeNewAndOldImages)
		if err != nil {
			return err
		}
		if err := writeEveryWay(ctx, db, table); err != nil {
			return err
		}
		records, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, "")
		if err != nil {
			return err
		}
		if got := names(records); fmt.Sprint(got) != fmt.Sprint(everyWay) {
			return fmt.Errorf("records %v, want %v", got, everyWay)
		}
		return nil
	}},
	{Name: "DynamoDB Streams AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER iterators start at their record", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db, st := streamClients(url)
		table, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeKeysOnly)
		if err != nil {
			return err
		}
		if err := writeEveryWay(ctx, db, table); err != nil {
			return err
		}
		all, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, "")
		if err != nil || len(all) < 4 {
			return fmt.Errorf("records %d: %w", len(all), err)
		}
		third := aws.ToString(all[2].Dynamodb.SequenceNumber)
		at, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeAtSequenceNumber, third)
		if err != nil {
			return err
		}
		after, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeAfterSequenceNumber, third)
		if err != nil {
			return err
		}
		if fmt.Sprint(names(at)) != fmt.Sprint(names(all[2:])) || fmt.Sprint(names(after)) != fmt.Sprint(names(all[3:])) {
			return fmt.Errorf("AT %v and AFTER %v the third record of %v", names(at), names(after), names(all))
		}
		return nil
	}},
	{Name: "DynamoDB Streams ListStreams lists a table's streams", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db, st := streamClients(url)
		table, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeNewImage)
		if err != nil {
			return err
		}
		out, err := st.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: &table})
		if err != nil {
			return err
		}
		if len(out.Streams) != 1 || aws.ToString(out.Streams[0].StreamArn) != arn {
			return fmt.Errorf("ListStreams of %s: %+v, want %s", table, out.Streams, arn)
		}
		return nil
	}},
	{Name: "DynamoDB UpdateTable enables and disables a table's stream (StreamSpecification)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db, st := streamClients(url)
		table, _, err := localawstest.StreamTable(ctx, db, "")
		if err != nil {
			return err
		}
		up, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &table,
			StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage}})
		if err != nil {
			return err
		}
		arn := aws.ToString(up.TableDescription.LatestStreamArn)
		if arn == "" {
			return errors.New("UpdateTable enabling a stream answered no LatestStreamArn")
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("x")}}); err != nil {
			return err
		}
		if got, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, ""); err != nil || len(got) != 1 {
			return fmt.Errorf("the enabled stream holds %d records, want 1: %w", len(got), err)
		}
		_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &table,
			StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage}})
		if err := localawstest.RefusedWith("enabling a second stream", err, "ValidationException"); err != nil {
			return err
		}
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &table, StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
			return err
		}
		desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
		if err != nil {
			return err
		}
		if desc.StreamDescription.StreamStatus != sttypes.StreamStatusDisabled {
			return fmt.Errorf("a disabled stream reads %s", desc.StreamDescription.StreamStatus)
		}
		return nil
	}},
}

// TestStreamViewTypes checks what each view type's records carry.
func TestStreamViewTypes(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{})
	for _, tc := range []struct {
		view     ddbtypes.StreamViewType
		old, new bool
	}{
		{ddbtypes.StreamViewTypeKeysOnly, false, false},
		{ddbtypes.StreamViewTypeNewImage, false, true},
		{ddbtypes.StreamViewTypeOldImage, true, false},
		{ddbtypes.StreamViewTypeNewAndOldImages, true, true},
	} {
		t.Run(string(tc.view), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, st := streamClients(srv.URL)
			table, arn, err := localawstest.StreamTable(ctx, db, tc.view)
			require.NoError(t, err)
			require.NoError(t, writeEveryWay(ctx, db, table))
			records, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, "")
			require.NoError(t, err)
			require.Equal(t, everyWay, names(records))
			modify := records[1].Dynamodb
			assert.Equal(t, tc.old, modify.OldImage != nil, "OldImage")
			assert.Equal(t, tc.new, modify.NewImage != nil, "NewImage")
			assert.Equal(t, tc.view, ddbtypes.StreamViewType(modify.StreamViewType))
			assert.Equal(t, tc.new, records[0].Dynamodb.NewImage != nil, "an INSERT's NewImage")
			assert.Nil(t, records[0].Dynamodb.OldImage, "an INSERT has no OldImage")
			assert.Nil(t, records[2].Dynamodb.NewImage, "a REMOVE has no NewImage")
			var last uint64
			for _, r := range records {
				n, err := strconv.ParseUint(aws.ToString(r.Dynamodb.SequenceNumber)[1:], 10, 64)
				require.NoError(t, err)
				assert.Greater(t, n, last, "sequence numbers increase")
				last = n
				assert.Equal(t, "aws:dynamodb", aws.ToString(r.EventSource))
				assert.Equal(t, "1.1", aws.ToString(r.EventVersion))
			}
		})
	}
}

// TestStreamIteratorsAndRetention: a LATEST iterator sees only what comes
// after it (in real time); on a clock at 3,600, an hour a second, an
// iterator expires after 15 minutes, and records go after 24 hours, and
// an iterator into them is refused.
func TestStreamIteratorsAndRetention(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{TimeScale: 3600})
	ctx := context.Background()
	db, st := streamClients(srv.URL)
	table, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeKeysOnly)
	require.NoError(t, err)
	put := func(pk string) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str(pk)}})
		require.NoError(t, err)
	}
	put("before")
	desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	require.NoError(t, err)
	shard := desc.StreamDescription.Shards[0].ShardId
	// LATEST on a local AWS in real time, where an iterator's 15 minutes
	// cannot run out between two calls of a loaded machine (a quarter of a
	// second here).
	rt := localawstest.New(t, localaws.Options{})
	rdb, rst := streamClients(rt.URL)
	rtable, rarn, err := localawstest.StreamTable(ctx, rdb, ddbtypes.StreamViewTypeKeysOnly)
	require.NoError(t, err)
	rput := func(pk string) {
		_, err := rdb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &rtable, Item: map[string]ddbtypes.AttributeValue{"pk": str(pk)}})
		require.NoError(t, err)
	}
	rput("before")
	rdesc, err := rst.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &rarn})
	require.NoError(t, err)
	latest, err := rst.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &rarn, ShardId: rdesc.StreamDescription.Shards[0].ShardId,
		ShardIteratorType: sttypes.ShardIteratorTypeLatest})
	require.NoError(t, err)
	rput("after")
	got, err := rst.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: latest.ShardIterator})
	require.NoError(t, err)
	assert.Equal(t, []string{"INSERT after"}, names(got.Records), "LATEST: only what came after it")

	// Expiry and retention at 3,600: the record written first, "before".
	records, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, "")
	require.NoError(t, err)
	require.NotEmpty(t, records)
	first := aws.ToString(records[0].Dynamodb.SequenceNumber)
	old, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: shard, ShardIteratorType: sttypes.ShardIteratorTypeTrimHorizon})
	require.NoError(t, err)
	require.Eventually(t, func() bool { // 15 minutes: a quarter of a second
		_, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: old.ShardIterator})
		var expired *sttypes.ExpiredIteratorException
		return errors.As(err, &expired)
	}, 10*time.Second, 20*time.Millisecond, "an iterator older than 15 minutes")

	require.Eventually(t, func() bool { // 24 hours: 24 seconds at most, polled
		_, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: shard,
			ShardIteratorType: sttypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: &first})
		var trimmed *sttypes.TrimmedDataAccessException
		return errors.As(err, &trimmed)
	}, 40*time.Second, 100*time.Millisecond, "a record older than 24 hours is trimmed")
	require.Eventually(t, func() bool { // a fresh iterator may itself expire on a loaded machine: try again
		records, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, "")
		return err == nil && len(records) == 0
	}, 20*time.Second, 50*time.Millisecond, "nothing is left after 24 hours")
}

// TestTimeToLiveDeletesReachTheStream: an expired item is deleted by the
// service, its REMOVE record carries the service's userIdentity, and an
// item five years past its time is kept.
func TestTimeToLiveDeletesReachTheStream(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{TimeScale: 3600})
	ctx := context.Background()
	db, st := streamClients(srv.URL)
	table, arn, err := localawstest.StreamTable(ctx, db, ddbtypes.StreamViewTypeOldImage)
	require.NoError(t, err)
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expires_at")}})
	require.NoError(t, err)
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	require.NoError(t, err)
	assert.Equal(t, ddbtypes.TimeToLiveStatusEnabled, ttl.TimeToLiveDescription.TimeToLiveStatus)
	now := srv.Clock.Now()
	for pk, at := range map[string]time.Time{"soon": now.Add(time.Hour), "ancient": now.Add(-6 * 365 * 24 * time.Hour)} {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{
			"pk": str(pk), "expires_at": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(at.Unix(), 10)}}})
		require.NoError(t, err)
	}
	var removed []sttypes.Record
	require.Eventually(t, func() bool {
		records, err := readStream(ctx, st, arn, sttypes.ShardIteratorTypeTrimHorizon, "")
		removed = nil
		for _, r := range records {
			if r.EventName == sttypes.OperationTypeRemove {
				removed = append(removed, r)
			}
		}
		return err == nil && len(removed) > 0
	}, 20*time.Second, 20*time.Millisecond, "the expired item's REMOVE")
	require.Len(t, removed, 1)
	assert.Equal(t, []string{"REMOVE soon"}, names(removed))
	require.NotNil(t, removed[0].UserIdentity)
	assert.Equal(t, "Service", aws.ToString(removed[0].UserIdentity.Type))
	assert.Equal(t, "dynamodb.amazonaws.com", aws.ToString(removed[0].UserIdentity.PrincipalId))
	assert.NotNil(t, removed[0].Dynamodb.OldImage)
	left, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": str("ancient")}})
	require.NoError(t, err)
	assert.NotNil(t, left.Item, "an item five years past its time is not deleted")
}
