package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// capacityTable is a table with a global index on "gk" projecting all
// attributes, for the capacity checks.
func capacityTable(ctx context.Context, db *dynamodb.Client) (string, error) {
	in := tableWith(false, "pk", "gk")
	in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{
		IndexName:  aws.String("by_gk"),
		KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("gk"), KeyType: ddbtypes.KeyTypeHash}},
		Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
	}}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return "", err
	}
	return aws.ToString(in.TableName), nil
}

// blob is a string attribute value of n bytes.
func blob(n int) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", n)}
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

// wantUnits compares a ConsumedCapacity with the table's and the index's
// units DynamoDB's rules give.
func wantUnits(what string, c *ddbtypes.ConsumedCapacity, table, index float64) error {
	if c == nil {
		return fmt.Errorf("%s: no ConsumedCapacity", what)
	}
	got := aws.ToFloat64(c.CapacityUnits)
	gotTable := -1.0
	if c.Table != nil {
		gotTable = aws.ToFloat64(c.Table.CapacityUnits)
	}
	gotIndex := 0.0
	if ix, ok := c.GlobalSecondaryIndexes["by_gk"]; ok {
		gotIndex = aws.ToFloat64(ix.CapacityUnits)
	}
	if got != table+index || gotTable != table || gotIndex != index {
		return fmt.Errorf("%s: CapacityUnits %v (table %v, index %v), want %v (table %v, index %v)", what, got, gotTable, gotIndex, table+index, table, index)
	}
	return nil
}

