// Command processor is the Lambda that consumes tracking updates from SQS
// and keeps the audit trail in DynamoDB. It only wires dependencies; the
// work is done by internal/processor.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/awsclient"
	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/processor"
)

func main() {
	cfg, err := config.LoadProcessor(os.Getenv)
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
	dlq := deadletter.NewSender(sqs.NewFromConfig(aws), cfg.DLQURL)
	metrics := emf.NewWriter(os.Stdout, cfg.MetricsNamespace, map[string]string{"FunctionName": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")})
	h := processor.New(store, dlq, metrics, log, processor.Config{MaxConcurrency: cfg.MaxConcurrency, DeadlineMargin: cfg.DeadlineMargin})
	lambda.Start(h.Handle)
}
