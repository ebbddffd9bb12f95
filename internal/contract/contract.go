// Package contract parses and validates tracking update v1, the JSON body
// producers put on the ingest queue. The rules are those of
// tracking-update.v1.schema.json in this folder; README.md has examples.
package contract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode/utf8"
)

// MaxBodyBytes is the largest body accepted (256 KiB, SQS's own maximum).
const MaxBodyBytes = 256 * 1024

// EventTimeLayout renders event times in UTC with a fixed width, so that the
// strings sort in time order.
const EventTimeLayout = "2006-01-02T15:04:05.000000000Z"

// Code classifies a rejected body. Every rejection is permanent: sending the
// same body again can never succeed.
type Code string

// Rejection codes, written to the DLQ as the ErrorCode message attribute.
const (
	CodeOversize          Code = "OVERSIZE"
	CodeMalformedJSON     Code = "MALFORMED_JSON"
	CodeContractViolation Code = "CONTRACT_VIOLATION"
)

// Error is a rejected body: which rule failed, on which field.
type Error struct {
	Code   Code
	Field  string // empty when the body as a whole is wrong
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Reason)
}

// AsError returns the contract error inside err, if any.
func AsError(err error) (*Error, bool) {
	var ce *Error
	ok := errors.As(err, &ce)
	return ce, ok
}

// Update is a valid tracking update.
type Update struct {
	TrackingID string
	Status     string
	EventTime  time.Time
	// EventID is the producer's event_id, or one derived from the content.
	EventID        string
	EventIDDerived bool
	Carrier        string
	Location       json.RawMessage // nil when absent
	Details        json.RawMessage // nil when absent
	// Extra holds the fields this contract does not know, kept verbatim.
	Extra map[string]json.RawMessage
	// PayloadHash is the SHA-256 of the canonical content: the same update
	// gives the same hash whatever its key order, spacing or time zone.
	PayloadHash string
}

// EventTimeKey is the event time in EventTimeLayout.
func (u Update) EventTimeKey() string { return u.EventTime.UTC().Format(EventTimeLayout) }

