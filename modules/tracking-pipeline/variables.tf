################################################################################
# Naming and tags
################################################################################

variable "name_prefix" {
  type        = string
  description = "Prefix of every physical name (queues, functions, table, roles, alarms). Unique per stack, so parallel test runs never collide."

  validation {
    # The longest derived name is "<prefix>-maintenance-scheduler" (IAM role, 64 max).
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "environment" {
  type        = string
  description = "Environment name, written to the Environment tag and to the start of every alert sentence (for example dev or prod)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every taggable resource, merged with Project and Environment."
  default     = {}
  nullable    = false
}

################################################################################
# Lambda packages and runtime
################################################################################

variable "processor_zip_path" {
  type        = string
  description = "Path of the prebuilt processor zip (a linux `bootstrap` binary, from `make build`)."

  validation {
    condition     = endswith(var.processor_zip_path, ".zip")
    error_message = "processor_zip_path must name a .zip file."
  }
}

variable "maintenance_zip_path" {
  type        = string
  description = "Path of the prebuilt maintenance zip (a linux `bootstrap` binary, from `make build`)."

  validation {
    condition     = endswith(var.maintenance_zip_path, ".zip")
    error_message = "maintenance_zip_path must name a .zip file."
  }
}

variable "projector_zip_path" {
  type        = string
  description = "Path of the prebuilt projector zip (a linux `bootstrap` binary, from `make build`): it keeps the latest statuses, the status index and the day counters from the audit table's stream, and puts the status-change events."

  validation {
    condition     = endswith(var.projector_zip_path, ".zip")
    error_message = "projector_zip_path must name a .zip file."
  }
}

variable "event_bus_name" {
  type        = string
  description = "Name of an existing EventBridge bus of this account and region for the status-change events; null creates one, <name_prefix>-<environment>-tracking."
  default     = null

  validation {
    # "Event bus names ... [.\-_A-Za-z0-9]+", at most 256 characters (CreateEventBus).
    condition     = var.event_bus_name == null || can(regex("^[.\\-_A-Za-z0-9]{1,256}$", var.event_bus_name))
    error_message = "event_bus_name must be 1-256 characters of letters, digits, '.', '-' and '_'."
  }
}

variable "lambda_architecture" {
  type        = string
  description = "CPU architecture of the functions; the zips must be built for it (`make build ARCH=arm64|amd64`)."
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "processor_timeout_seconds" {
  type        = number
  description = "Processor function timeout. The ingest queue's visibility timeout follows it (6 x plus the batching window, as AWS recommends)."
  default     = 30
  nullable    = false

  validation {
    condition     = var.processor_timeout_seconds >= 3 && var.processor_timeout_seconds <= 900 && floor(var.processor_timeout_seconds) == var.processor_timeout_seconds
    error_message = "processor_timeout_seconds must be a whole number from 3 to 900."
  }
}

variable "processor_memory_mb" {
  type        = number
  description = "Processor function memory; CPU grows with it."
  default     = 256
  nullable    = false

  validation {
    condition     = var.processor_memory_mb >= 128 && var.processor_memory_mb <= 10240
    error_message = "processor_memory_mb must be from 128 to 10240."
  }
}

variable "processor_reserved_concurrency" {
  type        = number
  description = "Reserved concurrency of the processor; null leaves it unreserved."
  default     = null

  validation {
    condition     = var.processor_reserved_concurrency == null || try(var.processor_reserved_concurrency >= 0, false)
    error_message = "processor_reserved_concurrency must be null or at least 0."
  }
}

variable "processor_worker_concurrency" {
  type        = number
  description = "Writes one processor invocation has in flight at once (MAX_CONCURRENCY), whatever the batch size: a conditional PutItem of a valid update (written in groups of up to 10 side by side) or an invalid record going to the DLQ."
  default     = 10
  nullable    = false

  validation {
    condition     = var.processor_worker_concurrency >= 1 && var.processor_worker_concurrency <= 100
    error_message = "processor_worker_concurrency must be from 1 to 100."
  }
}

variable "log_level" {
  type        = string
  description = "Log level of both functions."
  default     = "info"
  nullable    = false

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the functions' log groups, in days."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the processor's business metrics (embedded metric format)."
  default     = "TrackingPipeline"
  nullable    = false

  validation {
    condition     = length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/") && can(regex("^[A-Za-z0-9._/#:-]+$", var.metrics_namespace))
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : - and must not start with AWS/."
  }
}

################################################################################
# Event source mapping and queues
################################################################################

variable "batch_size" {
  type        = number
  description = "Largest batch the processor receives. Above 10 needs a batching window of at least 1 second."
  default     = 10
  nullable    = false

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be from 1 to 10000."
  }
}

variable "maximum_batching_window_seconds" {
  type        = number
  description = "How long the event source gathers records before invoking."
  default     = 0
  nullable    = false

  validation {
    condition     = var.maximum_batching_window_seconds >= 0 && var.maximum_batching_window_seconds <= 300
    error_message = "maximum_batching_window_seconds must be from 0 to 300."
  }
}

variable "event_source_maximum_concurrency" {
  type        = number
  description = "Most concurrent processor invocations the SQS event source starts (scaling_config)."
  default     = 10
  nullable    = false

  validation {
    condition     = var.event_source_maximum_concurrency >= 2 && var.event_source_maximum_concurrency <= 1000
    error_message = "event_source_maximum_concurrency must be from 2 to 1000."
  }
}

variable "event_filter_patterns" {
  type        = list(string)
  description = "Optional Lambda event filter patterns (JSON strings); records matching none are deleted unprocessed."
  default     = []
  nullable    = false

  validation {
    condition     = length(var.event_filter_patterns) <= 10 && alltrue([for p in var.event_filter_patterns : can(jsondecode(p))])
    error_message = "event_filter_patterns takes at most 10 patterns, each a JSON document."
  }
}

variable "visibility_timeout_seconds" {
  type        = number
  description = "Ingest queue visibility timeout; null derives AWS's recommended minimum, 6 x processor_timeout_seconds + maximum_batching_window_seconds. A lower value fails at plan."
  default     = null

  validation {
    condition     = var.visibility_timeout_seconds == null || try(var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200, false)
    error_message = "visibility_timeout_seconds must be null or from 0 to 43200."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the ingest queue keeps a message (default 4 days)."
  default     = 345600
  nullable    = false

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be from 60 to 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  type        = number
  description = "How long the DLQ keeps a message (default 14 days). Must be longer than the ingest queue's, since a redriven message keeps its original enqueue time."
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be from 60 to 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives of a message before SQS moves it to the DLQ."
  default     = 5
  nullable    = false

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be from 1 to 1000."
  }
}

variable "kms_data_key_reuse_period_seconds" {
  type        = number
  description = "How long SQS reuses a data key before calling KMS again; longer is cheaper."
  default     = 300
  nullable    = false

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400
    error_message = "kms_data_key_reuse_period_seconds must be from 60 to 86400."
  }
}

################################################################################
# Encryption
################################################################################

variable "create_kms_key" {
  type        = bool
  description = "Create the module's KMS key. null decides by kms_key_arn (create when it is null). Set false with a kms_key_arn of a key created in the same root: its ARN is unknown at plan, and the module must know at plan whether to create its own."
  default     = null
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer-managed KMS key to use instead of creating one. Its policy must admit the principals the module README lists under One KMS key."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "kms_deletion_window_in_days" {
  type        = number
  description = "Waiting period before a destroyed key is deleted."
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be from 7 to 30."
  }
}

################################################################################
# Audit table
################################################################################

variable "retention_days" {
  type        = number
  description = "Days an audit row is kept before DynamoDB's TTL removes it (RETENTION_DAYS)."
  default     = 90
  nullable    = false

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number from 1 to 3650."
  }
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Enable point-in-time recovery of the audit table."
  default     = true
  nullable    = false
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the audit table from deletion (turn on in production)."
  default     = false
  nullable    = false
}

