// Command maintenance is the scheduled Lambda: DLQ digest and safe redrive,
// daily statistics. It only wires dependencies; the work is done by
// internal/maintenance.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/alert"
	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/awsclient"
	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/maintenance"
)

func main() {
	cfg, err := config.LoadMaintenance(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // Lambda reports an init error with this text
		os.Exit(1)
	}
	log := awsclient.Logger(cfg.LogLevel)
	aws, err := awsclient.Load(context.Background())
	if err != nil {
		log.Fatal("load AWS configuration", zap.Error(err))
	}
	job := maintenance.New(
		sqs.NewFromConfig(aws),
		audit.NewStore(dynamodb.NewFromConfig(aws), cfg.AuditTable, cfg.RetentionDays),
		alert.NewPublisher(sns.NewFromConfig(aws), cfg.AlertTopicARN),
		emf.NewWriter(os.Stdout, cfg.MetricsNamespace, map[string]string{"FunctionName": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")}),
		log,
		maintenance.Config{
			DLQURL: cfg.DLQURL, IngestQueueURL: cfg.IngestQueueURL,
			RedriveTransient: cfg.RedriveTransient, RedriveRate: int32(cfg.RedriveRate), //nolint:gosec // config bounds it to 1-500
			StuckAfter: cfg.StuckAfter, FinalStatuses: cfg.FinalStatuses,
		},
	)
	lambda.Start(job.Handle)
}
