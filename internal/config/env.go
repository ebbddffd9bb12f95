package config

// Environment variables of the Lambdas. The module's lambda.tf and the Go
// provisioner set them, LoadProcessor and LoadMaintenance read them;
// TestModuleSetsWhatTheFunctionsRead ties the names and defaults to lambda.tf.
const (
	EnvAuditTable       = "AUDIT_TABLE_NAME"
	EnvDLQURL           = "DLQ_URL"
	EnvIngestQueueURL   = "INGEST_QUEUE_URL"
	EnvAlertTopicARN    = "ALERT_TOPIC_ARN"
	EnvRedriveTransient = "REDRIVE_TRANSIENT"
	EnvRedriveRate      = "REDRIVE_RATE"
	EnvRetentionDays    = "RETENTION_DAYS"
	EnvMaxConcurrency   = "MAX_CONCURRENCY"
	EnvLogLevel         = "LOG_LEVEL"
	EnvMetricsNamespace = "METRICS_NAMESPACE"
	EnvDeadlineMarginMS = "DEADLINE_MARGIN_MS"
	EnvStuckAfterHours  = "STUCK_AFTER_HOURS"
	EnvFinalStatuses    = "FINAL_STATUSES"
	EnvEventBusName     = "EVENT_BUS_NAME"
	EnvEventSource      = "STATUS_EVENT_SOURCE"
)

// ProcessorEnv, ProjectorEnv and MaintenanceEnv name every variable each function reads.
var (
	ProcessorEnv = []string{
		EnvAuditTable, EnvDLQURL, EnvRetentionDays, EnvMaxConcurrency,
		EnvLogLevel, EnvMetricsNamespace, EnvDeadlineMarginMS,
	}
	ProjectorEnv = []string{
		EnvAuditTable, EnvEventBusName, EnvEventSource, EnvRetentionDays, EnvMaxConcurrency,
		EnvLogLevel, EnvMetricsNamespace,
	}
	MaintenanceEnv = []string{
		EnvAuditTable, EnvDLQURL, EnvIngestQueueURL, EnvAlertTopicARN,
		EnvRedriveTransient, EnvRedriveRate, EnvRetentionDays, EnvLogLevel, EnvMetricsNamespace,
		EnvStuckAfterHours, EnvFinalStatuses,
	}
)
