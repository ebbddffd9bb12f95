package contract_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

const schemaFile = "tracking-update.v1.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(schemaFile)
	require.NoError(t, err)
	return s
}

func examples(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("examples", dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no examples in %s", dir)
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out[filepath.Base(p)] = b
	}
	return out
}

func TestExamplesAgreeWithSchemaAndParser(t *testing.T) {
	t.Parallel()
	schema := compileSchema(t)
	for _, tt := range []struct {
		dir   string
		valid bool
	}{{"valid", true}, {"invalid", false}} {
		for name, body := range examples(t, tt.dir) {
			t.Run(tt.dir+"/"+name, func(t *testing.T) {
				t.Parallel()
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
				require.NoError(t, err)
				schemaErr := schema.Validate(doc)
				_, parseErr := contract.Parse(body)
				if tt.valid {
					assert.NoError(t, schemaErr, "schema rejects a valid example")
					assert.NoError(t, parseErr, "parser rejects a valid example")
					return
				}
				assert.Error(t, schemaErr, "schema accepts an invalid example")
				assert.Error(t, parseErr, "parser accepts an invalid example")
			})
		}
	}
}

const validBody = `{"tracking_id":"1Z999AA10123456784","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z"}`

// with returns validBody with field set to the raw JSON value (or removed when raw is "").
func with(t *testing.T, field, raw string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(validBody), &m))
	if raw == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		give      []byte
		wantCode  contract.Code
		wantField string
	}{
		{"oversize", []byte(`{"x":"` + strings.Repeat("a", contract.MaxBodyBytes) + `"}`), contract.CodeOversize, ""},
		{"empty body", []byte(``), contract.CodeMalformedJSON, ""},
		{"truncated json", []byte(`{"tracking_id":`), contract.CodeMalformedJSON, ""},
		{"trailing data", []byte(validBody + `{}`), contract.CodeMalformedJSON, ""},
		{"invalid utf-8", []byte("{\"tracking_id\":\"\xff\"}"), contract.CodeMalformedJSON, ""},
		{"array body", []byte(`[1,2]`), contract.CodeContractViolation, ""},
		{"nesting deeper than the decoder allows", []byte(`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z","details":` +
			strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}`), contract.CodeMalformedJSON, ""},
		{"a huge number where 1 is required", []byte(`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z","schema_version":1e999}`), contract.CodeContractViolation, "schema_version"},
		{"null body", []byte(`null`), contract.CodeContractViolation, ""},
		{"string body", []byte(`"hello"`), contract.CodeContractViolation, ""},
		{"tracking_id missing", with(t, "tracking_id", ""), contract.CodeContractViolation, "tracking_id"},
		{"tracking_id null", with(t, "tracking_id", "null"), contract.CodeContractViolation, "tracking_id"},
		{"tracking_id number", with(t, "tracking_id", "12345"), contract.CodeContractViolation, "tracking_id"},
		{"tracking_id empty", with(t, "tracking_id", `""`), contract.CodeContractViolation, "tracking_id"},
		{"tracking_id 65 chars", with(t, "tracking_id", `"`+strings.Repeat("A", 65)+`"`), contract.CodeContractViolation, "tracking_id"},
		{"tracking_id slash", with(t, "tracking_id", `"AB/12"`), contract.CodeContractViolation, "tracking_id"},
		{"status missing", with(t, "status", ""), contract.CodeContractViolation, "status"},
		{"status lower case", with(t, "status", `"delivered"`), contract.CodeContractViolation, "status"},
		{"status one char", with(t, "status", `"D"`), contract.CodeContractViolation, "status"},
		{"status 41 chars", with(t, "status", `"`+strings.Repeat("A", 41)+`"`), contract.CodeContractViolation, "status"},
		{"status leading digit", with(t, "status", `"1ST_SCAN"`), contract.CodeContractViolation, "status"},
		{"event_time missing", with(t, "event_time", ""), contract.CodeContractViolation, "event_time"},
		{"event_time not rfc3339", with(t, "event_time", `"2026-11-25 14:03:00"`), contract.CodeContractViolation, "event_time"},
		{"event_time no zone", with(t, "event_time", `"2026-11-25T14:03:00"`), contract.CodeContractViolation, "event_time"},
		{"event_time number", with(t, "event_time", `1764079380`), contract.CodeContractViolation, "event_time"},
		{"timestamp disagrees", with(t, "timestamp", `"2026-11-25T14:04:00Z"`), contract.CodeContractViolation, "timestamp"},
		{"event_id empty", with(t, "event_id", `""`), contract.CodeContractViolation, "event_id"},
		{"event_id 129 chars", with(t, "event_id", `"`+strings.Repeat("e", 129)+`"`), contract.CodeContractViolation, "event_id"},
		{"event_id object", with(t, "event_id", `{}`), contract.CodeContractViolation, "event_id"},
		{"carrier 65 chars", with(t, "carrier", `"`+strings.Repeat("c", 65)+`"`), contract.CodeContractViolation, "carrier"},
		{"carrier number", with(t, "carrier", `7`), contract.CodeContractViolation, "carrier"},
		{"location array", with(t, "location", `["a"]`), contract.CodeContractViolation, "location"},
		{"location number", with(t, "location", `12`), contract.CodeContractViolation, "location"},
		{"details string", with(t, "details", `"x"`), contract.CodeContractViolation, "details"},
		{"schema_version 2", with(t, "schema_version", `2`), contract.CodeContractViolation, "schema_version"},
		{"schema_version string", with(t, "schema_version", `"1"`), contract.CodeContractViolation, "schema_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := contract.Parse(tt.give)
			require.Error(t, err)
			ce, ok := contract.AsError(err)
			require.True(t, ok, "error %v is not a contract error", err)
			assert.Equal(t, tt.wantCode, ce.Code)
			assert.Equal(t, tt.wantField, ce.Field)
			assert.NotEmpty(t, ce.Reason)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)
	tests := []struct {
		name  string
		give  []byte
		check func(t *testing.T, u contract.Update)
	}{
		{"minimal", []byte(validBody), func(t *testing.T, u contract.Update) {
			assert.Equal(t, "1Z999AA10123456784", u.TrackingID)
			assert.Equal(t, "IN_TRANSIT", u.Status)
			assert.True(t, at.Equal(u.EventTime))
			assert.True(t, u.EventIDDerived)
			assert.Regexp(t, `^derived-[0-9a-f]{32}$`, u.EventID)
			assert.Len(t, u.PayloadHash, 64)
		}},
		{"timestamp alias", []byte(strings.Replace(validBody, "event_time", "timestamp", 1)), nil},
		{"offset normalised to UTC", with(t, "event_time", `"2026-11-25T15:03:00+01:00"`), func(t *testing.T, u contract.Update) {
			assert.Equal(t, "2026-11-25T14:03:00.000000000Z", u.EventTimeKey())
		}},
		{"producer event_id kept", with(t, "event_id", `"evt-1"`), func(t *testing.T, u contract.Update) {
			assert.Equal(t, "evt-1", u.EventID)
			assert.False(t, u.EventIDDerived)
		}},
		{"event_id 128 chars", with(t, "event_id", `"`+strings.Repeat("e", 128)+`"`), nil},
		{"huge numbers in details kept verbatim", with(t, "details", `{"n":1e999,"m":123456789012345678901234567890}`), func(t *testing.T, u contract.Update) {
			assert.Equal(t, `{"n":1e999,"m":123456789012345678901234567890}`, string(u.Details))
		}},
		{"tracking_id 64 chars", with(t, "tracking_id", `"`+strings.Repeat("A", 64)+`"`), nil},
		{"carrier 64 multibyte chars", with(t, "carrier", `"`+strings.Repeat("é", 64)+`"`), nil},
		{"location string", with(t, "location", `"Leipzig"`), func(t *testing.T, u contract.Update) {
			assert.JSONEq(t, `"Leipzig"`, string(u.Location))
		}},
		{"location object", with(t, "location", `{"city":"Leipzig"}`), nil},
		{"optional nulls are absent", with(t, "carrier", `null`), func(t *testing.T, u contract.Update) {
			assert.Empty(t, u.Carrier)
		}},
		{"unknown fields kept", with(t, "route", `{"leg":3}`), func(t *testing.T, u contract.Update) {
			assert.JSONEq(t, `{"leg":3}`, string(u.Extra["route"]))
		}},
		{"schema_version 1", with(t, "schema_version", `1`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := contract.Parse(tt.give)
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, u)
			}
		})
	}
}

