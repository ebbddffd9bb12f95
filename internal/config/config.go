// Package config reads the processor's settings from its environment and
// fails with a message naming the variable when one is wrong.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Processor holds the processor Lambda's settings.
type Processor struct {
	AuditTable       string        // AUDIT_TABLE_NAME, required
	DLQURL           string        // DLQ_URL, required
	RetentionDays    int           // RETENTION_DAYS, 1-3650, default 90
	MaxConcurrency   int           // MAX_CONCURRENCY, 1-100, default 10: writes in flight per invocation
	LogLevel         zapcore.Level // LOG_LEVEL, debug|info|warn|error, default info
	MetricsNamespace string        // METRICS_NAMESPACE, default TrackingPipeline
	DeadlineMargin   time.Duration // DEADLINE_MARGIN_MS, 100-60000, default 2000
}

// Defaults of the functions' settings. Where lambda.tf sets a variable from a
// module variable, its default is the module's (TestModuleSetsWhatTheFunctionsRead).
const (
	DefaultRetentionDays  = 90
	DefaultMaxConcurrency = 10
	// DefaultProjectorConcurrency is the projector's: its calls are small
	// and wait on DynamoDB and EventBridge, one shard's batch at a time.
	DefaultProjectorConcurrency = 32
	// MaxConcurrencyLimit is the largest MAX_CONCURRENCY a function accepts.
	MaxConcurrencyLimit     = 100
	DefaultMetricsNamespace = "TrackingPipeline"
	DefaultDeadlineMarginMS = 2000
	DefaultRedriveRate      = 10
	DefaultLogLevel         = "info"
	DefaultStuckAfterHours  = 72
	DefaultFinalStatuses    = "DELIVERED,RETURNED,CANCELLED"
	// DefaultStatusEventSource is the source of the status-change events
	// (main.tf's local.status_event_source).
	DefaultStatusEventSource = "tracking-pipeline"
)

