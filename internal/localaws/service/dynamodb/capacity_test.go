package dynamodb

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// str is an item of one string attribute "p" (1 byte of name) whose size is
// size bytes, with key attribute "pk" = id.
func sized(id string, size int) item {
	base := item{"pk": av("S", id)}
	n := size - itemSize(base) - 1
	if n < 0 {
		panic("item too small")
	}
	base["p"] = av("S", strings.Repeat("x", n))
	return base
}

func av(typ, v string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{typ: v})
	return b
}

func TestItemSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		it   string
		want int
	}{
		// "Item sizes and formats": strings are their UTF-8 bytes, names too.
		{"string", `{"name": {"S": "abc"}}`, 4 + 3},
		{"utf-8 string", `{"n": {"S": "é"}}`, 1 + 2},
		// "1 byte per two significant digits" + 1; leading and trailing zeroes trimmed.
		{"number 12.3456", `{"n": {"N": "12.3456"}}`, 1 + 3 + 1},
		{"number 1000", `{"n": {"N": "1000"}}`, 1 + 1 + 1},
		{"number 0.001", `{"n": {"N": "0.001"}}`, 1 + 1 + 1},
		{"number -42", `{"n": {"N": "-42"}}`, 1 + 1 + 1},
		// binary: raw bytes, base64 on the wire
		{"binary", `{"b": {"B": "AAECAw=="}}`, 1 + 4},
		{"null and bool", `{"a": {"NULL": true}, "b": {"BOOL": false}}`, 1 + 1 + 1 + 1},
		// "The size of an empty List or Map is (length of attribute name) + (3 bytes)"
		{"empty map", `{"m": {"M": {}}}`, 1 + 3},
		// "Each List or Map element also requires 1 byte of overhead."
		{"list", `{"l": {"L": [{"S": "ab"}, {"N": "1"}]}}`, 1 + 3 + (2 + 1) + (2 + 1)},
		{"map", `{"m": {"M": {"k": {"S": "ab"}}}}`, 1 + 3 + (1 + 2 + 1)},
		// "A set ... does not require any additional overhead beyond the sizes of its elements"
		{"string set", `{"s": {"SS": ["a", "bc"]}}`, 1 + 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var it item
			if err := json.Unmarshal([]byte(tc.it), &it); err != nil {
				t.Fatal(err)
			}
			assert.Equal(t, tc.want, itemSize(it))
		})
	}
}