func TestPayloadHashIdentifiesContent(t *testing.T) {
	t.Parallel()
	parse := func(body string) contract.Update {
		u, err := contract.Parse([]byte(body))
		require.NoError(t, err)
		return u
	}
	base := parse(`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z","details":{"a":1,"b":2}}`)

	same := []string{
		`{"status":"IN_TRANSIT","tracking_id":"T1","details":{"b":2,"a":1},"event_time":"2026-11-25T14:03:00Z"}`,
		`{ "tracking_id" : "T1", "status":"IN_TRANSIT", "timestamp":"2026-11-25T15:03:00+01:00", "details":{"a":1,"b":2}, "carrier": null }`,
	}
	for _, body := range same {
		u := parse(body)
		assert.Equal(t, base.PayloadHash, u.PayloadHash, body)
		assert.Equal(t, base.EventID, u.EventID, "a producer retry must derive the same event id: %s", body)
	}
	different := []string{
		`{"tracking_id":"T1","status":"DELIVERED","event_time":"2026-11-25T14:03:00Z","details":{"a":1,"b":2}}`,
		`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:01Z","details":{"a":1,"b":2}}`,
		`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z","details":{"a":1,"b":3}}`,
		`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z","details":{"a":1,"b":2},"extra":true}`,
	}
	for _, body := range different {
		u := parse(body)
		assert.NotEqual(t, base.PayloadHash, u.PayloadHash, body)
		assert.NotEqual(t, base.EventID, u.EventID, body)
	}
}

// FuzzParse checks that no input panics and every input is either a valid
// update or a classified contract error. `make test` runs the seed corpus;
// `make fuzz` explores.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validBody))
	f.Add([]byte(`{"tracking_id":"a","status":"AB","timestamp":"2026-01-01T00:00:00Z","location":{"x":[1,2,{"y":null}]}}`))
	f.Add([]byte(`{"tracking_id":"a","status":"AB","event_time":"2026-01-01T00:00:00Z","schema_version":1.0}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"a":1}{"b":2}`))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(`{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z","details":{"n":1e999,"m":123456789012345678901234567890}}`))
	f.Add([]byte(`{"details":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := contract.Parse(body)
		if err != nil {
			ce, ok := contract.AsError(err)
			if !ok {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			switch ce.Code {
			case contract.CodeOversize, contract.CodeMalformedJSON, contract.CodeContractViolation:
			default:
				t.Fatalf("unknown code %q", ce.Code)
			}
			return
		}
		if u.TrackingID == "" || u.Status == "" || u.EventID == "" || len(u.PayloadHash) != 64 || u.EventTime.IsZero() {
			t.Fatalf("accepted an incomplete update: %+v", u)
		}
		again, err := contract.Parse(body)
		if err != nil || again.PayloadHash != u.PayloadHash || again.EventID != u.EventID {
			t.Fatalf("parse is not deterministic")
		}
	})
}
