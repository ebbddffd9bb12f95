variable "region" {
  type        = string
  description = "AWS region of the stack."
  default     = "eu-west-1"
}

variable "environment" {
  type        = string
  description = "Environment name (tag and alert prefix)."
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every physical name."
}

variable "lambda_zip_dir" {
  type        = string
  description = "Folder holding processor.zip and maintenance.zip from `make build`."
  default     = "../../dist"
}

# Every other setting of the module, passed through. null (the default)
# means the module's own default, which lives in the module only
# (its variables are nullable = false); TestEnvsExposeEveryModuleSetting
# keeps this list complete.

variable "tags" {
  type        = map(string)
  description = "Tags for every taggable resource, merged with Project and Environment. null: the module's default."
  default     = null
}

variable "lambda_architecture" {
  type        = string
  description = "CPU architecture of both functions; the zips must be built for it (`make build ARCH=arm64|amd64`). null: the module's default."
  default     = null
}

variable "processor_timeout_seconds" {
  type        = number
  description = "Processor function timeout. The ingest queue's visibility timeout follows it (6 x plus the batching window, as AWS recommends). null: the module's default."
  default     = null
}

variable "processor_memory_mb" {
  type        = number
  description = "Processor function memory; CPU grows with it. null: the module's default."
  default     = null
}

variable "processor_reserved_concurrency" {
  type        = number
  description = "Reserved concurrency of the processor; null leaves it unreserved. null: the module's default."
  default     = null
}

variable "processor_worker_concurrency" {
  type        = number
  description = "Writes one processor invocation has in flight at once (MAX_CONCURRENCY), whatever the batch size: a conditional PutItem of a valid update (written in groups of up to 10 side by side) or an invalid record going to the DLQ. null: the module's default."
  default     = null
}

variable "log_level" {
  type        = string
  description = "Log level of both functions. null: the module's default."
  default     = null
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the functions' log groups, in days. null: the module's default."
  default     = null
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the processor's business metrics (embedded metric format). null: the module's default."
  default     = null
}

variable "batch_size" {
  type        = number
  description = "Largest batch the processor receives. Above 10 needs a batching window of at least 1 second. null: the module's default."
  default     = null
}

variable "maximum_batching_window_seconds" {
  type        = number
  description = "How long the event source gathers records before invoking. null: the module's default."
  default     = null
}

variable "event_source_maximum_concurrency" {
  type        = number
  description = "Most concurrent processor invocations the SQS event source starts (scaling_config). null: the module's default."
  default     = null
}

variable "event_filter_patterns" {
  type        = list(string)
  description = "Optional Lambda event filter patterns (JSON strings); records matching none are deleted unprocessed. null: the module's default."
  default     = null
}

variable "visibility_timeout_seconds" {
  type        = number
  description = "Ingest queue visibility timeout; null derives AWS's recommended minimum, 6 x processor_timeout_seconds + maximum_batching_window_seconds. A lower value fails at plan. null: the module's default."
  default     = null
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the ingest queue keeps a message (default 4 days). null: the module's default."
  default     = null
}

variable "dlq_message_retention_seconds" {
  type        = number
  description = "How long the DLQ keeps a message (default 14 days). Must be longer than the ingest queue's, since a redriven message keeps its original enqueue time. null: the module's default."
  default     = null
}

variable "max_receive_count" {
  type        = number
  description = "Receives of a message before SQS moves it to the DLQ. null: the module's default."
  default     = null
}

variable "kms_data_key_reuse_period_seconds" {
  type        = number
  description = "How long SQS reuses a data key before calling KMS again; longer is cheaper. null: the module's default."
  default     = null
}

variable "create_kms_key" {
  type        = bool
  description = "Create the module's KMS key. null decides by kms_key_arn (create when it is null). Set false with a kms_key_arn of a key created in the same root: its ARN is unknown at plan, and the module must know at plan whether to create its own. null: the module's default."
  default     = null
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer-managed KMS key to use instead of creating one. Its policy must admit the principals the module README lists under One KMS key. null: the module's default."
  default     = null
}

