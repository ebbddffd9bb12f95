package dynamodb

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// iteratorLifetime: "A shard iterator expires 15 minutes after it is
// returned to the requester" (DynamoDB Streams API, GetShardIterator).
const iteratorLifetime = 15 * time.Minute

// maxGetRecords: GetRecords' Limit, "The maximum number of records to
// return ... The upper limit is 1000."
const maxGetRecords = 1000

// registerStreams adds the DynamoDB Streams API, which the layer owns.
func (s *Service) registerStreams(r *awsapi.Router) {
	const target = "DynamoDBStreams_20120810"
	r.Target(target, "ListStreams", s.listStreams)
	r.Target(target, "DescribeStream", s.describeStream)
	r.Target(target, "GetShardIterator", s.getShardIterator)
	r.Target(target, "GetRecords", s.getRecords)
}

// iterator is what a shard iterator stands for: the next record to read.
type iterator struct {
	ARN    string `json:"a"`
	Shard  string `json:"s"`
	From   uint64 `json:"f"` // the first sequence number it may return
	Issued int64  `json:"t"` // unix nanoseconds on the local AWS's clock
}

func (it iterator) encode() string {
	b, _ := json.Marshal(it)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeIterator(s string) (iterator, bool) {
	var it iterator
	b, err := base64.RawURLEncoding.DecodeString(s)
	return it, err == nil && json.Unmarshal(b, &it) == nil && it.ARN != ""
}

func (s *Service) listStreams(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TableName               string
		Limit                   int
		ExclusiveStartStreamArn string
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Limit == 0 {
		req.Limit = 100
	}
	if req.Limit < 1 || req.Limit > 100 {
		writeValidation(w, r, "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value between 1 and 100")
		return
	}
	now := s.clock()
	s.streams.mu.Lock()
	var list []*stream
	for _, st := range s.streams.byARN {
		if !st.expired(now) && (req.TableName == "" || st.Table == req.TableName) {
			list = append(list, st)
		}
	}
	s.streams.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ARN < list[j].ARN })
	out := []map[string]string{}
	last := ""
	for _, st := range list {
		if req.ExclusiveStartStreamArn != "" && st.ARN <= req.ExclusiveStartStreamArn {
			continue
		}
		if len(out) == req.Limit {
			break
		}
		out = append(out, map[string]string{"StreamArn": st.ARN, "TableName": st.Table, "StreamLabel": st.Label})
		last = st.ARN
	}
	resp := map[string]any{"Streams": out}
	if len(out) == req.Limit && last != list[len(list)-1].ARN {
		resp["LastEvaluatedStreamArn"] = last
	}
	writeDDB(w, resp)
}

func (s *Service) describeStream(w http.ResponseWriter, r *http.Request) {
	var req struct{ StreamArn string }
	if !readJSON(w, r, &req) {
		return
	}
	st := s.streamByARN(w, r, req.StreamArn)
	if st == nil {
		return
	}
	s.streams.mu.Lock()
	shard := map[string]any{"ShardId": st.ShardID}
	rng := map[string]string{"StartingSequenceNumber": formatSeq(s.firstSeq(st))}
	if !st.Disabled.IsZero() {
		rng["EndingSequenceNumber"] = formatSeq(s.lastSeq(st))
	}
	shard["SequenceNumberRange"] = rng
	status := "ENABLED"
	if !st.Disabled.IsZero() {
		status = "DISABLED"
	}
	desc := map[string]any{
		"StreamArn": st.ARN, "StreamLabel": st.Label, "StreamStatus": status, "StreamViewType": st.ViewType,
		"TableName": st.Table, "KeySchema": st.KeySchema, "CreationRequestDateTime": float64(st.Created.UnixMilli()) / 1000,
		"Shards": []any{shard},
	}
	s.streams.mu.Unlock()
	writeDDB(w, map[string]any{"StreamDescription": desc})
}

