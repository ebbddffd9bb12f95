// Package testenv runs an in-process local AWS (kumo behind the layer that
// emulates what kumo lacks, internal/localaws) for tests and creates this
// project's resources in it.
//
// kumo registers its services once per process, so every server in a process
// shares one state: testenv starts a single server and gives every resource a
// unique name, which keeps parallel tests apart.
package testenv

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// Env is the running local AWS with clients on it.
type Env struct {
	URL    string
	Config aws.Config
	DDB    *dynamodb.Client
	SQS    *sqs.Client
}

var (
	once   sync.Once
	shared *Env
)

// Start returns the process's local AWS, starting it on first use. It lives
// until the test binary exits.
func Start(t testing.TB) *Env {
	t.Helper()
	once.Do(func() {
		// Lives until the test binary exits: the process's tests share it.
		srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0"})
		if err != nil {
			t.Fatalf("start the local AWS: %v", err)
		}
		cfg := srv.ClientConfig()
		shared = &Env{URL: srv.URL, Config: cfg, DDB: dynamodb.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg)}
	})
	return shared
}

// Unique returns prefix with a random suffix (localawstest.Unique).
func Unique(prefix string) string { return localawstest.Unique(prefix) }

// AuditTable creates an audit table with a unique name and returns the name.
func (e *Env) AuditTable(t testing.TB) string {
	t.Helper()
	name := Unique("audit")
	_, err := e.DDB.CreateTable(context.Background(), audit.CreateTableInput(name))
	require.NoError(t, err)
	return name
}

// Queue creates a standard queue with a unique name from prefix and returns its URL.
func (e *Env) Queue(t testing.TB, prefix string, attrs map[string]string) string {
	t.Helper()
	out, err := e.SQS.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(Unique(prefix)), Attributes: attrs})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl)
}
