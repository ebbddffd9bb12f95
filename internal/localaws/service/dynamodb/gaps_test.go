package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "DynamoDB answers ReturnConsumedCapacity for writes as it counts them: 1 KB units, the larger item, indexes, failed conditions, transactions at double", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
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
	{Name: "DynamoDB answers ReturnConsumedCapacity for reads: 4 KB units, eventually consistent at half, Query on what it reads before its filter", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
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
	{Name: "DynamoDB answers ReturnConsumedCapacity for batches, transactional reads and scans: each item of a batch on its own, transactional reads double, a scan once on its sum", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
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
	{Name: "DynamoDB publishes ConsumedWriteCapacityUnits and ConsumedReadCapacityUnits per table and per global index", Check: func(ctx context.Context, _ *testing.T, url string) error {
		cfg := localawstest.Config(url)
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
	{Name: "DynamoDB returns the item a failed condition found (ReturnValuesOnConditionCheckFailure ALL_OLD), in PutItem and in a transaction's cancellation reasons (None where nothing failed)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		in := tableWith(false, "pk")
		if _, err := db.CreateTable(ctx, in); err != nil {
			return err
		}
		existing := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}, "v": &ddbtypes.AttributeValueMemberS{Value: "old"}}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: in.TableName, Item: existing}); err != nil {
			return err
		}
		again := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}, "v": &ddbtypes.AttributeValueMemberS{Value: "new"}}
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: in.TableName, Item: again, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld})
		var failed *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return fmt.Errorf("conditional PutItem of an existing item: %w", err)
		}
		if v, ok := failed.Item["v"].(*ddbtypes.AttributeValueMemberS); !ok || v.Value != "old" {
			return fmt.Errorf("ConditionalCheckFailedException carries %v, want the existing item", failed.Item)
		}
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: in.TableName, Item: again, ConditionExpression: aws.String("attribute_not_exists(pk)"),
				ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld}},
			{Put: &ddbtypes.Put{TableName: in.TableName, Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "b"}}}},
		}})
		var cancelled *ddbtypes.TransactionCanceledException
		if !errors.As(err, &cancelled) || len(cancelled.CancellationReasons) != 2 {
			return fmt.Errorf("transaction with a failing condition: %w", err)
		}
		first, second := cancelled.CancellationReasons[0], cancelled.CancellationReasons[1]
		if v, ok := first.Item["v"].(*ddbtypes.AttributeValueMemberS); aws.ToString(first.Code) != "ConditionalCheckFailed" || !ok || v.Value != "old" {
			return fmt.Errorf("the failed action's reason: code %q, item %v", aws.ToString(first.Code), first.Item)
		}
		if aws.ToString(second.Code) != "None" || second.Item != nil {
			return fmt.Errorf("the other action's reason: code %q, item %v; want None", aws.ToString(second.Code), second.Item)
		}
		return nil
	}},
	{Name: "DynamoDB UpdateItem's SET operands read the item as it was before the update: a path copies its old value, if_not_exists(path, v) is path's value where the item has it; a path the item lacks is refused", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		in := tableWith(false, "pk")
		if _, err := db.CreateTable(ctx, in); err != nil {
			return err
		}
		s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
		k := map[string]ddbtypes.AttributeValue{"pk": s("a")}
		update := func(status string) error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: in.TableName, Key: k,
				UpdateExpression:          aws.String("SET #prev = if_not_exists(#status, :none), #status = :status, copy = #status"),
				ExpressionAttributeNames:  map[string]string{"#prev": "previous", "#status": "status"},
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":none": s("NONE"), ":status": s(status)}})
			return err
		}
		if err := update("IN_TRANSIT"); err == nil {
			return errors.New("SET copy = #status on an item without status was accepted")
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: in.TableName, Item: map[string]ddbtypes.AttributeValue{"pk": s("a"), "status": s("LABEL")}}); err != nil {
			return err
		}
		if err := update("IN_TRANSIT"); err != nil {
			return err
		}
		got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		want := map[string]string{"previous": "LABEL", "status": "IN_TRANSIT", "copy": "LABEL"}
		for name, v := range want {
			if a, ok := got.Item[name].(*ddbtypes.AttributeValueMemberS); !ok || a.Value != v {
				return fmt.Errorf("after the update %s is %v, want %s (the item before the update)", name, got.Item[name], v)
			}
		}
		return nil
	}},
	{Name: "DynamoDB expression attribute names and values are whole tokens: #a and #aa are two names, whichever order they are read in", Check: func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		in := tableWith(false, "pk")
		if _, err := db.CreateTable(ctx, in); err != nil {
			return err
		}
		// Twenty names, each the beginning of the next: #a, #aa, #aaa, ...
		names, values := map[string]string{}, map[string]ddbtypes.AttributeValue{}
		var actions []string
		for i := 1; i <= 20; i++ {
			ref := strings.Repeat("a", i)
			names["#"+ref] = fmt.Sprintf("counter_%02d", i)
			values[":"+ref] = &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)}
			actions = append(actions, "#"+ref+" :"+ref)
		}
		k := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}}
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: in.TableName, Key: k, UpdateExpression: aws.String("ADD " + strings.Join(actions, ", ")),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values}); err != nil {
			return err
		}
		got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		for i := 1; i <= 20; i++ {
			if n, ok := got.Item[fmt.Sprintf("counter_%02d", i)].(*ddbtypes.AttributeValueMemberN); !ok || n.Value != fmt.Sprint(i) {
				return fmt.Errorf("counter_%02d is %v, want %d (the item: %d attributes)", i, got.Item[fmt.Sprintf("counter_%02d", i)], i, len(got.Item))
			}
		}
		return nil
	}},
	{Name: "DynamoDB on-demand global secondary indexes read back with their (zero) provisioned throughput", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		db := dynamodb.NewFromConfig(localawstest.Config(endpoint), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		table := localawstest.Unique("gsi")
		if _, err := db.CreateTable(ctx, audit.CreateTableInput(table)); err != nil {
			return err
		}
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			return err
		}
		if len(out.Table.GlobalSecondaryIndexes) != 1 {
			return fmt.Errorf("indexes: %+v", out.Table.GlobalSecondaryIndexes)
		}
		gsi := out.Table.GlobalSecondaryIndexes[0]
		if aws.ToString(gsi.IndexName) != audit.IndexByStatus || gsi.ProvisionedThroughput == nil ||
			aws.ToInt64(gsi.ProvisionedThroughput.ReadCapacityUnits) != 0 || aws.ToInt64(gsi.ProvisionedThroughput.WriteCapacityUnits) != 0 {
			return fmt.Errorf("the index reads back as %+v", gsi)
		}
		return nil
	}},
	{Name: "DynamoDB refuses to delete a table with deletion protection on, and keeps UpdateTable's change of it", Check: func(ctx context.Context, _ *testing.T, url string) error {
		d := dynamodb.NewFromConfig(localawstest.Config(url))
		in := tableWith(false, "pk")
		in.DeletionProtectionEnabled = aws.Bool(true)
		if _, err := d.CreateTable(ctx, in); err != nil {
			return err
		}
		_, err := d.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: in.TableName})
		if err := localawstest.RefusedWith("DeleteTable of a protected table", err, "ValidationException"); err != nil {
			return err
		}
		if _, err := d.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: in.TableName, DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
			return err
		}
		desc, err := d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err != nil {
			return err
		}
		if aws.ToBool(desc.Table.DeletionProtectionEnabled) {
			return errors.New("DescribeTable still reports deletion protection after UpdateTable turned it off")
		}
		if _, err := d.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: in.TableName}); err != nil {
			return fmt.Errorf("DeleteTable once unprotected: %w", err)
		}
		return nil
	}},
	{Name: "DynamoDB refuses attribute definitions that do not match the key schemas (CreateTable)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		d := dynamodb.NewFromConfig(localawstest.Config(url))
		_, err := d.CreateTable(ctx, tableWith(false, "pk", "unused"))
		if err := localawstest.RefusedWith("CreateTable defining an unused attribute", err, "ValidationException"); err != nil {
			return err
		}
		_, err = d.CreateTable(ctx, tableWith(true, "pk"))
		if err := localawstest.RefusedWith("CreateTable without a definition of its sort key", err, "ValidationException"); err != nil {
			return err
		}
		_, err = d.CreateTable(ctx, tableWith(true, "pk", "sk"))
		return err //nolint:wrapcheck // said by the check's failure
	}},
	{Name: "DynamoDB point-in-time recovery and SSEDescription", Check: func(ctx context.Context, t *testing.T, url string) error {
		d := dynamodb.NewFromConfig(localawstest.Config(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		in := audit.CreateTableInput(localawstest.Unique("pitr"))
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/k")}
		if _, err := d.CreateTable(ctx, in); err != nil {
			return err
		}
		if _, err := d.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: in.TableName, PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
		}); err != nil {
			return err
		}
		cb, err := d.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: in.TableName})
		if err != nil {
			return err
		}
		if cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
			return errors.New("PITR reads back disabled")
		}
		desc, err := d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err != nil {
			return err
		}
		if desc.Table.SSEDescription == nil || aws.ToString(desc.Table.SSEDescription.KMSMasterKeyArn) == "" {
			return errors.New("no SSEDescription")
		}
		return nil
	}},
	{Name: "DynamoDB responses carry X-Amz-Crc32", Check: func(ctx context.Context, t *testing.T, url string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.Header.Get("X-Amz-Crc32") == "" {
			return errors.New("no X-Amz-Crc32 header")
		}
		return nil
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, append(gaps, streamGaps...)) }

// blob is a string attribute value of n bytes.
func blob(n int) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", n)}
}

func capacityString(list []ddbtypes.ConsumedCapacity) string {
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = fmt.Sprintf("%s: %v (write %v)", aws.ToString(c.TableName), aws.ToFloat64(c.CapacityUnits), aws.ToFloat64(c.WriteCapacityUnits))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

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

func deref(c *ddbtypes.ConsumedCapacity) ddbtypes.ConsumedCapacity {
	if c == nil {
		return ddbtypes.ConsumedCapacity{}
	}
	return *c
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

// tableWith is a CreateTable request of a table keyed pk (and sk when
// sorted) defining attrs.
func tableWith(sorted bool, attrs ...string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: aws.String(localawstest.Unique("t")), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}}
	if sorted {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, a := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(a), AttributeType: ddbtypes.ScalarAttributeTypeS})
	}
	return in
}