var (
	trackingIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	statusPattern     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,39}$`)
)

const (
	fieldTrackingID    = "tracking_id"
	fieldStatus        = "status"
	fieldEventTime     = "event_time"
	fieldTimestamp     = "timestamp"
	fieldEventID       = "event_id"
	fieldCarrier       = "carrier"
	fieldLocation      = "location"
	fieldDetails       = "details"
	fieldSchemaVersion = "schema_version"

	maxEventIDLen = 128
	maxCarrierLen = 64
)

func violation(field, format string, args ...any) *Error {
	return &Error{Code: CodeContractViolation, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Parse validates body against tracking update v1. A nil error means a valid
// update; any error is an *Error.
func Parse(body []byte) (Update, error) {
	if len(body) > MaxBodyBytes {
		return Update{}, &Error{Code: CodeOversize, Reason: fmt.Sprintf("body is %d bytes, the limit is %d", len(body), MaxBodyBytes)}
	}
	fields, err := decodeObject(body)
	if err != nil {
		return Update{}, err
	}

	var u Update
	if u.TrackingID, err = requiredString(fields, fieldTrackingID); err != nil {
		return Update{}, err
	}
	if !trackingIDPattern.MatchString(u.TrackingID) {
		return Update{}, violation(fieldTrackingID, "must be 1-64 characters of [A-Za-z0-9._-]")
	}
	if u.Status, err = requiredString(fields, fieldStatus); err != nil {
		return Update{}, err
	}
	if !statusPattern.MatchString(u.Status) {
		return Update{}, violation(fieldStatus, "must match ^[A-Z][A-Z0-9_]{1,39}$")
	}
	if u.EventTime, err = eventTime(fields); err != nil {
		return Update{}, err
	}
	if err := u.readOptional(fields); err != nil {
		return Update{}, err
	}

	canonical, err := canonicalContent(fields, u.EventTime)
	if err != nil {
		return Update{}, err
	}
	sum := sha256.Sum256(canonical)
	u.PayloadHash = hex.EncodeToString(sum[:])
	if u.EventID == "" {
		u.EventID = "derived-" + u.PayloadHash[:32]
		u.EventIDDerived = true
	}
	return u, nil
}

func (u *Update) readOptional(fields map[string]json.RawMessage) error {
	eventID, err := optionalString(fields, fieldEventID)
	if err != nil {
		return err
	}
	if eventID != nil {
		if n := utf8.RuneCountInString(*eventID); n < 1 || n > maxEventIDLen {
			return violation(fieldEventID, "must be 1-%d characters, got %d", maxEventIDLen, n)
		}
		u.EventID = *eventID
	}
	carrier, err := optionalString(fields, fieldCarrier)
	if err != nil {
		return err
	}
	if carrier != nil {
		if n := utf8.RuneCountInString(*carrier); n > maxCarrierLen {
			return violation(fieldCarrier, "must be at most %d characters, got %d", maxCarrierLen, n)
		}
		u.Carrier = *carrier
	}
	if raw, ok := present(fields, fieldLocation); ok {
		if k := kind(raw); k != '"' && k != '{' {
			return violation(fieldLocation, "must be a string or an object")
		}
		u.Location = raw
	}
	if raw, ok := present(fields, fieldDetails); ok {
		if kind(raw) != '{' {
			return violation(fieldDetails, "must be an object")
		}
		u.Details = raw
	}
	if raw, ok := present(fields, fieldSchemaVersion); ok {
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil || v != 1 {
			return violation(fieldSchemaVersion, "must be 1, got %s", truncate(string(raw), 20))
		}
	}
	for name, raw := range fields {
		if !known(name) {
			if u.Extra == nil {
				u.Extra = make(map[string]json.RawMessage)
			}
			u.Extra[name] = raw
		}
	}
	return nil
}

func known(name string) bool {
	switch name {
	case fieldTrackingID, fieldStatus, fieldEventTime, fieldTimestamp, fieldEventID,
		fieldCarrier, fieldLocation, fieldDetails, fieldSchemaVersion:
		return true
	}
	return false
}

// decodeObject reads exactly one JSON object and nothing after it.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, &Error{Code: CodeMalformedJSON, Reason: "body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, &Error{Code: CodeContractViolation, Reason: "body must be a JSON object, got " + typeErr.Value}
		}
		return nil, &Error{Code: CodeMalformedJSON, Reason: err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Error{Code: CodeMalformedJSON, Reason: "unexpected data after the JSON object"}
	}
	if fields == nil {
		return nil, &Error{Code: CodeContractViolation, Reason: "body must be a JSON object, got null"}
	}
	return fields, nil
}

// present returns a field's raw value unless it is absent or null.
func present(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := fields[name]
	if !ok || kind(raw) == 'n' {
		return nil, false
	}
	return raw, true
}

// kind is the first byte of a JSON value: '"', '{', '[', 'n', 't', 'f' or a digit/minus.
func kind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func requiredString(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := present(fields, name)
	if !ok {
		return "", violation(name, "is required")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", violation(name, "must be a string")
	}
	return s, nil
}

func optionalString(fields map[string]json.RawMessage, name string) (*string, error) {
	raw, ok := present(fields, name)
	if !ok {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, violation(name, "must be a string")
	}
	return &s, nil
}

func eventTime(fields map[string]json.RawMessage) (time.Time, error) {
	parse := func(name string) (time.Time, bool, error) {
		s, err := optionalString(fields, name)
		if err != nil || s == nil {
			return time.Time{}, false, err
		}
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return time.Time{}, false, violation(name, "must be an RFC 3339 date-time such as 2026-11-25T14:03:00Z, got %q", truncate(*s, 40))
		}
		return t, true, nil
	}
	et, hasEventTime, err := parse(fieldEventTime)
	if err != nil {
		return time.Time{}, err
	}
	ts, hasTimestamp, err := parse(fieldTimestamp)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case hasEventTime && hasTimestamp && !et.Equal(ts):
		return time.Time{}, violation(fieldTimestamp, "is an alias of event_time and names another instant")
	case hasEventTime:
		return et.UTC(), nil
	case hasTimestamp:
		return ts.UTC(), nil
	default:
		return time.Time{}, violation(fieldEventTime, "is required (or its alias timestamp)")
	}
}

// canonicalContent renders the update with sorted keys, no spacing, nulls
// dropped and the event time under event_time in UTC, so that equivalent
// bodies hash alike.
func canonicalContent(fields map[string]json.RawMessage, at time.Time) ([]byte, error) {
	doc := make(map[string]any, len(fields))
	for name, raw := range fields {
		if name == fieldTimestamp || kind(raw) == 'n' {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, &Error{Code: CodeMalformedJSON, Field: name, Reason: err.Error()}
		}
		doc[name] = v
	}
	doc[fieldEventTime] = at.UTC().Format(EventTimeLayout)
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, &Error{Code: CodeMalformedJSON, Reason: err.Error()}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
