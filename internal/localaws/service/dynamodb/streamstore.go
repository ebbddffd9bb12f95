package dynamodb

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// Stream rules (DynamoDB Developer Guide, "Change data capture for
// DynamoDB Streams"):
//   - "Each stream record appears exactly once in the stream" and "for each
//     item that is modified in a DynamoDB table, the stream records appear
//     in the same sequence as the actual modifications to the item";
//   - a write that does not change the item writes no record ("If you
//     perform a PutItem or UpdateItem operation that does not change any
//     data in an item, DynamoDB Streams does not write a stream record");
//   - "All data in DynamoDB Streams is subject to a 24-hour lifetime";
//   - disabling a stream leaves it readable for 24 hours; enabling again
//     makes a new stream, with a new label.
const streamRetention = 24 * time.Hour

// View types: what a record carries of the item (StreamSpecification).
const (
	viewKeysOnly = "KEYS_ONLY"
	viewNew      = "NEW_IMAGE"
	viewOld      = "OLD_IMAGE"
	viewBoth     = "NEW_AND_OLD_IMAGES"
)

// streamRecord is one change of one item.
type streamRecord struct {
	Seq       uint64
	At        time.Time
	EventName string // INSERT, MODIFY, REMOVE
	Keys      item
	Old, New  item
	ByTTL     bool // deleted by Time to Live: the service's userIdentity
}

// stream is one table's stream: one shard, records in sequence order.
type stream struct {
	ARN, Label, Table, ViewType string
	KeySchema                   []keyElement
	Created                     time.Time
	ShardID                     string
	Disabled                    time.Time // zero while enabled

	records     []streamRecord
	trimmedUpTo uint64 // the last sequence number trimmed
}

// streams holds every table's streams.
type streams struct {
	mu      sync.Mutex
	byARN   map[string]*stream
	byTable map[string]*stream // the enabled stream of a table
	seq     uint64             // last sequence number given, for all shards
	now     func() time.Time
}

func newStreams(now func() time.Time) *streams {
	return &streams{byARN: map[string]*stream{}, byTable: map[string]*stream{}, now: now}
}

// enable makes a new stream for table; an enabled one is refused as
// DynamoDB refuses it.
func (ss *streams) enable(region, table, view string, keys []keyElement) (*stream, error) {
	switch view {
	case viewKeysOnly, viewNew, viewOld, viewBoth:
	default:
		return nil, fmt.Errorf("1 validation error detected: Value '%s' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", view)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byTable[table] != nil {
		return nil, fmt.Errorf("Table already has an enabled stream: TableName: %s", table) //nolint:staticcheck // DynamoDB's message
	}
	now := ss.now().UTC()
	label := now.Format("2006-01-02T15:04:05.000")
	for ss.byARN[streamARN(region, table, label)] != nil { // two streams in one millisecond
		now = now.Add(time.Millisecond)
		label = now.Format("2006-01-02T15:04:05.000")
	}
	st := &stream{
		ARN: streamARN(region, table, label), Label: label, Table: table, ViewType: view, KeySchema: keys, Created: now,
		ShardID: fmt.Sprintf("shardId-%020d-%08x", now.UnixMilli(), now.Nanosecond()),
	}
	ss.byARN[st.ARN] = st
	ss.byTable[table] = st
	return st, nil
}

// disable closes table's enabled stream, if any: it stays readable for
// 24 hours. It reports whether there was one.
func (ss *streams) disable(table string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := ss.byTable[table]
	if st == nil {
		return false
	}
	st.Disabled = ss.now()
	delete(ss.byTable, table)
	return true
}

// enabled returns table's enabled stream, or nil.
func (ss *streams) enabled(table string) *stream {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byTable[table]
}

// emit records the change of one item from old to new (nil: none) on the
// table's enabled stream; no change, no record. Callers hold the item's
// lock, so one item's records are in the order of its writes.
func (ss *streams) emit(t *schema, old, new item, byTTL bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := ss.byTable[t.Name]
	if st == nil || (old == nil && new == nil) || (old != nil && new != nil && equalItems(old, new)) {
		return
	}
	name, keysOf := "MODIFY", new
	switch {
	case old == nil:
		name = "INSERT"
	case new == nil:
		name, keysOf = "REMOVE", old
	}
	ss.seq++
	now := ss.now()
	st.trim(now)
	st.records = append(st.records, streamRecord{Seq: ss.seq, At: now, EventName: name, Keys: t.keyOf(keysOf), Old: old, New: new, ByTTL: byTTL})
}

// trim drops the records past the retention period.
func (st *stream) trim(now time.Time) {
	i := 0
	for i < len(st.records) && now.Sub(st.records[i].At) > streamRetention {
		i++
	}
	if i > 0 {
		st.trimmedUpTo = st.records[i-1].Seq
		st.records = append([]streamRecord(nil), st.records[i:]...)
	}
}

// expired reports a stream disabled more than 24 hours ago (gone).
func (st *stream) expired(now time.Time) bool {
	return !st.Disabled.IsZero() && now.Sub(st.Disabled) > streamRetention
}

func streamARN(region, table, label string) string {
	return "arn:aws:dynamodb:" + region + ":" + awsapi.Account + ":table/" + table + "/stream/" + label
}

// Sequence numbers are decimal strings of 21 digits that increase with
// each record ("Each stream record is assigned a sequence number,
// reflecting the order in which the record was published to the stream").
func formatSeq(n uint64) string { return "1" + fmt.Sprintf("%020d", n) }

func parseSeq(s string) (uint64, bool) {
	if len(s) != 21 || s[0] != '1' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 10, 64)
	return n, err == nil
}