// TestCapacityRules follows the examples of the DynamoDB Developer Guide
// ("DynamoDB read/write capacity mode", "Capacity management for
// transactions", "Provisioned throughput considerations for Global
// Secondary Indexes").
func TestCapacityRules(t *testing.T) {
	t.Parallel()
	kb := 1024
	table := &schema{Name: "t", Keys: []string{"pk"}}
	withIndex := func(projection string, nonKey ...string) *schema {
		return &schema{Name: "t", Keys: []string{"pk"}, Indexes: []index{{Name: "g", Global: true, Keys: []string{"gk"}, Projection: projection, NonKey: nonKey}}}
	}
	with := func(it item, attrs ...string) item {
		out := item{}
		for k, v := range it {
			out[k] = v
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			out[attrs[i]] = av("S", attrs[i+1])
		}
		return out
	}
	small := item{"pk": av("S", "a")}
	for _, tc := range []struct {
		name      string
		got       consumed
		table     float64
		gsi       float64
		wantTotal float64
	}{
		{"a 1 KB item is one write unit", writeCost(table, nil, sized("a", kb), false), 1, 0, 1},
		{"1 KB + 1 byte rounds up to two", writeCost(table, nil, sized("a", kb+1), false), 2, 0, 2},
		// "the item size that matters is the larger of the two"
		{"a put replacing a 2 KB item with a small one costs the larger", writeCost(table, sized("a", 2*kb), small, false), 2, 0, 2},
		// "The provisioned throughput consumption is based on the size of the deleted item."
		{"a delete costs the deleted item", writeCost(table, sized("a", 3*kb), nil, false), 3, 0, 3},
		{"a delete of no item costs the minimum", writeCost(table, nil, nil, false), 1, 0, 1},
		// "three 500-byte items ... six WCUs": two per item in a transaction
		{"a transactional write costs double", writeCost(table, nil, sized("a", 500), true), 2, 0, 2},
		// "an existing item is 300kb and the new item ... is 310kb, the write capacity units consumed will be 310"
		{"a failed condition costs the larger of the existing and the new item", failedWriteCost(table, sized("a", 300*kb), sized("a", 310*kb), false), 310, 0, 310},
		{"a failed condition on no item costs the minimum", failedWriteCost(table, nil, nil, false), 1, 0, 1},
		// GSI: "one write operation is required to put the item into the index"
		{"a new item that defines the index key writes the index once", writeCost(withIndex("ALL"), nil, with(small, "gk", "x"), false), 1, 1, 2},
		// "two writes are required, one to delete the previous item from the index and another write to put the new item"
		{"a changed index key writes the index twice", writeCost(withIndex("ALL"), with(small, "gk", "x"), with(small, "gk", "y"), false), 1, 2, 3},
		// "one write is required to delete the old item projection from the index"
		{"a removed index key deletes from the index once", writeCost(withIndex("ALL"), with(small, "gk", "x"), small, false), 1, 1, 2},
		// "If an item is not present in the index before or after ... no additional write cost"
		{"an item never in the index costs the index nothing", writeCost(withIndex("ALL"), small, with(small, "v", "1"), false), 1, 0, 1},
		// "only changes the value of projected attributes ... one write is required"
		{"a changed projected attribute writes the index once", writeCost(withIndex("INCLUDE", "v"), with(small, "gk", "x", "v", "1"), with(small, "gk", "x", "v", "2"), false), 1, 1, 2},
		// "If a write to a table does not require a global secondary index update, no write capacity is consumed from the index."
		{"a changed attribute the index does not project costs the index nothing", writeCost(withIndex("KEYS_ONLY"), with(small, "gk", "x", "v", "1"), with(small, "gk", "x", "v", "2"), false), 1, 0, 1},
		{"an identical overwrite costs the index nothing", writeCost(withIndex("ALL"), with(small, "gk", "x"), with(small, "gk", "x"), false), 1, 0, 1},
		// BatchGetItem: "1.5 KB and 6.5 KB ... 12 KB (4 KB + 8 KB)"
		{"each batch-read item is rounded on its own", readCost("t", []int{1536, 6656}, true, false), 3, 0, 3},
		{"eventually consistent reads cost half", readCost("t", []int{1536, 6656}, false, false), 1.5, 0, 1.5},
		// "If you perform a read operation on an item that doesn't exist, DynamoDB will still consume read throughput"
		{"a read of no item costs the minimum", readCost("t", []int{0}, false, false), 0.5, 0, 0.5},
		{"a transactional read costs double a consistent one", readCost("t", []int{100}, false, true), 2, 0, 2},
		// Query: "40.8 KB ... rounds up to 44 KB": 11 units strongly consistent
		{"a query sums its items before rounding", scanCost("t", "", false, []int{40*kb + 819}, true), 11, 0, 11},
		// "1500 items of 64 bytes each ... 96 KB"
		{"1,500 items of 64 bytes", scanCost("t", "", false, repeat(64, 1500), true), 24, 0, 24},
		{"a query of an index counts on the index", scanCost("t", "g", true, []int{100}, false), 0, 0.5, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.InDelta(t, tc.table, tc.got.TableUnits, 1e-9, "table units")
			assert.InDelta(t, tc.gsi, tc.got.GSI["g"], 1e-9, "index units")
			assert.InDelta(t, tc.wantTotal, tc.got.total(), 1e-9, "CapacityUnits")
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestConsumedCapacityAnswer(t *testing.T) {
	t.Parallel()
	c := consumed{Table: "t", TableUnits: 2, LSI: map[string]float64{"l": 1}, GSI: map[string]float64{"g": 2}}
	for _, tc := range []struct {
		mode  string
		shape answerShape
		want  string
	}{
		{"NONE", single, `{}`},
		{"TOTAL", single, `{"ConsumedCapacity":{"CapacityUnits":5,"TableName":"t"}}`},
		{"INDEXES", single, `{"ConsumedCapacity":{"CapacityUnits":5,"GlobalSecondaryIndexes":{"g":{"CapacityUnits":2}},"LocalSecondaryIndexes":{"l":{"CapacityUnits":1}},"Table":{"CapacityUnits":2},"TableName":"t"}}`},
		{"TOTAL", perTable, `{"ConsumedCapacity":[{"CapacityUnits":5,"TableName":"t"}]}`},
		{"TOTAL", transaction, `{"ConsumedCapacity":[{"CapacityUnits":5,"TableName":"t","WriteCapacityUnits":5}]}`},
	} {
		t.Run(fmt.Sprint(tc.mode, tc.shape), func(t *testing.T) {
			t.Parallel()
			assert.JSONEq(t, tc.want, string(withConsumed([]byte(`{}`), tc.mode, tc.shape, c)))
		})
	}
}
