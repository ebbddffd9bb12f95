// Package testenv starts an in-process local AWS (kumo) for tests and
// creates this project's resources in it.
package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sivchari/kumo"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
)

// Env is a running local AWS with clients on it.
type Env struct {
	URL    string
	Config aws.Config
	DDB    *dynamodb.Client
	SQS    *sqs.Client
}

// Start runs kumo in-process for the test and closes it at cleanup.
func Start(t testing.TB) *Env {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	return &Env{
		URL:    srv.URL,
		Config: cfg,
		// kumo sends no X-Amz-Crc32 header; the real service does.
		DDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }),
		SQS: sqs.NewFromConfig(cfg),
	}
}

// AuditTable creates an audit table named name.
func (e *Env) AuditTable(t testing.TB, name string) string {
	t.Helper()
	_, err := e.DDB.CreateTable(context.Background(), audit.CreateTableInput(name))
	require.NoError(t, err)
	return name
}

// Queue creates a standard queue and returns its URL.
func (e *Env) Queue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := e.SQS.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl)
}
