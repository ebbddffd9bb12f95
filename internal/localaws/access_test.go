package localaws_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// TestRoleCallsMeetTheirPolicies: a role allowed to read one table, and
// nothing else, calls DynamoDB and SQS. Bare kumo lets it do anything; the
// local AWS allows the read and refuses the rest with each service's error
// (enforce), serves and records them (log), or does not look (off).
func TestRoleCallsMeetTheirPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := upstream.NewServer()
	t.Cleanup(bare.Close)

	type outcome struct{ get, put, send string } // "" allowed, else the error code
	run := func(t *testing.T, endpoint string, creds aws.CredentialsProvider, admin aws.Config) outcome {
		t.Helper()
		table, queue := testenv.Unique("acl"), testenv.Unique("acl")
		db := dynamodb.NewFromConfig(admin, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}})
		require.NoError(t, err)
		q, err := sqs.NewFromConfig(admin).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queue})
		require.NoError(t, err)
		role := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: creds}
		key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}}
		code := func(err error) string {
			var apiErr smithy.APIError
			switch {
			case err == nil:
				return ""
			case errors.As(err, &apiErr):
				return apiErr.ErrorCode()
			}
			return err.Error()
		}
		roleDB := dynamodb.NewFromConfig(role, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		_, getErr := roleDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key})
		_, putErr := roleDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key})
		_, sendErr := sqs.NewFromConfig(role).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
		return outcome{code(getErr), code(putErr), code(sendErr)}
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnly","Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:000000000000:table/acl-*"}]}`

	t.Run("bare kumo", func(t *testing.T) {
		t.Parallel()
		admin := localawstest.Config(bare.URL)
		got := run(t, bare.URL, credentials.NewStaticCredentialsProvider("ASIAANYONE", "x", ""), admin)
		assert.Equal(t, outcome{}, got, "bare kumo lets anyone do anything")
	})
	for _, tt := range []struct {
		mode    string
		want    outcome
		records bool
	}{
		{"enforce", outcome{put: "AccessDeniedException", send: "AccessDenied"}, true},
		{"log", outcome{}, true},
		{"off", outcome{}, false},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			srv := localawstest.New(t, localaws.Options{IAM: tt.mode})
			admin := srv.ClientConfig()
			name := testenv.Unique("reader")
			creds, err := srv.Principals.ForRole(executionRole(ctx, t, admin, name, policy), name)
			require.NoError(t, err)
			got := run(t, srv.URL, credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""), admin)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.records, len(srv.Access.Denials()) == 2, "denials %v", srv.Access.Denials())
			if tt.records {
				assert.Equal(t, "dynamodb:PutItem", srv.Access.Denials()[0].Action)
				assert.Contains(t, srv.Access.Denials()[0].Reason, "no identity-based policy allows it")
			}
		})
	}
}
