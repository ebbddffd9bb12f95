package audit

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTableInput is the audit table as the store needs it: the same keys,
// index, stream and billing mode that modules/tracking-pipeline/dynamodb.tf
// declares. Local runs and tests create the table from it. The stream
// carries new images: the projector reads rows, conflicts and settled
// messages from their INSERT records.
func CreateTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrStatusShard), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrLatestOrder), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: StreamViewType},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexByStatus),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrStatusShard), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrLatestOrder), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	}
}

// StreamViewType is what the table's stream records carry.
const StreamViewType = types.StreamViewTypeNewImage
