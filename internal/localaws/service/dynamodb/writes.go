package dynamodb

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// writeOp is a single-item write.
type writeOp int

const (
	opPut writeOp = iota
	opUpdate
	opDelete
)

type itemRequest struct {
	TableName                           string
	Item, Key                           item
	ReturnConsumedCapacity              string
	ReturnValuesOnConditionCheckFailure string
}

// applied detaches a write from its caller: a write DynamoDB has received
// is done, and its stream record written, whether or not the caller is
// still there for the answer (a function killed mid-call). Without this a
// write kumo applied as the caller went away would have no stream record.
func applied(r *http.Request) *http.Request { return r.WithContext(context.WithoutCancel(r.Context())) }

// writeItem lets kumo run a PutItem, UpdateItem or DeleteItem and counts
// what it consumed: the item is read before and after the write, under the
// item's lock, and its capacity is answered (ReturnConsumedCapacity) and
// published as AWS/DynamoDB metrics.
func (s *Service) writeItem(op writeOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = applied(r)
		var req itemRequest
		body, ok := s.readRequest(w, r, &req)
		if !ok {
			return
		}
		t := s.schemaFor(r.Context(), req.TableName)
		if t == nil {
			s.relay(w, r, body)
			return
		}
		key := req.Key
		if op == opPut {
			key = t.keyOf(req.Item)
		}
		olds, unlock := s.lockAndRead(r.Context(), []itemRef{{t.Name, key}})
		defer unlock()
		old := olds[0]
		body = fixedWidthPlaceholders(body)
		if op == opUpdate {
			bound, err := bindSetOperands(body, old)
			if err != nil {
				awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException", err.Error())
				return
			}
			body = bound
		}
		status, h, out, ok := s.kumo.Exchange(w, r, body)
		if !ok {
			return
		}
		var proposed item
		if op == opPut {
			proposed = req.Item
		}
		switch {
		case status < 300:
			var now item
			switch op {
			case opPut:
				now = req.Item
			case opUpdate:
				now = s.current(r.Context(), t.Name, key)
			}
			c := writeCost(t, old, now, false)
			s.publish(c)
			s.streams.emit(t, old, now, false)
			out = withConsumed(out, req.ReturnConsumedCapacity, single, c)
		case errorCode(out) == "ConditionalCheckFailedException":
			// "you don't receive any information in the response about
			// the write capacity that was consumed. However, you can view
			// the ConsumedWriteCapacityUnits metric" (Developer Guide,
			// "Conditional writes").
			s.publish(failedWriteCost(t, old, proposed, false))
			if req.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
				out = withOldItem(out, old)
			}
		}
		relayDDB(w, status, h, out)
	}
}

type transactWriteRequest struct {
	TransactItems []struct {
		Put                            *itemRequest
		Update, Delete, ConditionCheck *itemRequest
	}
	ReturnConsumedCapacity string
}

