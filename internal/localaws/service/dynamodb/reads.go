package dynamodb

import (
	"encoding/json"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

type getRequest struct {
	TableName              string
	Key                    item
	ConsistentRead         bool
	ReturnConsumedCapacity string
}

// getItem counts a GetItem: the whole item's size, however few attributes
// it returns ("doing so has no impact on the item size calculations"), and
// the minimum for an item that does not exist ("DynamoDB will still
// consume read throughput", "DynamoDB read/write capacity mode").
func (s *Service) getItem(w http.ResponseWriter, r *http.Request) {
	var req getRequest
	body, ok := s.readRequest(w, r, &req)
	if !ok {
		return
	}
	t := s.schemaFor(r.Context(), req.TableName)
	if t == nil {
		s.relay(w, r, body)
		return
	}
	s.countRead(w, r, body, req.ReturnConsumedCapacity, single, func([]byte) []consumed {
		return []consumed{readCost(t.Name, []int{sizeOrZero(s.current(r.Context(), t.Name, req.Key))}, req.ConsistentRead, false)}
	})
}

type batchGetRequest struct {
	RequestItems map[string]struct {
		Keys           []item
		ConsistentRead bool
	}
	ReturnConsumedCapacity string
}

// batchGetItem counts each item read as a GetItem ("BatchGetItem processes
// each item in the batch as an individual GetItem request"); keys left
// unprocessed cost nothing.
func (s *Service) batchGetItem(w http.ResponseWriter, r *http.Request) {
	var req batchGetRequest
	body, ok := s.readRequest(w, r, &req)
	if !ok {
		return
	}
	s.countRead(w, r, body, req.ReturnConsumedCapacity, perTable, func(out []byte) []consumed {
		var resp struct {
			UnprocessedKeys map[string]struct{ Keys []item }
		}
		_ = json.Unmarshal(out, &resp)
		var costs []consumed
		for _, table := range sortedKeys(req.RequestItems) {
			skip := map[string]bool{}
			for _, k := range resp.UnprocessedKeys[table].Keys {
				skip[lockKey(table, k)] = true
			}
			var sizes []int
			for _, k := range req.RequestItems[table].Keys {
				if !skip[lockKey(table, k)] {
					sizes = append(sizes, sizeOrZero(s.current(r.Context(), table, k)))
				}
			}
			if len(sizes) > 0 {
				costs = append(costs, readCost(table, sizes, req.RequestItems[table].ConsistentRead, false))
			}
		}
		return costs
	})
}

// transactGetItems counts each item at twice a strongly consistent read
// ("transactional read requests require two read request units").
func (s *Service) transactGetItems(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TransactItems []struct {
			Get *struct {
				TableName string
				Key       item
			}
		}
		ReturnConsumedCapacity string
	}
	body, ok := s.readRequest(w, r, &req)
	if !ok {
		return
	}
	s.countRead(w, r, body, req.ReturnConsumedCapacity, transaction, func([]byte) []consumed {
		var costs []consumed
		for _, ti := range req.TransactItems {
			if ti.Get != nil {
				costs = addCost(costs, readCost(ti.Get.TableName, []int{sizeOrZero(s.current(r.Context(), ti.Get.TableName, ti.Get.Key))}, true, true))
			}
		}
		return costs
	})
}

// scanRequest holds the fields of a Query or Scan that decide what it reads
// and, to be dropped, what only narrows what it returns.
type scanRequest struct {
	TableName              string
	IndexName              string
	ConsistentRead         bool
	ReturnConsumedCapacity string
}

// narrowing are the parameters that change what a Query or Scan returns
// but not what it reads: "the number of capacity units consumed is the
// same whether you request all of the attributes ... or just some of them
// (using a projection expression). The number is also the same whether or
// not you use a filter expression" (Developer Guide, "Query", "Scan").
var narrowing = []string{"FilterExpression", "ProjectionExpression", "Select", "AttributesToGet", "QueryFilter", "ScanFilter", "ConditionalOperator", "ReturnConsumedCapacity"}

// queryOrScan counts a Query or Scan: "the sum of the sizes of all items
// read", rounded up to 4 KB once, on the index it reads ("the sizes of the
// index entries, rather than the size of the item in the base table"). The
// items read are what the request returns without its filter and
// projection, which the layer asks kumo for when the request has them.
func (s *Service) queryOrScan(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req scanRequest
		body, ok := s.readRequest(w, r, &req)
		if !ok {
			return
		}
		t := s.schemaFor(r.Context(), req.TableName)
		if t == nil {
			s.relay(w, r, body)
			return
		}
		s.countRead(w, r, body, req.ReturnConsumedCapacity, single, func(out []byte) []consumed {
			read := s.itemsRead(r, op, body, out)
			ix, global := index{}, false
			if req.IndexName != "" {
				ix, _ = t.indexNamed(req.IndexName)
				global = ix.Global
			}
			sizes := make([]int, len(read))
			for i, it := range read {
				if req.IndexName != "" {
					it = t.entry(ix, it)
				}
				sizes[i] = sizeOrZero(it)
			}
			return []consumed{scanCost(t.Name, req.IndexName, global, sizes, req.ConsistentRead)}
		})
	}
}

// readRequest reads r's body into req; a body it cannot read goes to kumo
// as it is (ok false: answered).
func (s *Service) readRequest(w http.ResponseWriter, r *http.Request, req any) ([]byte, bool) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return nil, false
	}
	if json.Unmarshal(body, req) != nil {
		s.relay(w, r, body)
		return nil, false
	}
	return body, true
}

// countRead lets kumo answer a read and, when it succeeded, publishes what
// cost counts of kumo's answer and adds it to the answer as shape.
func (s *Service) countRead(w http.ResponseWriter, r *http.Request, body []byte, mode string, shape answerShape, cost func(out []byte) []consumed) {
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status < 300 {
		costs := cost(out)
		s.publish(costs...)
		out = withConsumed(out, mode, shape, costs...)
	}
	relayDDB(w, status, h, out)
}

// itemsRead are the items a Query or Scan read: those it returned, or,
// when a filter or projection narrowed them, what the same request without
// them returns.
func (s *Service) itemsRead(r *http.Request, op string, body, out []byte) []item {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	narrowed := false
	for _, f := range narrowing {
		if _, ok := doc[f]; ok && f != "ReturnConsumedCapacity" {
			narrowed = true
		}
		delete(doc, f)
	}
	if narrowed {
		plain, err := json.Marshal(doc)
		if err != nil {
			return nil
		}
		status, full, err := s.kumo.Call(r.Context(), "DynamoDB_20120810."+op, plain)
		if err != nil || status != http.StatusOK {
			return nil
		}
		out = full
	}
	var resp struct{ Items []item }
	_ = json.Unmarshal(out, &resp)
	return resp.Items
}
