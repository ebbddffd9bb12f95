package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// dynamoDBChecks are DynamoDB rows of the gap table checked here.
var dynamoDBChecks = []compatCheck{
	{"DynamoDB returns the item a failed condition found (ReturnValuesOnConditionCheckFailure ALL_OLD), in PutItem and in a transaction's cancellation reasons (None where nothing failed)", func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
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
	{"DynamoDB UpdateItem's SET operands read the item as it was before the update: a path copies its old value, if_not_exists(path, v) is path's value where the item has it; a path the item lacks is refused", func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
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
	{"DynamoDB expression attribute names and values are whole tokens: #a and #aa are two names, whichever order they are read in", func(ctx context.Context, _ *testing.T, url string) error {
		db := dynamodb.NewFromConfig(configFor(url), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
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
	{"DynamoDB on-demand global secondary indexes read back with their (zero) provisioned throughput", func(ctx context.Context, _ *testing.T, endpoint string) error {
		db := dynamodb.NewFromConfig(configFor(endpoint), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		table := testenv.Unique("gsi")
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
	{"DynamoDB refuses to delete a table with deletion protection on, and keeps UpdateTable's change of it", func(ctx context.Context, _ *testing.T, url string) error {
		d := dynamodb.NewFromConfig(configFor(url))
		in := tableWith(false, "pk")
		in.DeletionProtectionEnabled = aws.Bool(true)
		if _, err := d.CreateTable(ctx, in); err != nil {
			return err
		}
		_, err := d.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: in.TableName})
		if err := refusedWith("DeleteTable of a protected table", err, "ValidationException"); err != nil {
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
}
