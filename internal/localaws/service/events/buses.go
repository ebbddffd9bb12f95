package events

import (
	"encoding/json"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// createEventBus lets kumo create the bus, then tags it: kumo drops
// CreateEventBus's Tags ("Tags to associate with the event bus",
// EventBridge API Reference, CreateEventBus), so a bus read back has none
// and every later plan would add them again. The layer applies them with
// kumo's own TagResource, which ListTagsForResource reads.
func (e *Service) createEventBus(w http.ResponseWriter, r *http.Request) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	status, h, out, ok := e.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	var req struct {
		Tags []struct{ Key, Value string }
	}
	var created struct{ EventBusArn string }
	if status < 300 && json.Unmarshal(body, &req) == nil && len(req.Tags) > 0 && json.Unmarshal(out, &created) == nil && created.EventBusArn != "" {
		tag := r.Clone(r.Context())
		tag.Header.Set("X-Amz-Target", "AWSEvents.TagResource")
		tagBody, _ := json.Marshal(map[string]any{"ResourceARN": created.EventBusArn, "Tags": req.Tags}) //nolint:errchkjson // strings always encode
		if tagStatus, _, tagOut, err := e.kumo.Forward(tag, tagBody); err != nil || tagStatus >= 300 {
			e.log.Warn("event bus tags not stored")
			awsapi.WriteError(w, http.StatusInternalServerError, "InternalException", "the local AWS could not tag the bus: "+string(tagOut))
			return
		}
	}
	awsapi.Relay(w, status, h, out)
}
