// Package audit keeps the tracking audit trail in one DynamoDB table.
//
// Item types and keys (pk, sk):
//
//	audit row      TRK#<tracking_id>  EVT#<event_id>              one per (tracking_id, event_id)
//	latest status  TRK#<tracking_id>  LATEST                      newest event_time wins
//	conflict       TRK#<tracking_id>  CONFLICT#<event_id>#<hash>  one per distinct conflicting content
//	day counters   DAY#<yyyy-mm-dd>#<shard>  COUNTS               StatsShards write shards per day
//
// Audit rows also carry event_ts (<event time>#<event_id>), the sort key of
// the local secondary index by_event_time, which returns a trail in time order.
// Access patterns are documented in this package's README.md.
package audit

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Attribute and index names shared with the Terraform module.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrEventTS   = "event_ts"
	AttrExpiresAt = "expires_at"
	IndexByTime   = "by_event_time"
)

// StatsShards is how many counter items a day is spread over. DynamoDB takes
// at most 1,000 write units a second per partition; at 10,000 updates a second
// and 2 units per transactional write, 32 shards keep each key near 625.
const StatsShards = 32

// DayLayout names a UTC day in keys.
const DayLayout = "2006-01-02"

const (
	skLatest         = "LATEST"
	skCounts         = "COUNTS"
	prefixTrack      = "TRK#"
	prefixEvent      = "EVT#"
	prefixConflict   = "CONFLICT#"
	prefixDay        = "DAY#"
	attrStatusPrefix = "status_"
)

func trackPK(trackingID string) string { return prefixTrack + trackingID }
func eventSK(eventID string) string    { return prefixEvent + eventID }
func conflictSK(eventID, hash string) string {
	return prefixConflict + eventID + "#" + hash
}

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

// StatusCounter is the counter attribute of one status.
func StatusCounter(status string) string { return attrStatusPrefix + status }
