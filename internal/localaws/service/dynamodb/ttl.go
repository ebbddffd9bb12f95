package dynamodb

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// The layer owns Time to Live, so that its deletes reach the table's
// stream as DynamoDB's own (kumo's reaper deletes in silence):
//   - an item whose TTL attribute is a Number of epoch seconds in the past
//     is deleted, "typically within a few days" ("How TTL works"); here
//     within ttlSweep;
//   - "Items with a TTL attribute value more than five years in the past
//     are not deleted";
//   - the delete is free ("deleting items via TTL ... does not consume
//     capacity") and its stream record carries "userIdentity":{"type":
//     "Service","principalId":"dynamodb.amazonaws.com"} ("DynamoDB Streams
//     and Time to Live").
const (
	ttlSweep     = 30 * time.Second
	ttlMaxPast   = 5 * 365 * 24 * time.Hour
	ttlScanLimit = 1000
)

type ttlSpec struct {
	Enabled       bool
	AttributeName string
}

func (s *Service) updateTimeToLive(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TableName               string
		TimeToLiveSpecification ttlSpec
	}
	if !readJSON(w, r, &req) {
		return
	}
	if s.schemaFor(r.Context(), req.TableName) == nil {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+req.TableName+" not found")
		return
	}
	if req.TimeToLiveSpecification.AttributeName == "" {
		writeValidation(w, r, "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
		return
	}
	s.mu.Lock()
	s.ttl[req.TableName] = req.TimeToLiveSpecification
	s.mu.Unlock()
	writeDDB(w, map[string]any{"TimeToLiveSpecification": req.TimeToLiveSpecification})
}

func (s *Service) describeTimeToLive(w http.ResponseWriter, r *http.Request) {
	var req struct{ TableName string }
	if !readJSON(w, r, &req) {
		return
	}
	if s.schemaFor(r.Context(), req.TableName) == nil {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+req.TableName+" not found")
		return
	}
	s.mu.Lock()
	spec := s.ttl[req.TableName]
	s.mu.Unlock()
	desc := map[string]string{"TimeToLiveStatus": "DISABLED"}
	if spec.Enabled {
		desc = map[string]string{"TimeToLiveStatus": "ENABLED", "AttributeName": spec.AttributeName}
	}
	writeDDB(w, map[string]any{"TimeToLiveDescription": desc})
}

// sweepTTL deletes every expired item of the tables with TTL on.
func (s *Service) sweepTTL(ctx context.Context, now time.Time) {
	s.mu.Lock()
	tables := map[string]string{}
	for table, spec := range s.ttl {
		if spec.Enabled {
			tables[table] = spec.AttributeName
		}
	}
	s.mu.Unlock()
	for _, table := range sortedKeys(tables) {
		t := s.schemaFor(ctx, table)
		if t == nil {
			continue
		}
		for _, key := range s.expiredKeys(ctx, t, tables[table], now) {
			s.expire(ctx, t, key, tables[table], now)
		}
	}
}

// expiredKeys are the keys of t's items expired at now.
func (s *Service) expiredKeys(ctx context.Context, t *schema, attr string, now time.Time) []item {
	var keys []item
	var start item
	for {
		in := map[string]any{"TableName": t.Name, "Limit": ttlScanLimit}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		req, _ := json.Marshal(in)
		status, out, err := s.kumo.Call(ctx, "DynamoDB_20120810.Scan", req)
		if err != nil || status != http.StatusOK {
			return keys
		}
		var page struct {
			Items            []item
			LastEvaluatedKey item
		}
		if json.Unmarshal(out, &page) != nil {
			return keys
		}
		for _, it := range page.Items {
			if expired(it, attr, now) {
				keys = append(keys, t.keyOf(it))
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return keys
		}
		start = page.LastEvaluatedKey
	}
}

// expire deletes one expired item, if it still is, and records it on the
// stream as the service's delete.
func (s *Service) expire(ctx context.Context, t *schema, key item, attr string, now time.Time) {
	defer s.locks.lock([]string{lockKey(t.Name, key)})()
	old := s.current(ctx, t.Name, key)
	if old == nil || !expired(old, attr, now) {
		return
	}
	req, _ := json.Marshal(map[string]any{"TableName": t.Name, "Key": key})
	if status, _, err := s.kumo.Call(ctx, "DynamoDB_20120810.DeleteItem", req); err != nil || status != http.StatusOK {
		return
	}
	s.streams.emit(t, old, nil, true)
}

// expired reports whether it's TTL attribute is a Number of epoch seconds
// at or before now and not more than five years before it.
func expired(it item, attr string, now time.Time) bool {
	var v struct{ N *string }
	if json.Unmarshal(it[attr], &v) != nil || v.N == nil {
		return false
	}
	sec, err := strconv.ParseFloat(*v.N, 64)
	if err != nil {
		return false
	}
	at := time.Unix(int64(sec), 0)
	return !at.After(now) && now.Sub(at) <= ttlMaxPast
}
