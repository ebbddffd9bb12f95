package sqs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestAgesOfOldestMessages: the age of a queue's oldest message that
// counts, from the sends, receives and deletes seen.
func TestAgesOfOldestMessages(t *testing.T) {
	t.Parallel()
	type step struct {
		after          time.Duration // the clock moves on first
		queue, op      string
		request, reply string
	}
	send := func(after time.Duration, queue, id string) step {
		return step{after, queue, "SendMessage", `{}`, `{"MessageId":"` + id + `"}`}
	}
	receive := func(after time.Duration, queue, id, receipt string) step {
		return step{after, queue, "ReceiveMessage", `{}`, `{"Messages":[{"MessageId":"` + id + `","ReceiptHandle":"` + receipt + `"}]}`}
	}
	del := func(queue, receipt string) step {
		return step{0, queue, "DeleteMessage", `{"ReceiptHandle":"` + receipt + `"}`, `{}`}
	}
	tests := []struct {
		name        string
		steps       []step
		queue       string
		maxReceives int
		want        time.Duration
		wantNone    bool
	}{
		{"an empty queue reports nothing", nil, "q", 0, 0, true},
		{"the oldest of two", []step{send(0, "q", "a"), send(time.Minute, "q", "b"), {2 * time.Minute, "", "", "", ""}}, "q", 0, 3 * time.Minute, false},
		{"a deleted message no longer counts",
			[]step{send(0, "q", "a"), send(time.Minute, "q", "b"), receive(0, "q", "a", "r1"), del("q", "r1"), {time.Minute, "", "", "", ""}}, "q", 0, time.Minute, false},
		{"batches are sent and deleted as their messages",
			[]step{{0, "q", "SendMessageBatch", `{}`, `{"Successful":[{"Id":"1","MessageId":"a"},{"Id":"2","MessageId":"b"}]}`},
				receive(time.Minute, "q", "a", "r1"), receive(0, "q", "b", "r2"),
				{0, "q", "DeleteMessageBatch", `{"Entries":[{"Id":"x","ReceiptHandle":"r1"},{"Id":"y","ReceiptHandle":"r2"}]}`, `{"Successful":[{"Id":"x"}]}`}},
			"q", 0, time.Minute, false},
		{"received three times: a poison pill, left out",
			[]step{send(0, "q", "a"), send(time.Minute, "q", "b"), receive(0, "q", "a", "r1"), receive(0, "q", "a", "r2"), receive(0, "q", "a", "r3"),
				{time.Minute, "", "", "", ""}}, "q", 0, time.Minute, false},
		{"received maxReceiveCount times: on its way to the DLQ",
			[]step{send(0, "q", "a"), receive(time.Minute, "q", "a", "r1")}, "q", 1, 0, true},
		{"moved to the DLQ: its age there starts when it is seen there",
			[]step{send(0, "q", "a"), receive(time.Minute, "q", "a", "r1"), receive(2*time.Minute, "dlq", "a", "r2"), {time.Minute, "", "", "", ""}}, "dlq", 0, time.Minute, false},
		{"moved to the DLQ: gone from its source",
			[]step{send(0, "q", "a"), receive(time.Minute, "q", "a", "r1"), receive(2*time.Minute, "dlq", "a", "r2")}, "q", 0, 0, true},
		{"a purge empties the queue", []step{send(0, "q", "a"), {0, "q", "PurgeQueue", `{}`, `{}`}}, "q", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
			a := newAges(func() time.Time { return now })
			for _, s := range tt.steps {
				now = now.Add(s.after)
				if s.op != "" {
					a.observe(s.queue, s.op, []byte(s.request), []byte(s.reply))
				}
			}
			got, ok := a.oldest(tt.queue, tt.maxReceives, 0)
			if tt.wantNone {
				assert.False(t, ok, "no message counts, got %s", got)
				return
			}
			assert.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("past the retention period a message is gone", func(t *testing.T) {
		t.Parallel()
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		a := newAges(func() time.Time { return now })
		a.observe("q", "SendMessage", []byte(`{}`), []byte(`{"MessageId":"a"}`))
		now = now.Add(2 * time.Minute)
		_, ok := a.oldest("q", 0, time.Minute)
		assert.False(t, ok)
	})
}