// LoadProcessor reads the processor's settings through getenv (os.Getenv in production).
func LoadProcessor(getenv func(string) string) (Processor, error) {
	r := reader{getenv: getenv}
	c := Processor{
		AuditTable:       r.required(EnvAuditTable),
		DLQURL:           r.required(EnvDLQURL),
		RetentionDays:    r.intIn(EnvRetentionDays, DefaultRetentionDays, 1, 3650),
		MaxConcurrency:   r.intIn(EnvMaxConcurrency, DefaultMaxConcurrency, 1, MaxConcurrencyLimit),
		LogLevel:         r.level(EnvLogLevel),
		MetricsNamespace: r.optional(EnvMetricsNamespace, DefaultMetricsNamespace),
		DeadlineMargin:   time.Duration(r.intIn(EnvDeadlineMarginMS, DefaultDeadlineMarginMS, 100, 60000)) * time.Millisecond,
	}
	if len(c.MetricsNamespace) > 255 || strings.HasPrefix(c.MetricsNamespace, "AWS/") {
		r.fail(EnvMetricsNamespace, "must be at most 255 characters and not start with AWS/")
	}
	if err := errors.Join(r.errs...); err != nil {
		return Processor{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return c, nil
}

// Projector holds the projector Lambda's settings.
type Projector struct {
	AuditTable       string        // AUDIT_TABLE_NAME, required
	EventBusName     string        // EVENT_BUS_NAME, required: where status changes go
	EventSource      string        // STATUS_EVENT_SOURCE, default tracking-pipeline: the events' source
	RetentionDays    int           // RETENTION_DAYS, 1-3650, default 90: the latest statuses' TTL
	MaxConcurrency   int           // MAX_CONCURRENCY, 1-100, default 32: latest statuses moved (and PutEvents calls made) at once
	LogLevel         zapcore.Level // LOG_LEVEL
	MetricsNamespace string        // METRICS_NAMESPACE
}

// LoadProjector reads the projector's settings through getenv.
func LoadProjector(getenv func(string) string) (Projector, error) {
	r := reader{getenv: getenv}
	c := Projector{
		AuditTable:       r.required(EnvAuditTable),
		EventBusName:     r.required(EnvEventBusName),
		EventSource:      r.optional(EnvEventSource, DefaultStatusEventSource),
		RetentionDays:    r.intIn(EnvRetentionDays, DefaultRetentionDays, 1, 3650),
		MaxConcurrency:   r.intIn(EnvMaxConcurrency, DefaultProjectorConcurrency, 1, MaxConcurrencyLimit),
		LogLevel:         r.level(EnvLogLevel),
		MetricsNamespace: r.optional(EnvMetricsNamespace, DefaultMetricsNamespace),
	}
	// "Source ... must not begin with aws." (EventBridge, "Event structure reference").
	if strings.HasPrefix(c.EventSource, "aws.") {
		r.fail(EnvEventSource, "must not start with aws.")
	}
	if err := errors.Join(r.errs...); err != nil {
		return Projector{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return c, nil
}

// Maintenance holds the maintenance Lambda's settings.
type Maintenance struct {
	AuditTable       string        // AUDIT_TABLE_NAME, required
	DLQURL           string        // DLQ_URL, required
	IngestQueueURL   string        // INGEST_QUEUE_URL, required: where transient failures are redriven
	AlertTopicARN    string        // ALERT_TOPIC_ARN, required
	RedriveTransient bool          // REDRIVE_TRANSIENT, default false
	RedriveRate      int           // REDRIVE_RATE, 1-500, default 10
	RetentionDays    int           // RETENTION_DAYS, 1-3650, default 90
	LogLevel         zapcore.Level // LOG_LEVEL
	MetricsNamespace string        // METRICS_NAMESPACE
	StuckAfter       time.Duration // STUCK_AFTER_HOURS, 1-8760, default 72: a package in a non-final status longer is stuck
	FinalStatuses    []string      // FINAL_STATUSES, comma-separated, default DELIVERED,RETURNED,CANCELLED
}

// LoadMaintenance reads the maintenance job's settings through getenv.
func LoadMaintenance(getenv func(string) string) (Maintenance, error) {
	r := reader{getenv: getenv}
	c := Maintenance{
		AuditTable:       r.required(EnvAuditTable),
		DLQURL:           r.required(EnvDLQURL),
		IngestQueueURL:   r.required(EnvIngestQueueURL),
		AlertTopicARN:    r.required(EnvAlertTopicARN),
		RedriveTransient: r.boolean(EnvRedriveTransient),
		RedriveRate:      r.intIn(EnvRedriveRate, DefaultRedriveRate, 1, 500),
		RetentionDays:    r.intIn(EnvRetentionDays, DefaultRetentionDays, 1, 3650),
		LogLevel:         r.level(EnvLogLevel),
		MetricsNamespace: r.optional(EnvMetricsNamespace, DefaultMetricsNamespace),
		StuckAfter:       time.Duration(r.intIn(EnvStuckAfterHours, DefaultStuckAfterHours, 1, 8760)) * time.Hour,
		FinalStatuses:    r.list(EnvFinalStatuses, DefaultFinalStatuses),
	}
	if err := errors.Join(r.errs...); err != nil {
		return Maintenance{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return c, nil
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

func (r *reader) required(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		r.fail(name, "is required")
	}
	return v
}

// list reads a comma-separated list; empty items are dropped.
func (r *reader) list(name, def string) []string {
	var out []string
	for _, v := range strings.Split(r.optional(name, def), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (r *reader) optional(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) intIn(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, "must be an integer from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

func (r *reader) boolean(name string) bool {
	v := r.optional(name, "false")
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false, got %q", v)
	}
	return b
}

func (r *reader) level(name string) zapcore.Level {
	v := r.optional(name, DefaultLogLevel)
	l, err := zapcore.ParseLevel(strings.ToLower(v))
	if err != nil || l > zapcore.ErrorLevel {
		r.fail(name, "must be one of debug, info, warn, error, got %q", v)
		return zapcore.InfoLevel
	}
	return l
}
