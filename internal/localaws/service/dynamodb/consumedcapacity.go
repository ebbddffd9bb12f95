package dynamodb

import (
	"encoding/json"
	"sort"
)

// addCost adds c to the entry of its table in list, or appends one: batch
// and transaction answers hold one ConsumedCapacity per table.
func addCost(list []consumed, c consumed) []consumed {
	for i := range list {
		if list[i].Table == c.Table {
			list[i].add(c)
			return list
		}
	}
	return append(list, c)
}

// answerShape is how an operation answers ConsumedCapacity.
type answerShape int

const (
	single      answerShape = iota // one object (GetItem, PutItem, Query, ...)
	perTable                       // a list, one per table (BatchGetItem, BatchWriteItem)
	transaction                    // a list, with the read or write units split out
)

// withConsumed adds ConsumedCapacity to a successful answer as
// ReturnConsumedCapacity asks (API_ConsumedCapacity): TOTAL, the aggregate
// per table; INDEXES, also the table's and each index's; NONE or nothing,
// none. A single-table operation answers one object, a batch or a
// transaction (list) one per table. Transactions also split the units into
// ReadCapacityUnits or WriteCapacityUnits; the other operations answer
// CapacityUnits only, as DynamoDB does.
func withConsumed(out []byte, mode string, shape answerShape, list ...consumed) []byte {
	if mode != "TOTAL" && mode != "INDEXES" || len(list) == 0 {
		return out
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(out, &doc) != nil {
		return out
	}
	answers := make([]map[string]any, len(list))
	for i, c := range list {
		answers[i] = capacityAnswer(c, mode == "INDEXES", shape == transaction)
	}
	var v any = answers
	if shape == single {
		v = answers[0]
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	doc["ConsumedCapacity"] = b
	amended, err := json.Marshal(doc)
	if err != nil {
		return out
	}
	return amended
}

// capacityAnswer is one ConsumedCapacity object.
func capacityAnswer(c consumed, indexes, split bool) map[string]any {
	units := func(u float64) map[string]any {
		m := map[string]any{"CapacityUnits": u}
		if split {
			if c.Read {
				m["ReadCapacityUnits"] = u
			} else {
				m["WriteCapacityUnits"] = u
			}
		}
		return m
	}
	m := units(c.total())
	m["TableName"] = c.Table
	if indexes {
		m["Table"] = units(c.TableUnits)
		for field, ix := range map[string]map[string]float64{"LocalSecondaryIndexes": c.LSI, "GlobalSecondaryIndexes": c.GSI} {
			if len(ix) == 0 {
				continue // an index not touched is not reported
			}
			each := map[string]any{}
			for name, u := range ix {
				each[name] = units(u)
			}
			m[field] = each
		}
	}
	return m
}

// publish records list as CloudWatch publishes DynamoDB's consumption
// ("Metrics and dimensions": ConsumedReadCapacityUnits and
// ConsumedWriteCapacityUnits, Count, per minute; one sample per request,
// "SampleCount – The number of write requests to DynamoDB, even if no
// write capacity was consumed"). The TableName dimension holds the table's
// units and its local indexes' ("updating the local secondary indexes
// consumes provisioned write capacity units for the table"), not the global
// indexes', which have TableName and GlobalSecondaryIndexName.
func (s *Service) publish(list ...consumed) {
	if s.metrics == nil {
		return
	}
	for _, c := range list {
		name := "ConsumedWriteCapacityUnits"
		if c.Read {
			name = "ConsumedReadCapacityUnits"
		}
		table := c.TableUnits
		for _, u := range c.LSI {
			table += u
		}
		s.metrics.Record("AWS/DynamoDB", name, map[string]string{"TableName": c.Table}, table, "Count")
		for _, ix := range sortedKeys(c.GSI) {
			s.metrics.Record("AWS/DynamoDB", name, map[string]string{"TableName": c.Table, "GlobalSecondaryIndexName": ix}, c.GSI[ix], "Count")
		}
	}
}

// sortedKeys are m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
