environment = "prod"
name_prefix = "tracking-prod"

# The original specification's production settings (the module README says,
# per setting, where and why the module's own default differs).
processor_timeout_seconds       = 60 # the ingest queue's visibility timeout follows: 6 x 60 + 30 = 390 s
max_receive_count               = 3
maximum_batching_window_seconds = 30
processor_memory_mb             = 512
message_retention_seconds       = 604800  # 7 days
dlq_message_retention_seconds   = 1209600 # 14 days
maintenance_schedule_expression = "cron(0 1 * * ? *)"
maintenance_schedule_timezone   = "UTC"

retention_days                   = 400
log_retention_days               = 365
event_source_maximum_concurrency = 50
alert_email_addresses            = ["logistics-oncall@example.com"]
# point_in_time_recovery and deletion_protection are on by default in prod's variables.
