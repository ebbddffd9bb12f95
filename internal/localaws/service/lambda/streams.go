package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/dynamodb"
)

// Streams are the DynamoDB streams a mapping reads (the DynamoDB service's).
type Streams interface {
	StreamShard(arn string) (shard string, trimHorizon, latest uint64, ok bool)
	ReadStream(arn string, from uint64, limit int) ([]dynamodb.StreamRecord, bool)
}

// Metrics take the metrics Lambda publishes for mappings (IteratorAge).
type Metrics interface {
	Record(namespace, name string, dims map[string]string, value float64, unit string)
}

// isStream reports an event source that is a DynamoDB stream.
func isStream(arn string) bool {
	return strings.Contains(arn, ":dynamodb:") && strings.Contains(arn, "/stream/")
}

// streamSettings are the settings of a DynamoDB stream mapping ("Lambda
// parameters for Amazon DynamoDB event source mappings").
type streamSettings struct {
	StartingPosition           string
	BisectBatchOnFunctionError bool
	MaximumRetryAttempts       int // -1: until the records expire
	MaximumRecordAgeInSeconds  int // -1: until the records expire
	TumblingWindowInSeconds    int
	ParallelizationFactor      int
	OnFailure                  string // destination ARN, "" for none
}

type streamRequest struct {
	StartingPosition           *string
	BisectBatchOnFunctionError *bool
	MaximumRetryAttempts       *int
	MaximumRecordAgeInSeconds  *int
	TumblingWindowInSeconds    *int
	ParallelizationFactor      *int
	DestinationConfig          *struct {
		OnFailure *struct{ Destination string }
		OnSuccess *struct{ Destination string }
	}
}

func (st *streamSettings) apply(req streamRequest) {
	if req.StartingPosition != nil {
		st.StartingPosition = *req.StartingPosition
	}
	if req.BisectBatchOnFunctionError != nil {
		st.BisectBatchOnFunctionError = *req.BisectBatchOnFunctionError
	}
	if req.MaximumRetryAttempts != nil {
		st.MaximumRetryAttempts = *req.MaximumRetryAttempts
	}
	if req.MaximumRecordAgeInSeconds != nil {
		st.MaximumRecordAgeInSeconds = *req.MaximumRecordAgeInSeconds
	}
	if req.TumblingWindowInSeconds != nil {
		st.TumblingWindowInSeconds = *req.TumblingWindowInSeconds
	}
	if req.ParallelizationFactor != nil {
		st.ParallelizationFactor = *req.ParallelizationFactor
	}
	if req.DestinationConfig != nil && req.DestinationConfig.OnFailure != nil {
		st.OnFailure = req.DestinationConfig.OnFailure.Destination
	}
}

// document adds a stream mapping's settings to its description.
func (st *streamSettings) document(doc map[string]any) {
	doc["StartingPosition"] = st.StartingPosition
	doc["BisectBatchOnFunctionError"] = st.BisectBatchOnFunctionError
	doc["MaximumRetryAttempts"] = st.MaximumRetryAttempts
	doc["MaximumRecordAgeInSeconds"] = st.MaximumRecordAgeInSeconds
	doc["TumblingWindowInSeconds"] = st.TumblingWindowInSeconds
	doc["ParallelizationFactor"] = st.ParallelizationFactor
	dest := map[string]any{}
	if st.OnFailure != "" {
		dest["OnFailure"] = map[string]string{"Destination": st.OnFailure}
	}
	doc["DestinationConfig"] = dest
}

