package localawstest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// StreamTable creates an on-demand table keyed by the string pk, with a
// stream of view ("" for none), and returns its name and stream's ARN.
func StreamTable(ctx context.Context, db *dynamodb.Client, view ddbtypes.StreamViewType) (string, string, error) {
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(Unique("t")), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
	}
	if view != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view}
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return "", "", fmt.Errorf("create table: %w", err)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	if err != nil {
		return "", "", fmt.Errorf("describe table: %w", err)
	}
	return aws.ToString(in.TableName), aws.ToString(desc.Table.LatestStreamArn), nil
}
