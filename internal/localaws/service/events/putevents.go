package events

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/eventpattern"
)

// PutEvents is the layer's: kumo accepts any entry and delivers SQS
// targets itself, as no one (no queue or key policy judged). The layer
// checks the request as EventBridge does and delivers to every target of
// every matching rule as events.amazonaws.com (delivery.go).

// putEventsLimit is the most bytes of entries one call takes: "Total size
// of the entries in the request is over the limit" beyond 256 KB, counted
// as "Calculating Amazon EventBridge PutEvents event entry size" says.
const putEventsLimit = 256 * 1024

type putEntry struct {
	Source, DetailType, Detail, EventBusName string
	Resources                                []string
	Time                                     *float64 // epoch seconds, as the SDK writes a timestamp
}

// size is an entry's size: 14 bytes for a time, the UTF-8 lengths of
// source, detail-type, detail and each resource.
func (e putEntry) size() int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// refusal is why EventBridge fails one entry ("PutEventsResultEntry":
// InvalidArgument, MalformedDetail, NotAuthorizedForSourceException), with
// the messages AWS answers; "" for none.
func (e putEntry) refusal() (code, message string) {
	for _, f := range []struct{ name, value string }{{"Source", e.Source}, {"DetailType", e.DetailType}, {"Detail", e.Detail}} {
		if f.value == "" {
			return "InvalidArgument", fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", f.name, f.name)
		}
	}
	var detail map[string]any
	if json.Unmarshal([]byte(e.Detail), &detail) != nil || detail == nil {
		return "MalformedDetail", "Detail is malformed." // "A valid JSON object"
	}
	if strings.HasPrefix(e.Source, "aws.") { // reserved for AWS services ("Event structure reference")
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	}
	return "", ""
}

// putEvents answers PutEvents: a call of 1 to 10 entries within the size
// limit (else ValidationException, the whole call), each entry failed
// alone, the others delivered. "The response Entries array always
// includes the same number of entries as the request array"; an event to
// a bus that does not exist is accepted and goes nowhere (seen on AWS).
func (e *Service) putEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct{ Entries []putEntry }
	if err := json.Unmarshal(body, &req); err != nil {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "SerializationException", "the request is not a PutEvents request: "+err.Error())
		return
	}
	switch n := len(req.Entries); {
	case n < 1:
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1")
		return
	case n > 10:
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value of %d entries at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10", n))
		return
	}
	total := 0
	for _, entry := range req.Entries {
		total += entry.size()
	}
	if total > putEventsLimit {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException", "Total size of the entries in the request is over the limit.")
		return
	}
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{Entries: make([]result, len(req.Entries))}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, entry := range req.Entries {
		if code, msg := entry.refusal(); code != "" {
			out.Entries[i] = result{ErrorCode: code, ErrorMessage: msg}
			out.FailedEntryCount++
			continue
		}
		at := time.Now().UTC() // "If no time stamp is provided, the time stamp of the PutEvents call is used"
		if entry.Time != nil {
			at = time.Unix(0, int64(*entry.Time*float64(time.Second))).UTC()
		}
		detail, _ := eventpattern.Decode([]byte(entry.Detail)) // refusal checked it; numbers kept as written
		id := uuid.NewString()
		event := map[string]any{
			"version": "0", "id": id, "detail-type": entry.DetailType, "source": entry.Source,
			"account": awsapi.Account, "time": at.Format(time.RFC3339), "region": e.region,
			"resources": nonNil(entry.Resources), "detail": detail,
		}
		e.deliverLocked(entry.EventBusName, event)
		out.Entries[i] = result{EventID: id}
	}
	awsapi.WriteJSON(w, http.StatusOK, out)
}