variable "kms_deletion_window_in_days" {
  type        = number
  description = "Waiting period before a destroyed key is deleted. null: the module's default."
  default     = null
}

variable "retention_days" {
  type        = number
  description = "Days an audit row is kept before DynamoDB's TTL removes it (RETENTION_DAYS). null: the module's default."
  default     = null
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Point-in-time recovery of the audit table: on in prod whatever the tfvars say, unless set to false here."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection of the audit table: on in prod."
  default     = true
}

variable "maintenance_timeout_seconds" {
  type        = number
  description = "Maintenance function timeout. null: the module's default."
  default     = null
}

variable "maintenance_schedule_expression" {
  type        = string
  description = "EventBridge Scheduler expression of the daily maintenance run: rate(...), cron(...) or at(...). null: the module's default."
  default     = null
}

variable "maintenance_schedule_timezone" {
  type        = string
  description = "IANA time zone of maintenance_schedule_expression. null: the module's default."
  default     = null
}

variable "maintenance_redrive_transient" {
  type        = bool
  description = "Let the maintenance job move transient failures from the DLQ back to the ingest queue. Permanent failures are never redriven automatically. null: the module's default."
  default     = null
}

variable "maintenance_redrive_rate" {
  type        = number
  description = "Messages per second the maintenance job sends back to the ingest queue when it redrives transient failures. null: the module's default."
  default     = null
}

variable "stuck_after_hours" {
  type        = number
  description = "The daily digest reports packages whose latest status is not final and older than this many hours (stuck), per status, to the alert topic. null: the module's default."
  default     = null
}

variable "final_statuses" {
  type        = list(string)
  description = "Statuses a package stays in for good (never stuck); statuses are an open set, carriers differ. null: the module's default."
  default     = null
}

variable "producer_principal_arns" {
  type        = list(string)
  description = "Principals allowed to send tracking updates, in this account or others: IAM role or user ARNs, account root ARNs, or 12-digit account ids. The ingest queue's policy grants them sqs:SendMessage and the module's key policy the key use SQS needs on their behalf (through SQS only); each also attaches producer_policy_json. Empty: only this account's principals, through their own IAM policies. null: the module's default."
  default     = null
}

variable "create_alert_topic" {
  type        = bool
  description = "Create the module's alert topic. null decides by alert_topic_arn (create when it is null). Set false with an alert_topic_arn of a topic created in the same root, whose ARN is unknown at plan. null: the module's default."
  default     = null
}

variable "alert_topic_arn" {
  type        = string
  description = "ARN of an existing SNS topic for alerts instead of creating one. Its policy must let CloudWatch and EventBridge publish. null: the module's default."
  default     = null
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alert topic (each must confirm). Ignored with alert_topic_arn. null: the module's default."
  default     = null
}

variable "alarm_raw_notifications" {
  type        = bool
  description = "Also send CloudWatch's own JSON notification of every alarm transition to the alert topic (alarm and OK actions). Off: each transition reaches the topic once, as the EventBridge rule's readable sentence. Turn it on only for a topic consumer that parses CloudWatch's alarm JSON (a chat or paging integration); e-mail subscribers then get two messages per transition. null: the module's default."
  default     = null
}

variable "alarm_thresholds" {
  type = object({
    queue_depth                = optional(number, 1000)
    oldest_message_age_seconds = optional(number, 300)
    dlq_messages               = optional(number, 0)
    processor_errors           = optional(number, 5)
    processor_throttles        = optional(number, 5)
    maintenance_errors         = optional(number, 0)
    projector_errors           = optional(number, 1)
    projector_lag_seconds      = optional(number, 900)
  })
  description = "Alarm thresholds: queue depth (visible messages), age of the oldest message in seconds, processor errors and throttles per 5 minutes fire at or above their value; DLQ messages and maintenance errors fire above theirs (0: any). null: the module's default."
  default     = null
}

variable "create_dashboard" {
  type        = bool
  description = "Create the CloudWatch dashboard. null: the module's default."
  default     = null
}

variable "event_bus_name" {
  type        = string
  description = "Name of an existing EventBridge bus of this account and region for the status-change events; null creates one. null: the module's default."
  default     = null
}
