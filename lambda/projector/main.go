// Command projector is the Lambda that reads the audit table's stream and
// keeps the latest statuses, the status index and the day counters, and
// puts status-change events on the bus. It only wires dependencies; the
// work is done by internal/projection.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/awsclient"
	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/eventbus"
	"github.com/tracking-pipeline/tracking-pipeline/internal/projection"
)

func main() {
	cfg, err := config.LoadProjector(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // Lambda reports an init error with this text
		os.Exit(1)
	}
	log := awsclient.Logger(cfg.LogLevel)
	aws, err := awsclient.Load(context.Background())
	if err != nil {
		log.Fatal("load AWS configuration", zap.Error(err))
	}
	store := audit.NewStore(dynamodb.NewFromConfig(aws), cfg.AuditTable, cfg.RetentionDays)
	bus := eventbus.New(eventbridge.NewFromConfig(aws), cfg.EventBusName, cfg.EventSource)
	metrics := emf.NewWriter(os.Stdout, cfg.MetricsNamespace, map[string]string{"FunctionName": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")})
	lambda.Start(projection.New(store, bus, metrics, log, cfg.MaxConcurrency).Handle)
}
