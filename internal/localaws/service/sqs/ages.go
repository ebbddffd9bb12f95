package sqs

import (
	"encoding/json"
	"sync"
	"time"
)

// poisonReceives is the receive count from which a message no longer
// counts in ApproximateAgeOfOldestMessage: "For standard queues, if a
// message is received three or more times and not deleted, SQS moves it to
// the back of the queue. The metric then reflects the age of the next
// message that hasn't exceeded the receive threshold" ("Available
// CloudWatch metrics for Amazon SQS").
const poisonReceives = 3

// ages follows the messages each queue holds, from the SQS calls that
// reach kumo: kumo does not expose message ages, so the layer derives
// ApproximateAgeOfOldestMessage ("The age of the oldest unprocessed
// message in the queue") from the sends, receives and deletes it has
// seen. It is safe for concurrent use.
type ages struct {
	now func() time.Time

	mu       sync.Mutex
	queues   map[string]map[string]*heldMessage // queue name -> message id -> message
	receipts map[string]string                  // receipt handle -> message id
	queueOf  map[string]string                  // message id -> queue name
}

type heldMessage struct {
	enqueued time.Time
	receives int
	receipts []string
}

func newAges(now func() time.Time) *ages {
	return &ages{now: now, queues: map[string]map[string]*heldMessage{}, receipts: map[string]string{}, queueOf: map[string]string{}}
}

// observe applies one successful SQS call on queue.
func (a *ages) observe(queue, op string, request, answer []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	switch op {
	case "SendMessage":
		var out struct{ MessageId string }
		if json.Unmarshal(answer, &out) == nil && out.MessageId != "" {
			a.hold(queue, out.MessageId, now)
		}
	case "SendMessageBatch":
		var out struct{ Successful []struct{ MessageId string } }
		_ = json.Unmarshal(answer, &out)
		for _, m := range out.Successful {
			a.hold(queue, m.MessageId, now)
		}
	case "ReceiveMessage":
		var out struct {
			Messages []struct{ MessageId, ReceiptHandle string }
		}
		_ = json.Unmarshal(answer, &out)
		for _, m := range out.Messages {
			a.received(queue, m.MessageId, m.ReceiptHandle, now)
		}
	case "DeleteMessage":
		var in struct{ ReceiptHandle string }
		if json.Unmarshal(request, &in) == nil {
			a.deleted(in.ReceiptHandle)
		}
	case "DeleteMessageBatch":
		var in struct {
			Entries []struct{ Id, ReceiptHandle string }
		}
		var out struct{ Successful []struct{ Id string } }
		_ = json.Unmarshal(request, &in)
		_ = json.Unmarshal(answer, &out)
		done := map[string]bool{}
		for _, s := range out.Successful {
			done[s.Id] = true
		}
		for _, e := range in.Entries {
			if done[e.Id] {
				a.deleted(e.ReceiptHandle)
			}
		}
	case "PurgeQueue", "DeleteQueue":
		for id, m := range a.queues[queue] {
			a.forget(id, m)
		}
		delete(a.queues, queue)
	}
}

func (a *ages) hold(queue, id string, at time.Time) {
	if a.queues[queue] == nil {
		a.queues[queue] = map[string]*heldMessage{}
	}
	a.queues[queue][id] = &heldMessage{enqueued: at}
	a.queueOf[id] = queue
}

// received counts a receive. A message first seen in another queue than
// the one it was sent to was moved there by a redrive: "When a message is
// moved to a DLQ after exceeding the maxReceiveCount, the age resets", so
// it counts from when the layer first sees it there.
func (a *ages) received(queue, id, receipt string, at time.Time) {
	if from, ok := a.queueOf[id]; ok && from != queue {
		a.forget(id, a.queues[from][id])
		delete(a.queues[from], id)
	}
	m := a.queues[queue][id]
	if m == nil {
		a.hold(queue, id, at)
		m = a.queues[queue][id]
	}
	m.receives++
	m.receipts = append(m.receipts, receipt)
	a.receipts[receipt] = id
}

func (a *ages) deleted(receipt string) {
	id, ok := a.receipts[receipt]
	if !ok {
		return
	}
	queue := a.queueOf[id]
	a.forget(id, a.queues[queue][id])
	delete(a.queues[queue], id)
}

func (a *ages) forget(id string, m *heldMessage) {
	if m != nil {
		for _, r := range m.receipts {
			delete(a.receipts, r)
		}
	}
	delete(a.queueOf, id)
}

// oldest is the age of queue's oldest message that counts, and false when
// none does ("Reported if the queue contains at least one active
// message"). Messages received poisonReceives times or more do not count,
// nor do those received maxReceives times (a redrive policy's
// maxReceiveCount; 0 for none), which SQS moves to the dead-letter queue;
// those older than retention (the queue's MessageRetentionPeriod; 0 for
// unknown) are gone, and forgotten.
func (a *ages) oldest(queue string, maxReceives int, retention time.Duration) (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	var oldest time.Time
	for id, m := range a.queues[queue] {
		if retention > 0 && now.Sub(m.enqueued) > retention {
			a.forget(id, m)
			delete(a.queues[queue], id)
			continue
		}
		if m.receives >= poisonReceives || maxReceives > 0 && m.receives >= maxReceives {
			continue
		}
		if oldest.IsZero() || m.enqueued.Before(oldest) {
			oldest = m.enqueued
		}
	}
	if oldest.IsZero() {
		return 0, false
	}
	return now.Sub(oldest), true
}
