package dynamodb

import (
	"math"
	"sort"
)

// Capacity units as DynamoDB counts them (Developer Guide, "DynamoDB
// read/write capacity mode" and "Item sizes and formats").
const (
	// writeUnitBytes: "One write request unit represents one write for an
	// item up to 1 KB in size."
	writeUnitBytes = 1024
	// readUnitBytes: "One read request unit represents one strongly
	// consistent read ... for an item up to 4 KB in size."
	readUnitBytes = 4096
)

// writeUnits are the units of writing size bytes: "rounded up to the next
// 1 KB", at least 1.
func writeUnits(size int) float64 {
	return math.Max(1, math.Ceil(float64(size)/writeUnitBytes))
}

// readUnits are the units of reading size bytes: rounded up to the next
// 4 KB, at least 1; "Eventually consistent reads ... half" of a strongly
// consistent one.
func readUnits(size int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/readUnitBytes))
	if !consistent {
		u /= 2
	}
	return u
}

// consumed is what one request consumed of one table and its indexes.
type consumed struct {
	Table string
	Read  bool // read units; else write units
	// TableUnits are the base table's; LSI and GSI the indexes', by name.
	TableUnits float64
	LSI, GSI   map[string]float64
}

// total is the table's and its indexes' units: ConsumedCapacity's
// CapacityUnits ("The total number of capacity units consumed by the
// operation").
func (c consumed) total() float64 {
	t := c.TableUnits
	for _, m := range []map[string]float64{c.LSI, c.GSI} {
		for _, u := range m {
			t += u
		}
	}
	return t
}

// add adds o (of the same table) to c.
func (c *consumed) add(o consumed) {
	c.TableUnits += o.TableUnits
	for name, u := range o.LSI {
		c.addIndex(false, name, u)
	}
	for name, u := range o.GSI {
		c.addIndex(true, name, u)
	}
}

func (c *consumed) addIndex(global bool, name string, u float64) {
	m := &c.LSI
	if global {
		m = &c.GSI
	}
	if *m == nil {
		*m = map[string]float64{}
	}
	(*m)[name] += u
}

// writeCost is what a write that turned old into new (nil: no item)
// consumes. The table: the larger of the two items' sizes ("If an item
// with the same primary key exists ... the item size that matters is the
// larger of the two"), double in a transaction ("Transactional write
// requests require 2 write request units"). Each index (indexWrites) at the
// standard rate.
func writeCost(t *schema, old, new item, transactional bool) consumed {
	oldSizes, newSizes := sizesOf(old), sizesOf(new)
	c := consumed{Table: t.Name, TableUnits: writeUnits(max(oldSizes.of(old), newSizes.of(new)))}
	if transactional {
		c.TableUnits *= 2
	}
	for _, ix := range t.Indexes {
		if u := indexWrites(t, ix, old, new, oldSizes, newSizes); u > 0 {
			c.addIndex(ix.Global, ix.Name, u)
		}
	}
	return c
}

// failedWriteCost is what a write whose condition failed consumes: "If the
// expression evaluates to false, DynamoDB still consumes write capacity
// units from the table. The amount of consumed write capacity units
// depends on the size of the item. This item can be an existing item in
// the table or a new one you're attempting to create or update" (Developer
// Guide, "DynamoDB read/write capacity mode": an existing 300 KB item and a
// new 310 KB one consume 310), at least 1. No index is written.
func failedWriteCost(t *schema, old, proposed item, transactional bool) consumed {
	c := consumed{Table: t.Name, TableUnits: writeUnits(max(sizeOrZero(old), sizeOrZero(proposed)))}
	if transactional {
		c.TableUnits *= 2
	}
	return c
}

// indexWrites are the units a write costs index ix (Developer Guide,
// "Provisioned throughput considerations for Global Secondary Indexes",
// and the same rules for local ones):
//   - an item that enters the index (new, or a previously undefined index
//     key attribute now defined): one write of its entry;
//   - an item that leaves it (deleted, or an index key attribute removed):
//     one delete of its old entry;
//   - an index key value changed: two writes, "one to delete the previous
//     item from the index and another write to put the new item";
//   - an update of projected attributes only: one write of the entry;
//   - an item in the index neither before nor after, or an update of no
//     projected attribute: nothing.
func indexWrites(t *schema, ix index, old, new item, oldSizes, newSizes sizes) float64 {
	before, after := t.entry(ix, old), t.entry(ix, new)
	switch {
	case before == nil && after == nil:
		return 0
	case before == nil:
		return writeUnits(newSizes.of(after))
	case after == nil:
		return writeUnits(oldSizes.of(before))
	case !sameValues(before, after, ix.Keys):
		return writeUnits(oldSizes.of(before)) + writeUnits(newSizes.of(after))
	case equalItems(before, after):
		return 0
	default:
		return writeUnits(max(oldSizes.of(before), newSizes.of(after)))
	}
}

// readCost is what reading items (each rounded up on its own, as GetItem,
// BatchGetItem and TransactGetItems do: "each item in the batch is
// processed as an individual GetItem request") consumes; a missing item
// still costs the minimum.
func readCost(table string, sizes []int, consistent, transactional bool) consumed {
	c := consumed{Table: table, Read: true}
	for _, size := range sizes {
		u := readUnits(size, consistent || transactional)
		if transactional {
			u *= 2
		}
		c.TableUnits += u
	}
	return c
}

// scanCost is what a Query or Scan consumes: "the sum of the sizes of all
// items read ... rounded up to the next 4 KB boundary", on the table or on
// the index it reads.
func scanCost(table, indexName string, global bool, sizes []int, consistent bool) consumed {
	total := 0
	for _, s := range sizes {
		total += s
	}
	c := consumed{Table: table, Read: true}
	if indexName == "" {
		c.TableUnits = readUnits(total, consistent)
	} else {
		c.addIndex(global, indexName, readUnits(total, consistent))
	}
	return c
}

func sizeOrZero(it item) int {
	if it == nil {
		return 0
	}
	return itemSize(it)
}

// sameValues reports whether a and b hold equal values for names.
func sameValues(a, b item, names []string) bool {
	for _, n := range names {
		if !equalValues(a[n], b[n]) {
			return false
		}
	}
	return true
}

// equalItems reports whether a and b hold the same attributes and values.
func equalItems(a, b item) bool {
	if len(a) != len(b) {
		return false
	}
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	return sameValues(a, b, names)
}
