package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// dynamoDBChecks are DynamoDB rows of the gap table checked here.
var dynamoDBChecks = []compatCheck{
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
