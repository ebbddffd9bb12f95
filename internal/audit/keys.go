// Package audit keeps the tracking audit trail in one DynamoDB table.
//
// Item types and keys (pk, sk):
//
//	audit row      TRK#<tracking_id>  EVT#<event_id>              one per (tracking_id, event_id)
//	latest status  TRK#<tracking_id>  LATEST                      newest event order wins
//	conflict       TRK#<tracking_id>  CONFLICT#<event_id>#<hash>  one per distinct conflicting content
//	day counters   DAY#<yyyy-mm-dd>#<shard>  COUNTS               StatsShards write shards per day
//	report         <kind>#<yyyy-mm-dd>  REPORT                    one per kind and day (maintenance)
//	settled        MSG#<sqs_message_id>  SETTLED                  one per message counted without a row (duplicate, invalid)
//
// Audit rows also carry event_ts (the event order, <event time>#<event_id>),
// the sort key of the local secondary index by_event_time, which returns a
// trail in time order. Latest statuses alone carry status_shard
// (<status>#<shard>), the partition key of the sparse global secondary
// index by_status, sorted by latest_order: the packages whose latest status
// is X, oldest first, in StatusIndexShards Queries, with no index partition
// taking more than 1/StatusIndexShards of a status's writes.
//
// The package is cut by concern: keys.go (every key and attribute format),
// items.go (item and update builders), record.go (the write path),
// dedupe.go (duplicates and conflicts), delivery.go (a message settled
// once, whatever SQS redelivers), retry.go (transaction-conflict
// backoff and error classes), reads.go, reports.go.
package audit

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Attribute and index names shared with the Terraform module.
const (
	AttrPK          = "pk"
	AttrSK          = "sk"
	AttrEventTS     = "event_ts"
	AttrExpiresAt   = "expires_at"
	AttrStatusShard = "status_shard"
	AttrLatestOrder = "latest_order"
	IndexByTime     = "by_event_time"
	IndexByStatus   = "by_status"
)

// StatusIndexShards is how many partitions of the status index one status
// is spread over. A package stays in one shard (a hash of its tracking id).
const StatusIndexShards = 16

// StatsShards is how many counter items a day is spread over. DynamoDB takes
// at most 1,000 write units a second per partition; at 10,000 updates a second
// and 2 units per transactional write, 32 shards keep each key near 625.
const StatsShards = 32

// DayLayout names a UTC day in keys.
const DayLayout = "2006-01-02"

// Sort keys and key prefixes.
const (
	skLatest       = "LATEST"
	skCounts       = "COUNTS"
	skReport       = "REPORT"
	prefixTrack    = "TRK#"
	prefixEvent    = "EVT#"
	prefixConflict = "CONFLICT#"
	prefixDay      = "DAY#"
	prefixMessage  = "MSG#"
	skSettled      = "SETTLED"
)

// Attributes of audit rows, conflicts and latest statuses.
const (
	attrTrackingID     = "tracking_id"
	attrEventID        = "event_id"
	attrEventIDDerived = "event_id_derived"
	attrStatus         = "status"
	attrEventTime      = "event_time"
	attrCarrier        = "carrier"
	attrExtraFields    = "extra_fields"
	attrPayload        = "payload"
	attrPayloadHash    = "payload_hash"
	attrOriginalHash   = "original_payload_hash"
	attrMessageID      = "message_id"
	attrReceivedAt     = "received_at"
	attrSentAt         = "sent_at"
	attrUpdatedAt      = "updated_at"
	attrReport         = "report"
	attrGeneratedAt    = "generated_at"
	attrOutcome        = "outcome"
)

// Counters of a day's shard; each status has its own (StatusCounter).
const (
	counterTotal      = "total"
	counterDuplicates = "duplicates"
	counterConflicts  = "conflicts"
	counterInvalid    = "invalid"
	attrStatusPrefix  = "status_"
)

// timeLayout writes every instant the store keeps (received, sent, updated).
const timeLayout = time.RFC3339Nano

func trackPK(trackingID string) string { return prefixTrack + trackingID }
func eventSK(eventID string) string    { return prefixEvent + eventID }
func conflictSK(eventID, hash string) string {
	return prefixConflict + eventID + "#" + hash
}
func reportPK(kind, day string) string  { return kind + "#" + day }
func messagePK(messageID string) string { return prefixMessage + messageID }

// eventOrder ranks the events of one tracking id: by event time, then event
// id, so the order is total. It is the audit row's event_ts (the index's sort
// key) and the latest status's latest_order.
func eventOrder(eventTimeKey, eventID string) string { return eventTimeKey + "#" + eventID }

// DayPK is the partition key of one write shard of a day's counters.
func DayPK(day time.Time, shard int) string {
	return fmt.Sprintf("%s%s#%02d", prefixDay, day.UTC().Format(DayLayout), shard)
}

// shardOf spreads keys evenly and deterministically over the day's shards.
func shardOf(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key)) // hash.Hash never returns an error
	return int(h.Sum32() % StatsShards)
}

// statusShard is a latest status's partition in the status index.
func statusShard(status, trackingID string) string {
	return fmt.Sprintf("%s#%02d", status, shardOf(trackingID)%StatusIndexShards)
}

// StatusCounter is the counter attribute of one status.
func StatusCounter(status string) string { return attrStatusPrefix + status }