// capacityChecks are the gap table's rows for capacity accounting.
var capacityChecks = []compatCheck{
	{"DynamoDB answers ReturnConsumedCapacity for writes as it counts them: 1 KB units, the larger item, indexes, failed conditions, transactions at double", func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		table, err := capacityTable(ctx, db)
		if err != nil {
			return err
		}
		// 1.5 KB item entering the index: 2 units on the table, 2 on the index.
		put, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityIndexes,
			Item: map[string]ddbtypes.AttributeValue{"pk": str("a"), "gk": str("x"), "body": blob(1500)}})
		if err != nil {
			return err
		}
		if err := wantUnits("PutItem of a new 1.5 KB item", put.ConsumedCapacity, 2, 2); err != nil {
			return err
		}
		// Changing the index key: a delete and a put in the index.
		upd, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityIndexes,
			Key: map[string]ddbtypes.AttributeValue{"pk": str("a")}, UpdateExpression: aws.String("SET gk = :y"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":y": str("y")}})
		if err != nil {
			return err
		}
		if err := wantUnits("UpdateItem changing the index key", upd.ConsumedCapacity, 2, 4); err != nil {
			return err
		}
		// A failed condition answers none but is counted (the metric check shows it).
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]ddbtypes.AttributeValue{"pk": str("a")}})
		var failed *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return fmt.Errorf("conditional put of an existing item: %w", err)
		}
		tx, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal,
			TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("b"), "body": blob(500)}}},
				{Put: &ddbtypes.Put{TableName: &table, Item: map[string]ddbtypes.AttributeValue{"pk": str("c"), "body": blob(500)}}},
			}})
		if err != nil {
			return err
		}
		// "three 500-byte items ... six WCUs": two each.
		if len(tx.ConsumedCapacity) != 1 || aws.ToFloat64(tx.ConsumedCapacity[0].CapacityUnits) != 4 || aws.ToFloat64(tx.ConsumedCapacity[0].WriteCapacityUnits) != 4 {
			return fmt.Errorf("TransactWriteItems of two 500-byte items: ConsumedCapacity %s, want one table at 4 write units", capacityString(tx.ConsumedCapacity))
		}
		del, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityIndexes,
			Key: map[string]ddbtypes.AttributeValue{"pk": str("a")}})
		if err != nil {
			return err
		}
		return wantUnits("DeleteItem of the 1.5 KB item in the index", del.ConsumedCapacity, 2, 2)
	}},
	{"DynamoDB answers ReturnConsumedCapacity for reads: 4 KB units, eventually consistent at half, Query on what it reads before its filter", func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		table, err := capacityTable(ctx, db)
		if err != nil {
			return err
		}
		for i := range 3 {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table,
				Item: map[string]ddbtypes.AttributeValue{"pk": str(fmt.Sprint(i)), "gk": str("x"), "body": blob(3000)}}); err != nil {
				return err
			}
		}
		get, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": str("0")},
			ProjectionExpression: aws.String("pk"), ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
		if err != nil {
			return err
		}
		if get.ConsumedCapacity == nil || aws.ToFloat64(get.ConsumedCapacity.CapacityUnits) != 0.5 {
			return fmt.Errorf("GetItem of a 3 KB item, eventually consistent: %s, want 0.5", capacityString([]ddbtypes.ConsumedCapacity{deref(get.ConsumedCapacity)}))
		}
		// Three ~3 KB entries read on the index (about 9 KB: 3 units), a filter that keeps none.
		q, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("by_gk"), ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityIndexes,
			KeyConditionExpression: aws.String("gk = :x"), FilterExpression: aws.String("pk = :none"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":x": str("x"), ":none": str("none")}})
		if err != nil {
			return err
		}
		if len(q.Items) != 0 {
			return fmt.Errorf("the filter kept %d items", len(q.Items))
		}
		return wantUnits("Query of the index, eventually consistent, all filtered out", q.ConsumedCapacity, 0, 1.5)
	}},
	{"DynamoDB answers ReturnConsumedCapacity for batches, transactional reads and scans: each item of a batch on its own, transactional reads double, a scan once on its sum", func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		table, err := capacityTable(ctx, db)
		if err != nil {
			return err
		}
		// Two 1.5 KB items without the index key: 2 units each, nothing on the index.
		bw, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal,
			RequestItems: map[string][]ddbtypes.WriteRequest{table: {
				{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": str("0"), "body": blob(1500)}}},
				{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": str("1"), "body": blob(1500)}}},
			}}})
		if err != nil {
			return err
		}
		if len(bw.ConsumedCapacity) != 1 || aws.ToFloat64(bw.ConsumedCapacity[0].CapacityUnits) != 4 {
			return fmt.Errorf("BatchWriteItem of two 1.5 KB items: %s, want 4", capacityString(bw.ConsumedCapacity))
		}
		key := func(pk string) map[string]ddbtypes.AttributeValue {
			return map[string]ddbtypes.AttributeValue{"pk": str(pk)}
		}
		bg, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal,
			RequestItems: map[string]ddbtypes.KeysAndAttributes{table: {Keys: []map[string]ddbtypes.AttributeValue{key("0"), key("1"), key("missing")}}}})
		if err != nil {
			return err
		}
		// "each item in the batch is processed as an individual GetItem request": 0.5 each, the missing one too.
		if len(bg.ConsumedCapacity) != 1 || aws.ToFloat64(bg.ConsumedCapacity[0].CapacityUnits) != 1.5 {
			return fmt.Errorf("BatchGetItem of three keys, eventually consistent: %s, want 1.5", capacityString(bg.ConsumedCapacity))
		}
		tg, err := db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal,
			TransactItems: []ddbtypes.TransactGetItem{{Get: &ddbtypes.Get{TableName: &table, Key: key("0")}}, {Get: &ddbtypes.Get{TableName: &table, Key: key("1")}}}})
		if err != nil {
			return err
		}
		if len(tg.ConsumedCapacity) != 1 || aws.ToFloat64(tg.ConsumedCapacity[0].CapacityUnits) != 4 || aws.ToFloat64(tg.ConsumedCapacity[0].ReadCapacityUnits) != 4 {
			return fmt.Errorf("TransactGetItems of two 1.5 KB items: %s, want 4 read units", capacityString(tg.ConsumedCapacity))
		}
		// About 3 KB in all, read once: one 4 KB unit, halved.
		scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal, Select: ddbtypes.SelectCount})
		if err != nil {
			return err
		}
		if scan.ConsumedCapacity == nil || aws.ToFloat64(scan.ConsumedCapacity.CapacityUnits) != 0.5 {
			return fmt.Errorf("Scan (COUNT) of about 3 KB: %s, want 0.5", capacityString([]ddbtypes.ConsumedCapacity{deref(scan.ConsumedCapacity)}))
		}
		return nil
	}},
	{"DynamoDB publishes ConsumedWriteCapacityUnits and ConsumedReadCapacityUnits per table and per global index", func(ctx context.Context, _ *testing.T, url string) error {
		cfg := configFor(url)
		db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		table, err := capacityTable(ctx, db)
		if err != nil {
			return err
		}
		start := time.Now().Add(-time.Minute)
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table,
			Item: map[string]ddbtypes.AttributeValue{"pk": str("a"), "gk": str("x"), "body": blob(1500)}}); err != nil {
			return err
		}
		// The failed condition consumes the existing item's 2 units.
		_, _ = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]ddbtypes.AttributeValue{"pk": str("a")}})
		if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": str("a")}, ConsistentRead: aws.Bool(true)}); err != nil {
			return err
		}
		cw := cloudwatch.NewFromConfig(cfg)
		for _, want := range []struct {
			metric string
			dims   map[string]string
			sum    float64
		}{
			{"ConsumedWriteCapacityUnits", map[string]string{"TableName": table}, 2 + 2},
			{"ConsumedWriteCapacityUnits", map[string]string{"TableName": table, "GlobalSecondaryIndexName": "by_gk"}, 2},
			{"ConsumedReadCapacityUnits", map[string]string{"TableName": table}, 1},
		} {
			in := &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(want.metric),
				StartTime: aws.Time(start), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}}
			for k, v := range want.dims {
				in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
			}
			out, err := cw.GetMetricStatistics(ctx, in)
			if err != nil {
				return err
			}
			sum := 0.0
			for _, p := range out.Datapoints {
				sum += aws.ToFloat64(p.Sum)
			}
			if sum != want.sum {
				return fmt.Errorf("%s %v: Sum %v, want %v", want.metric, want.dims, sum, want.sum)
			}
		}
		return nil
	}},
}

func deref(c *ddbtypes.ConsumedCapacity) ddbtypes.ConsumedCapacity {
	if c == nil {
		return ddbtypes.ConsumedCapacity{}
	}
	return *c
}

func capacityString(list []ddbtypes.ConsumedCapacity) string {
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = fmt.Sprintf("%s: %v (write %v)", aws.ToString(c.TableName), aws.ToFloat64(c.CapacityUnits), aws.ToFloat64(c.WriteCapacityUnits))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
