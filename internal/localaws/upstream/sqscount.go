package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// SQSCounter takes how many messages an SQS operation handled, per queue:
// the AWS/SQS NumberOfMessagesSent, NumberOfMessagesReceived,
// NumberOfMessagesDeleted and NumberOfEmptyReceives metrics.
type SQSCounter func(queue, metric string, n float64)

// CountSQS makes every SQS call that reaches kumo (clients' through the
// front server, and the layer's own: the poller, move tasks) count its
// messages through f.
func (k *Kumo) CountSQS(f SQSCounter) { k.sqsCounter.Store(&f) }

// SQSObserver sees every successful SQS call that changes which messages a
// queue holds (sends, receives, deletes, purges, queue deletion), with its
// request and kumo's answer: what the layer derives message ages from.
type SQSObserver func(queue, op string, request, answer []byte)

// ObserveSQS makes every SQS call that reaches kumo report to f.
func (k *Kumo) ObserveSQS(f SQSObserver) { k.sqsObserver.Store(&f) }

// observed are the operations an SQSObserver sees.
var observed = map[string]bool{
	"SendMessage": true, "SendMessageBatch": true, "ReceiveMessage": true, "DeleteMessage": true,
	"DeleteMessageBatch": true, "PurgeQueue": true, "DeleteQueue": true,
}

// countingTransport counts the messages of the SQS operations it carries.
// Messages SQS itself moves to a dead-letter queue are not counted, as on
// AWS ("if a message is sent to a dead-letter queue as a result of a failed
// processing attempt, it isn't captured by NumberOfMessagesSent").
type countingTransport struct {
	next http.RoundTripper
	k    *Kumo
}

// counted are the operations and what their answer's list counts.
var counted = map[string]struct{ metric, list string }{
	"SendMessage":        {"NumberOfMessagesSent", ""},
	"SendMessageBatch":   {"NumberOfMessagesSent", "Successful"},
	"ReceiveMessage":     {"NumberOfMessagesReceived", "Messages"},
	"DeleteMessage":      {"NumberOfMessagesDeleted", ""},
	"DeleteMessageBatch": {"NumberOfMessagesDeleted", "Successful"},
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op, isSQS := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS.")
	what, ok := counted[op]
	count, observe := c.k.sqsCounter.Load(), c.k.sqsObserver.Load()
	if !isSQS || (!ok || count == nil) && (!observed[op] || observe == nil) || req.Body == nil {
		return c.next.RoundTrip(req) //nolint:wrapcheck // a transport passes errors through
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err //nolint:wrapcheck // as above
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := c.next.RoundTrip(req)
	if err != nil || resp.StatusCode >= 300 {
		return resp, err //nolint:wrapcheck // as above
	}
	out, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err //nolint:wrapcheck // as above: the answer could not be read
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	var in struct{ QueueUrl string } //nolint:revive // the API's member name
	if json.Unmarshal(body, &in) != nil || in.QueueUrl == "" {
		return resp, nil //nolint:nilerr // a request the counter cannot read is still served
	}
	n := 1
	if what.list != "" {
		var answer map[string][]json.RawMessage
		_ = json.Unmarshal(out, &answer)
		n = len(answer[what.list])
	}
	queue := awsapi.ResourceName(in.QueueUrl)
	if observe != nil && observed[op] {
		(*observe)(queue, op, body, out)
	}
	if !ok || count == nil {
		return resp, nil
	}
	switch {
	case op == "ReceiveMessage" && n == 0:
		(*count)(queue, "NumberOfEmptyReceives", 1)
	case n > 0:
		(*count)(queue, what.metric, float64(n))
	}
	return resp, nil
}