################################################################################
# Maintenance job
################################################################################

variable "maintenance_timeout_seconds" {
  type        = number
  description = "Maintenance function timeout."
  default     = 300
  nullable    = false

  validation {
    condition     = var.maintenance_timeout_seconds >= 10 && var.maintenance_timeout_seconds <= 900
    error_message = "maintenance_timeout_seconds must be from 10 to 900."
  }
}

variable "maintenance_schedule_expression" {
  type        = string
  description = "EventBridge Scheduler expression of the daily maintenance run: rate(...), cron(...) or at(...)."
  default     = "cron(15 0 * * ? *)"
  nullable    = false

  validation {
    condition     = can(regex("^(rate|cron|at)\\(.+\\)$", var.maintenance_schedule_expression))
    error_message = "maintenance_schedule_expression must be rate(...), cron(...) or at(...)."
  }
}

variable "maintenance_schedule_timezone" {
  type        = string
  description = "IANA time zone of maintenance_schedule_expression."
  default     = "UTC"
  nullable    = false
}

variable "maintenance_redrive_transient" {
  type        = bool
  description = "Let the maintenance job move transient failures from the DLQ back to the ingest queue. Permanent failures are never redriven automatically."
  default     = false
  nullable    = false
}

variable "maintenance_redrive_rate" {
  type        = number
  description = "Messages per second the maintenance job sends back to the ingest queue when it redrives transient failures."
  default     = 10
  nullable    = false

  validation {
    condition     = var.maintenance_redrive_rate >= 1 && var.maintenance_redrive_rate <= 500
    error_message = "maintenance_redrive_rate must be from 1 to 500."
  }
}

