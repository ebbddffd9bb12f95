// Package audit keeps the tracking audit trail in one DynamoDB table.
//
// The audit row is the only commit point of an update: the processor writes
// it with one conditional PutItem, and everything else about the package is
// a projection of the table's stream (internal/projection), eventually
// consistent with the rows.
//
// Item types and keys (pk, sk):
//
//	audit row      TRK#<tracking_id>  EVT#<event_id>              one per (tracking_id, event_id); written by the processor
//	conflict       TRK#<tracking_id>  CONFLICT#<event_id>#<hash>  one per distinct conflicting content; processor
//	settled        MSG#<sqs_message_id>  SETTLED                  one per message counted without a row (duplicate, invalid); processor
//	latest status  TRK#<tracking_id>  LATEST                      newest event order wins; projector
//	day counters   DAY#<yyyy-mm-dd>  COUNTS#<stream shard id>     one per day and stream shard; projector
//	report         <kind>#<yyyy-mm-dd>  REPORT                    one per kind and day (maintenance)
//
// No item the processor writes is shared between packages or messages, so
// concurrent batches never contend. Latest statuses alone carry
// status_shard (<status>#<shard>), the partition key of the sparse global
// secondary index by_status, sorted by latest_order: the packages whose
// latest status is X, oldest first, in StatusIndexShards Queries, with no
// index partition taking more than 1/StatusIndexShards of a status's writes.
//
// The package is cut by concern: keys.go (every key and attribute format),
// items.go (item builders), record.go (the write path), dedupe.go
// (duplicates and conflicts), delivery.go (a message settled once, whatever
// SQS redelivers), projection.go (the writes of the projector), errors.go
// (error classes), rebuild.go (repairs from the rows), reads.go, reports.go.
package audit

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Attribute and index names shared with the Terraform module.
const (
	AttrPK          = "pk"
	AttrSK          = "sk"
	AttrExpiresAt   = "expires_at"
	AttrStatusShard = "status_shard"
	AttrLatestOrder = "latest_order"
	IndexByStatus   = "by_status"
)

// StatusIndexShards is how many partitions of the status index one status
// is spread over. A package stays in one shard (a hash of its tracking id).
const StatusIndexShards = 16

// DayLayout names a UTC day in keys.
const DayLayout = "2006-01-02"

// Sort keys and key prefixes the projector reads in stream records.
const (
	PrefixEvent    = prefixEvent
	PrefixConflict = prefixConflict
	SKSettled      = skSettled
)

// Sort keys and key prefixes.
const (
	skLatest       = "LATEST"
	prefixCounts   = "COUNTS#"
	skReport       = "REPORT"
	prefixTrack    = "TRK#"
	prefixEvent    = "EVT#"
	prefixConflict = "CONFLICT#"
	prefixDay      = "DAY#"
	prefixMessage  = "MSG#"
	skSettled      = "SETTLED"
)

// Attributes of audit rows, conflicts, settled messages and latest
// statuses. A row holds no attribute that repeats its key or its payload:
// the tracking id, event id, status and event time are read from them.
const (
	AttrPayload      = "payload"
	AttrPayloadHash  = "payload_hash"
	AttrMessageID    = "message_id"
	AttrSentAt       = "sent_at"
	AttrOutcome      = "outcome"
	attrOriginalHash = "original_payload_hash"
	attrReceivedAt   = "received_at"
	attrStatus       = "status"
	attrPrevStatus   = "previous_status"
	attrUpdatedAt    = "updated_at"
	attrHighWater    = "high_water_mark"
	attrReport       = "report"
	attrGeneratedAt  = "generated_at"
)

// Counters of a day; each status has its own (StatusCounter).
const (
	CounterTotal      = "total"
	CounterDuplicates = "duplicates"
	CounterConflicts  = "conflicts"
	CounterInvalid    = "invalid"
	attrStatusPrefix  = "status_"
)

// timeLayout writes every instant the store keeps (received, sent, updated).
const timeLayout = time.RFC3339Nano

func trackPK(trackingID string) string { return prefixTrack + trackingID }

// TrackingIDOf is the tracking id of a package item's partition key.
func TrackingIDOf(pk string) (string, bool) { return strings.CutPrefix(pk, prefixTrack) }
func eventSK(eventID string) string         { return prefixEvent + eventID }
func conflictSK(eventID, hash string) string {
	return prefixConflict + eventID + "#" + hash
}
func reportPK(kind, day string) string  { return kind + "#" + day }
func messagePK(messageID string) string { return prefixMessage + messageID }

// eventOrder ranks the events of one tracking id: by event time, then event
// id, so the order is total. It is the audit row's event_ts (the index's sort
// key) and the latest status's latest_order.
func eventOrder(eventTimeKey, eventID string) string { return eventTimeKey + "#" + eventID }

// splitOrder is the event time key and event id of an event order.
func splitOrder(order string) (eventTime, eventID string) {
	eventTime, eventID, _ = strings.Cut(order, "#") // an event time key holds no '#'
	return eventTime, eventID
}

// dayPK is the partition key of a day's counters.
func dayPK(day string) string { return prefixDay + day }

// countsSK is the sort key of the counters one stream shard added to a day.
func countsSK(streamShard string) string { return prefixCounts + streamShard }

// statusShard is a latest status's partition in the status index: packages
// spread evenly and deterministically over StatusIndexShards.
func statusShard(status, trackingID string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(trackingID)) // hash.Hash never returns an error
	return fmt.Sprintf("%s#%02d", status, h.Sum32()%StatusIndexShards)
}

// StatusCounter is the counter attribute of one status.
func StatusCounter(status string) string { return attrStatusPrefix + status }
