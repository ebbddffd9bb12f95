environment                      = "prod"
name_prefix                      = "tracking-prod"
retention_days                   = 400
log_retention_days               = 365
point_in_time_recovery           = true
deletion_protection              = true
event_source_maximum_concurrency = 50
alert_email_addresses            = ["logistics-oncall@example.com"]