variable "stuck_after_hours" {
  type        = number
  description = "The daily digest reports packages whose latest status is not final and older than this many hours (stuck), per status, to the alert topic."
  default     = 72
  nullable    = false

  validation {
    condition     = var.stuck_after_hours >= 1 && var.stuck_after_hours <= 8760 && floor(var.stuck_after_hours) == var.stuck_after_hours
    error_message = "stuck_after_hours must be a whole number from 1 to 8760."
  }
}

variable "final_statuses" {
  type        = list(string)
  description = "Statuses a package stays in for good (never stuck); statuses are an open set, carriers differ."
  default     = ["DELIVERED", "RETURNED", "CANCELLED"]
  nullable    = false

  validation {
    condition     = alltrue([for s in var.final_statuses : can(regex("^[A-Z][A-Z0-9_]{1,39}$", s))])
    error_message = "final_statuses must be statuses as the contract allows them (^[A-Z][A-Z0-9_]{1,39}$)."
  }
}

################################################################################
# Alerts, alarms, dashboard
################################################################################

variable "producer_principal_arns" {
  type        = list(string)
  description = "Principals allowed to send tracking updates, in this account or others: IAM role or user ARNs, account root ARNs, or 12-digit account ids. The ingest queue's policy grants them sqs:SendMessage and the module's key policy the key use SQS needs on their behalf (through SQS only); each also attaches producer_policy_json. Empty: only this account's principals, through their own IAM policies."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.producer_principal_arns : can(regex("^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+))$", p))])
    error_message = "producer_principal_arns must hold IAM role or user ARNs, account root ARNs or 12-digit account ids."
  }
}

variable "create_alert_topic" {
  type        = bool
  description = "Create the module's alert topic. null decides by alert_topic_arn (create when it is null). Set false with an alert_topic_arn of a topic created in the same root, whose ARN is unknown at plan."
  default     = null
}

variable "alert_topic_arn" {
  type        = string
  description = "ARN of an existing SNS topic for alerts instead of creating one. Its policy must let CloudWatch and EventBridge publish."
  default     = null

  validation {
    condition     = var.alert_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alert_topic_arn))
    error_message = "alert_topic_arn must be null or an SNS topic ARN."
  }
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alert topic (each must confirm). Ignored with alert_topic_arn."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.alert_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", a))])
    error_message = "alert_email_addresses must hold e-mail addresses."
  }
}

variable "alarm_raw_notifications" {
  type        = bool
  description = "Also send CloudWatch's own JSON notification of every alarm transition to the alert topic (alarm and OK actions). Off: each transition reaches the topic once, as the EventBridge rule's readable sentence. Turn it on only for a topic consumer that parses CloudWatch's alarm JSON (a chat or paging integration); e-mail subscribers then get two messages per transition."
  default     = false
  nullable    = false
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
  description = "Alarm thresholds: queue depth (visible messages), age of the oldest message in seconds, processor errors and throttles per 5 minutes fire at or above their value; DLQ messages and maintenance errors fire above theirs (0: any); projector errors per 5 minutes fire at or above theirs, and the projector's lag behind the table's stream (IteratorAge, seconds, well under the stream's 24 hours) above its value."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for v in values(var.alarm_thresholds) : v >= 0])
    error_message = "alarm_thresholds values must be 0 or more."
  }
}

variable "create_dashboard" {
  type        = bool
  description = "Create the CloudWatch dashboard."
  default     = true
  nullable    = false
}