// streamRefusal is CreateEventSourceMapping's refusal of a stream
// mapping's settings, or "" ("Lambda parameters for Amazon DynamoDB event
// source mappings"; the ranges of API_CreateEventSourceMapping).
func streamRefusal(req streamRequest, m *mapping) (code, msg string) {
	const invalid = "InvalidParameterValueException"
	switch {
	case req.StartingPosition == nil:
		return invalid, "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null."
	case *req.StartingPosition == "AT_TIMESTAMP":
		return invalid, "Unsupported starting position for arn type: " + m.EventSourceArn
	case *req.StartingPosition != "TRIM_HORIZON" && *req.StartingPosition != "LATEST":
		return "ValidationException", "1 validation error detected: Value '" + *req.StartingPosition +
			"' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
	case req.DestinationConfig != nil && req.DestinationConfig.OnSuccess != nil:
		return invalid, "Unsupported DestinationConfig parameter for given event source mapping type."
	}
	st := m.stream
	for _, r := range []struct {
		member          string
		value, lo, hi   int
		minusOneAllowed bool
	}{
		{"batchSize", m.BatchSize, 1, 10000, false},
		{"maximumBatchingWindowInSeconds", m.WindowSeconds, 0, 300, false},
		{"maximumRetryAttempts", st.MaximumRetryAttempts, 0, 10000, true},
		// "The minimum valid value for maximum record age is 60s."
		{"maximumRecordAgeInSeconds", st.MaximumRecordAgeInSeconds, 60, 604800, true},
		{"tumblingWindowInSeconds", st.TumblingWindowInSeconds, 0, 900, false},
		{"parallelizationFactor", st.ParallelizationFactor, 1, 10, false},
	} {
		if inRange := r.value >= r.lo && r.value <= r.hi; !inRange && (!r.minusOneAllowed || r.value != -1) {
			return invalid, outOfRange(r.member, r.value, r.lo, r.hi)
		}
	}
	if st.OnFailure != "" && !strings.Contains(st.OnFailure, ":sqs:") && !strings.Contains(st.OnFailure, ":sns:") {
		return invalid, "The destination " + st.OnFailure + " is not an SQS queue or SNS topic (S3 destinations are not emulated)"
	}
	return "", ""
}

// streamActions are what a mapping does with the function's role: "Lambda
// needs the following permissions to manage resources related to your
// DynamoDB stream: dynamodb:DescribeStream, dynamodb:GetRecords,
// dynamodb:GetShardIterator, dynamodb:ListStreams" (Lambda Developer
// Guide, "Using AWS Lambda with Amazon DynamoDB").
var streamActions = []string{"GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"}

// roleMayReadStream checks, as CreateEventSourceMapping does, that the
// stream exists and the function's role may read it; it returns Lambda's
// refusal, or "".
func (s *Service) roleMayReadStream(ctx context.Context, function, arn string) string {
	if s.streams == nil {
		return "DynamoDB streams are not served by this local AWS"
	}
	if _, _, _, ok := s.streams.StreamShard(arn); !ok {
		return "Stream not found: " + arn
	}
	session := s.sessionOf(awsapi.FunctionName(function)).arn
	if s.access == nil || session == "" {
		return ""
	}
	for _, op := range streamActions {
		resource := arn
		if table, _, found := strings.Cut(arn, "/stream/"); found && op == "ListStreams" { // on the table's streams
			resource = table + "/stream/*"
		}
		if err := s.access.RoleMayAct(ctx, session, "dynamodb", "dynamodb:"+op, resource); err != nil {
			s.log.Warn("event source mapping refused", zap.String("function", function), zap.String("stream", arn), zap.Error(err))
			return "Cannot access stream " + arn + ". Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
		}
	}
	return ""
}

// eventRecord is a stream record as Lambda passes it to the function:
// with its eventSourceARN, and userIdentity's fields in lower case.
func eventRecord(r dynamodb.StreamRecord, arn string) map[string]any {
	rec := make(map[string]any, len(r.Record)+1)
	for k, v := range r.Record {
		rec[k] = v
	}
	rec["eventSourceARN"] = arn
	if id, ok := rec["userIdentity"].(map[string]string); ok {
		rec["userIdentity"] = map[string]string{"type": id["Type"], "principalId": id["PrincipalId"]}
	}
	return rec
}

// streamEvent is a batch as the function receives it: each record with
// its eventSourceARN and, for a TTL delete, userIdentity as Lambda writes
// it (lower-case fields), plus a tumbling window's fields.
func streamEvent(batch []dynamodb.StreamRecord, arn string, window *windowState, final bool, shard string) ([]byte, error) {
	records := make([]map[string]any, len(batch))
	for i, r := range batch {
		records[i] = eventRecord(r, arn)
	}
	ev := map[string]any{"Records": records}
	if window != nil {
		ev["window"] = map[string]string{"start": window.start.UTC().Format("2006-01-02T15:04:05Z"), "end": window.end.UTC().Format("2006-01-02T15:04:05Z")}
		ev["state"] = window.state
		ev["shardId"] = shard
		ev["eventSourceARN"] = arn
		ev["isFinalInvokeForWindow"] = final
		ev["isWindowTerminatedEarly"] = false
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("stream event: %w", err)
	}
	return b, nil
}
