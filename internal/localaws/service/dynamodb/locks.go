package dynamodb

import (
	"hash/fnv"
	"slices"
	"sync"
)

// itemLocks serialise the writes of one item through the layer, so that
// the item read before a write and after it are that write's old and new
// images (DynamoDB applies each item's writes in order; its stream records
// "appear in the same sequence as the actual modifications to the item").
// Items hash to stripes; writes of other items go on in parallel.
type itemLocks struct{ stripes [256]sync.Mutex }

// lock locks the stripes of keys (table + "\x00" + key JSON) in one order,
// so that two writes of overlapping items cannot deadlock, and returns the
// unlock.
func (l *itemLocks) lock(keys []string) func() {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		h := fnv.New32a()
		_, _ = h.Write([]byte(k))
		idx = append(idx, int(h.Sum32()%uint32(len(l.stripes))))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		l.stripes[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			l.stripes[i].Unlock()
		}
	}
}