// transactWriteItems counts a transaction: each item written costs double
// ("DynamoDB performs two underlying reads or writes of every item in the
// transaction: one to prepare the transaction and one to commit the
// transaction", Developer Guide, "Capacity management for transactions"),
// a ConditionCheck costs as a write of the item it checks. A cancelled
// transaction answers no ConsumedCapacity; the layer counts its prepare
// phase, the one underlying write of each item that was done.
func (s *Service) transactWriteItems(w http.ResponseWriter, r *http.Request) {
	r = applied(r)
	var req transactWriteRequest
	body, ok := s.readRequest(w, r, &req)
	if !ok {
		return
	}
	type action struct {
		t      *schema
		key    item
		put    item // Put's item
		delete bool
		check  bool
		allOld bool // ReturnValuesOnConditionCheckFailure ALL_OLD
		old    item
	}
	actions := make([]action, 0, len(req.TransactItems))
	for _, ti := range req.TransactItems {
		var a action
		var one *itemRequest
		switch {
		case ti.Put != nil:
			one, a.put = ti.Put, ti.Put.Item
		case ti.Update != nil:
			one, a.key = ti.Update, ti.Update.Key
		case ti.Delete != nil:
			one, a.key, a.delete = ti.Delete, ti.Delete.Key, true
		case ti.ConditionCheck != nil:
			one, a.key, a.check = ti.ConditionCheck, ti.ConditionCheck.Key, true
		default:
			one = &itemRequest{}
		}
		table := one.TableName
		a.allOld = one.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
		if a.t = s.schemaFor(r.Context(), table); a.t == nil {
			s.relay(w, r, body) // kumo refuses the transaction
			return
		}
		if a.put != nil {
			a.key = a.t.keyOf(a.put)
		}
		actions = append(actions, a)
	}
	refs := make([]itemRef, len(actions))
	for i, a := range actions {
		refs[i] = itemRef{a.t.Name, a.key}
	}
	olds, unlock := s.lockAndRead(r.Context(), refs)
	defer unlock()
	for i := range actions {
		actions[i].old = olds[i]
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	var costs []consumed
	switch {
	case status < 300:
		// "each item in the transaction" is one record (the stream sees
		// the transaction's writes, none of its condition checks).
		// Only an update's new item is unknown until kumo applied it.
		var updates []itemRef
		for i, a := range actions {
			if a.put == nil && !a.delete && !a.check {
				updates = append(updates, refs[i])
			}
		}
		after := s.currentMany(r.Context(), updates)
		updated := make(map[string]item, len(updates))
		for i, ref := range updates {
			updated[lockKey(ref.table, ref.key)] = after[i]
		}
		for i, a := range actions {
			var now item
			switch {
			case a.check:
				costs = addCost(costs, failedWriteCost(a.t, a.old, nil, true))
				continue
			case a.put != nil:
				now = a.put
			case !a.delete:
				now = updated[lockKey(refs[i].table, refs[i].key)]
			}
			costs = addCost(costs, writeCost(a.t, a.old, now, true))
			s.streams.emit(a.t, a.old, now, false)
		}
		out = withConsumed(out, req.ReturnConsumedCapacity, transaction, costs...)
	case errorCode(out) == "TransactionCanceledException":
		olds := make([]item, len(actions))
		for i, a := range actions {
			costs = addCost(costs, failedWriteCost(a.t, a.old, a.put, false))
			if a.allOld {
				olds[i] = a.old
			}
		}
		out = withCancellationItems(out, olds)
	}
	s.publish(costs...)
	relayDDB(w, status, h, out)
}

type batchWriteRequest struct {
	RequestItems map[string][]struct {
		PutRequest    *struct{ Item item }
		DeleteRequest *struct{ Key item }
	}
	ReturnConsumedCapacity string
}

// batchWriteItem counts a batch: "DynamoDB processes each item in the batch
// as an individual PutItem or DeleteItem request" (Developer Guide,
// "DynamoDB read/write capacity mode"); unprocessed items cost nothing.
func (s *Service) batchWriteItem(w http.ResponseWriter, r *http.Request) {
	r = applied(r)
	var req batchWriteRequest
	body, ok := s.readRequest(w, r, &req)
	if !ok {
		return
	}
	type write struct {
		t        *schema
		key, put item
		old      item
	}
	var writes []write
	for _, table := range sortedKeys(req.RequestItems) {
		t := s.schemaFor(r.Context(), table)
		if t == nil {
			s.relay(w, r, body)
			return
		}
		for _, wr := range req.RequestItems[table] {
			switch {
			case wr.PutRequest != nil:
				writes = append(writes, write{t: t, key: t.keyOf(wr.PutRequest.Item), put: wr.PutRequest.Item})
			case wr.DeleteRequest != nil:
				writes = append(writes, write{t: t, key: wr.DeleteRequest.Key})
			}
		}
	}
	refs := make([]itemRef, len(writes))
	for i, wr := range writes {
		refs[i] = itemRef{wr.t.Name, wr.key}
	}
	olds, unlock := s.lockAndRead(r.Context(), refs)
	defer unlock()
	for i := range writes {
		writes[i].old = olds[i]
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status < 300 {
		var resp batchWriteRequest
		_ = json.Unmarshal(out, &struct {
			UnprocessedItems *map[string][]struct {
				PutRequest    *struct{ Item item }
				DeleteRequest *struct{ Key item }
			}
		}{&resp.RequestItems})
		unprocessed := map[string]bool{}
		for table, list := range resp.RequestItems {
			for _, wr := range list {
				switch {
				case wr.PutRequest != nil:
					if t := s.schemaFor(r.Context(), table); t != nil {
						unprocessed[lockKey(table, t.keyOf(wr.PutRequest.Item))] = true
					}
				case wr.DeleteRequest != nil:
					unprocessed[lockKey(table, wr.DeleteRequest.Key)] = true
				}
			}
		}
		var costs []consumed
		for _, wr := range writes {
			if !unprocessed[lockKey(wr.t.Name, wr.key)] {
				costs = addCost(costs, writeCost(wr.t, wr.old, wr.put, false))
				s.streams.emit(wr.t, wr.old, wr.put, false)
			}
		}
		s.publish(costs...)
		out = withConsumed(out, req.ReturnConsumedCapacity, perTable, costs...)
	}
	relayDDB(w, status, h, out)
}

// current is the item with key in table as it is now (nil if there is
// none or kumo could not say).
func (s *Service) current(ctx context.Context, table string, key item) item {
	req, err := json.Marshal(map[string]any{"TableName": table, "Key": key, "ConsistentRead": true})
	if err != nil {
		return nil
	}
	status, out, err := s.kumo.Call(ctx, "DynamoDB_20120810.GetItem", req)
	if err != nil || status != http.StatusOK {
		return nil
	}
	var resp struct{ Item item }
	if json.Unmarshal(out, &resp) != nil {
		return nil
	}
	return resp.Item
}

// withOldItem adds the item a failed condition found to a
// ConditionalCheckFailedException answer, as ReturnValuesOnConditionCheckFailure
// ALL_OLD asks ("returns the item attributes for a PutItem operation that
// failed a condition check", API_PutItem); none for no item.
func withOldItem(out []byte, old item) []byte {
	var doc map[string]any
	if old == nil || json.Unmarshal(out, &doc) != nil {
		return out
	}
	doc["Item"] = old
	b, err := json.Marshal(doc)
	if err != nil {
		return out
	}
	return b
}

// withCancellationItems completes a TransactionCanceledException's
// CancellationReasons: "None" where kumo leaves the code empty ("If no
// error is present, Code is None", API_CancellationReason), and the item
// of each failed condition whose action asked ALL_OLD (olds[i] non-nil).
func withCancellationItems(out []byte, olds []item) []byte {
	var doc map[string]json.RawMessage
	var reasons []map[string]any
	if json.Unmarshal(out, &doc) != nil || json.Unmarshal(doc["CancellationReasons"], &reasons) != nil {
		return out
	}
	for i, r := range reasons {
		if code, _ := r["Code"].(string); code == "" {
			r["Code"] = "None"
			delete(r, "Message")
		}
		if i < len(olds) && olds[i] != nil && r["Code"] == "ConditionalCheckFailed" {
			r["Item"] = olds[i]
		}
	}
	b, err := json.Marshal(reasons)
	if err != nil {
		return out
	}
	doc["CancellationReasons"] = b
	amended, err := json.Marshal(doc)
	if err != nil {
		return out
	}
	return amended
}

// itemRef names an item: its table and key.
type itemRef struct {
	table string
	key   item
}

// lockAndRead locks the items of refs (itemLocks) and reads them as they
// are; the caller unlocks once the write and its accounting are done.
func (s *Service) lockAndRead(ctx context.Context, refs []itemRef) ([]item, func()) {
	keys := make([]string, len(refs))
	for i, ref := range refs {
		keys[i] = lockKey(ref.table, ref.key)
	}
	unlock := s.locks.lock(keys)
	return s.currentMany(ctx, refs), unlock
}

// currentMany is current for each of refs, in one BatchGetItem (strongly
// consistent) where kumo takes one, else item by item.
func (s *Service) currentMany(ctx context.Context, refs []itemRef) []item {
	out := make([]item, len(refs))
	if len(refs) == 0 {
		return out
	}
	keys := map[string][]item{}
	seen := map[string]bool{}
	for _, ref := range refs {
		k := lockKey(ref.table, ref.key)
		if seen[k] || len(seen) == 100 { // BatchGetItem refuses duplicates and more than 100 keys
			return s.currentEach(ctx, refs)
		}
		seen[k] = true
		keys[ref.table] = append(keys[ref.table], ref.key)
	}
	req := map[string]any{}
	for table, list := range keys {
		req[table] = map[string]any{"Keys": list, "ConsistentRead": true}
	}
	body, err := json.Marshal(map[string]any{"RequestItems": req})
	if err != nil {
		return s.currentEach(ctx, refs)
	}
	status, resp, err := s.kumo.Call(ctx, "DynamoDB_20120810.BatchGetItem", body)
	var got struct {
		Responses       map[string][]item
		UnprocessedKeys map[string]json.RawMessage
	}
	if err != nil || status != http.StatusOK || json.Unmarshal(resp, &got) != nil || len(got.UnprocessedKeys) > 0 {
		return s.currentEach(ctx, refs)
	}
	byKey := map[string]item{}
	for table, items := range got.Responses {
		t := s.schemaFor(ctx, table)
		if t == nil {
			return s.currentEach(ctx, refs)
		}
		for _, it := range items {
			byKey[lockKey(table, t.keyOf(it))] = it
		}
	}
	for i, ref := range refs {
		out[i] = byKey[lockKey(ref.table, ref.key)]
	}
	return out
}

func (s *Service) currentEach(ctx context.Context, refs []itemRef) []item {
	out := make([]item, len(refs))
	for i, ref := range refs {
		out[i] = s.current(ctx, ref.table, ref.key)
	}
	return out
}

// schemaFor is schemaOf, nil for a table kumo does not know.
func (s *Service) schemaFor(ctx context.Context, table string) *schema {
	if table == "" {
		return nil
	}
	t, err := s.schemaOf(ctx, table)
	if err != nil {
		return nil
	}
	return t
}

// relay lets kumo answer a request the layer does not count.
func (s *Service) relay(w http.ResponseWriter, r *http.Request, body []byte) {
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if ok {
		relayDDB(w, status, h, out)
	}
}

// lockKey names an item for itemLocks.
func lockKey(table string, key item) string {
	b, _ := json.Marshal(key) // map keys sorted: one name per key
	return table + "\x00" + string(b)
}

// errorCode is the error code of a JSON-protocol error answer ("" if out is
// none): the __type after its namespace.
func errorCode(out []byte) string {
	var e struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(out, &e) != nil {
		return ""
	}
	_, code, found := strings.Cut(e.Type, "#")
	if !found {
		return e.Type
	}
	return code
}