func (s *Service) getShardIterator(w http.ResponseWriter, r *http.Request) {
	var req struct {
		StreamArn, ShardId, ShardIteratorType, SequenceNumber string //nolint:revive // the API's field names
	}
	if !readJSON(w, r, &req) {
		return
	}
	st := s.streamByARN(w, r, req.StreamArn)
	if st == nil {
		return
	}
	if req.ShardId != st.ShardID {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Shard does not exist")
		return
	}
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	st.trim(s.clock())
	it := iterator{ARN: st.ARN, Shard: st.ShardID, Issued: s.clock().UnixNano()}
	switch req.ShardIteratorType {
	case "TRIM_HORIZON":
		it.From = s.firstSeq(st)
	case "LATEST":
		it.From = s.streams.seq + 1
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		n, ok := parseSeq(req.SequenceNumber)
		if !ok {
			writeValidation(w, r, "Invalid SequenceNumber for ShardIteratorType "+req.ShardIteratorType+": "+req.SequenceNumber)
			return
		}
		if n < s.firstSeq(st) {
			// "The operation attempted to read past the oldest stream record
			// in a shard" (TrimmedDataAccessException).
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "TrimmedDataAccessException", "The data you are trying to access has been trimmed.")
			return
		}
		it.From = n
		if req.ShardIteratorType == "AFTER_SEQUENCE_NUMBER" {
			it.From = n + 1
		}
	default:
		writeValidation(w, r, "1 validation error detected: Value '"+req.ShardIteratorType+"' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]")
		return
	}
	writeDDB(w, map[string]string{"ShardIterator": it.encode()})
}

func (s *Service) getRecords(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ShardIterator string
		Limit         int
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Limit == 0 {
		req.Limit = maxGetRecords
	}
	switch {
	case req.Limit > maxGetRecords:
		// LimitExceededException: "GetRecords was called with a value of
		// more than 1000 for the limit request parameter."
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "LimitExceededException", "Limit must be at most 1000")
		return
	case req.Limit < 1:
		writeValidation(w, r, "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
		return
	}
	it, ok := decodeIterator(req.ShardIterator)
	if !ok {
		writeValidation(w, r, "Invalid ShardIterator")
		return
	}
	now := s.clock()
	if now.Sub(time.Unix(0, it.Issued)) > iteratorLifetime {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed.")
		return
	}
	st := s.streamByARN(w, r, it.ARN)
	if st == nil {
		return
	}
	records, next, closed, trimmed := s.read(st, it.From, req.Limit, now)
	if trimmed {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "TrimmedDataAccessException", "The data you are trying to access has been trimmed.")
		return
	}
	out := map[string]any{"Records": records}
	if !closed {
		it.From, it.Issued = next, now.UnixNano()
		out["NextShardIterator"] = it.encode()
	}
	writeDDB(w, out)
}

// read returns up to limit records of st from sequence number from, the
// next sequence number to read, whether the shard is closed and read to
// its end, and whether from is past the trim horizon.
func (s *Service) read(st *stream, from uint64, limit int, now time.Time) ([]map[string]any, uint64, bool, bool) {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	st.trim(now)
	if from <= st.trimmedUpTo {
		return nil, 0, false, true
	}
	out := []map[string]any{}
	next := from
	for _, rec := range st.records {
		if rec.Seq < from {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, st.wire(rec, s.region))
		next = rec.Seq + 1
	}
	closed := !st.Disabled.IsZero() && (len(st.records) == 0 || next > st.records[len(st.records)-1].Seq)
	return out, next, closed, false
}

// firstSeq is the first sequence number st can still return; lastSeq the
// last it gave. Callers hold streams.mu.
func (s *Service) firstSeq(st *stream) uint64 {
	if len(st.records) > 0 {
		return st.records[0].Seq
	}
	return st.trimmedUpTo + 1
}

func (s *Service) lastSeq(st *stream) uint64 {
	if len(st.records) > 0 {
		return st.records[len(st.records)-1].Seq
	}
	return st.trimmedUpTo
}

// streamByARN returns the stream arn names, or answers ResourceNotFoundException.
func (s *Service) streamByARN(w http.ResponseWriter, r *http.Request, arn string) *stream {
	s.streams.mu.Lock()
	st := s.streams.byARN[arn]
	s.streams.mu.Unlock()
	if st == nil || st.expired(s.clock()) {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Stream: "+arn+" not found")
		return nil
	}
	return st
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "SerializationException", strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	return true
}

func writeValidation(w http.ResponseWriter, r *http.Request, msg string) {
	awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException", msg)
}

// writeDDB answers v with the CRC32 header DynamoDB's SDK checks.
func writeDDB(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		awsapi.WriteError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	h := http.Header{"Content-Type": {"application/x-amz-json-1.0"}}
	relayDDB(w, http.StatusOK, h, body)
}
