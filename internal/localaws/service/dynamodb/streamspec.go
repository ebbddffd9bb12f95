package dynamodb

import (
	"encoding/json"
)

// streamSpec is a CreateTable or UpdateTable StreamSpecification.
type streamSpec struct {
	StreamEnabled  bool
	StreamViewType string
}

// streamRefusal is DynamoDB's ValidationException for a table operation's
// StreamSpecification, or "": enabling a stream on a table that has one
// ("Table already has an enabled stream"), disabling one that has none, or
// an unknown view type (API_UpdateTable: "You receive a ValidationException
// if you try to enable a stream on a table that already has a stream, or if
// you try to disable a stream on a table that doesn't have a stream").
func (s *Service) streamRefusal(op, table string, spec *streamSpec) string {
	if spec == nil {
		return ""
	}
	if spec.StreamEnabled {
		switch spec.StreamViewType {
		case viewKeysOnly, viewNew, viewOld, viewBoth:
		default:
			return "1 validation error detected: Value '" + spec.StreamViewType + "' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
		}
	}
	if op != "UpdateTable" {
		return ""
	}
	switch enabled := s.streams.enabled(table) != nil; {
	case spec.StreamEnabled && enabled:
		return "Table already has an enabled stream: TableName: " + table
	case !spec.StreamEnabled && !enabled:
		return "Table has no stream to disable: TableName: " + table
	}
	return ""
}

// withoutStreamSpec is a table request without its StreamSpecification:
// the layer owns the table's stream, kumo keeps none.
func withoutStreamSpec(body []byte) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	if _, ok := doc["StreamSpecification"]; !ok {
		return body
	}
	delete(doc, "StreamSpecification")
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// applyStreamSpec enables or disables table's stream once its operation
// succeeded.
func (s *Service) applyStreamSpec(table string, spec *streamSpec, keys []keyElement) {
	switch {
	case spec == nil:
	case spec.StreamEnabled:
		_, _ = s.streams.enable(s.region, table, spec.StreamViewType, keys) // checked by streamRefusal
	default:
		s.streams.disable(table)
	}
}

// withStream sets a table description's stream fields as the layer keeps
// them (API_TableDescription): StreamSpecification, LatestStreamArn and
// LatestStreamLabel of the enabled stream; none without one.
func (s *Service) withStream(doc []byte, field, table string) []byte {
	var m map[string]map[string]any
	if json.Unmarshal(doc, &m) != nil || m[field] == nil {
		return doc
	}
	for _, k := range []string{"StreamSpecification", "LatestStreamArn", "LatestStreamLabel"} {
		delete(m[field], k)
	}
	if st := s.streams.enabled(table); st != nil {
		m[field]["StreamSpecification"] = streamSpec{StreamEnabled: true, StreamViewType: st.ViewType}
		m[field]["LatestStreamArn"] = st.ARN
		m[field]["LatestStreamLabel"] = st.Label
	}
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}