// wire is a record as GetRecords answers it (API_streams_Record): the
// images its stream's view type carries.
func (st *stream) wire(r streamRecord, region string) map[string]any {
	ddb := map[string]any{
		"ApproximateCreationDateTime": float64(r.At.Unix()),
		"Keys":                        r.Keys,
		"SequenceNumber":              formatSeq(r.Seq),
		"StreamViewType":              st.ViewType,
	}
	size := itemSize(r.Keys)
	if r.New != nil && (st.ViewType == viewNew || st.ViewType == viewBoth) {
		ddb["NewImage"] = r.New
		size += itemSize(r.New)
	}
	if r.Old != nil && (st.ViewType == viewOld || st.ViewType == viewBoth) {
		ddb["OldImage"] = r.Old
		size += itemSize(r.Old)
	}
	ddb["SizeBytes"] = size
	out := map[string]any{
		"eventID":      fmt.Sprintf("%032x", r.Seq),
		"eventName":    r.EventName,
		"eventVersion": "1.1",
		"eventSource":  "aws:dynamodb",
		"awsRegion":    region,
		"dynamodb":     ddb,
	}
	if r.ByTTL {
		// "userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}
		// (Developer Guide, "DynamoDB Streams and Time to Live"); the
		// Streams API names the fields PrincipalId and Type (API_streams_Identity).
		out["userIdentity"] = map[string]string{"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
	}
	return out
}

// StreamRecord is one record as a Lambda event source mapping reads it.
type StreamRecord struct {
	Seq    uint64
	At     time.Time
	Record map[string]any // the record as GetRecords answers it
}

// StreamShard is the shard of the stream arn and its sequence numbers: the
// first still held (the trim horizon) and the next to be given (LATEST).
// ok is false when there is no such stream.
func (s *Service) StreamShard(arn string) (shard string, trimHorizon, latest uint64, ok bool) {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	st := s.streams.byARN[arn]
	if st == nil || st.expired(s.clock()) {
		return "", 0, 0, false
	}
	st.trim(s.clock())
	return st.ShardID, s.firstSeq(st), s.streams.seq + 1, true
}

// ReadStream returns up to limit records of the stream arn from sequence
// number from on (records trimmed since are skipped, as a reader past
// the trim horizon loses them), and ok false when the stream is gone.
func (s *Service) ReadStream(arn string, from uint64, limit int) ([]StreamRecord, bool) {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	st := s.streams.byARN[arn]
	if st == nil || st.expired(s.clock()) {
		return nil, false
	}
	st.trim(s.clock())
	var out []StreamRecord
	for _, rec := range st.records {
		if rec.Seq < from {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, StreamRecord{Seq: rec.Seq, At: rec.At, Record: st.wire(rec, s.region)})
	}
	return out, true
}

// FormatSequenceNumber writes a sequence number as the stream does.
func FormatSequenceNumber(n uint64) string { return formatSeq(n) }

// ParseSequenceNumber reads one.
func ParseSequenceNumber(s string) (uint64, bool) { return parseSeq(s) }
