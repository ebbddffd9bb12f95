package dynamodb

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// tableExtras is what kumo drops of a table's configuration.
type tableExtras struct {
	PITR      bool
	SSE       json.RawMessage // the CreateTable SSESpecification
	Protected bool            // DeletionProtectionEnabled (kumo's UpdateTable drops it)
}

type tableRequest struct {
	TableName                        string
	SSESpecification                 json.RawMessage
	PointInTimeRecoverySpecification *struct{ PointInTimeRecoveryEnabled bool }
	DeletionProtectionEnabled        *bool
	StreamSpecification              *streamSpec
	KeySchema                        []keyElement
}

// protectedTable is DynamoDB's refusal to delete a table with deletion
// protection on ("When this setting is enabled, the table cannot be
// deleted", DynamoDB Developer Guide, "Using deletion protection";
// ValidationException, as AWS answers).
const protectedTable = "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."

// ddbTable lets kumo run a table operation, then keeps or amends what kumo
// drops: the SSE specification on create, SSEDescription on describe.
func (s *Service) ddbTable(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, req, ok := readTableRequest(w, r)
		if !ok {
			return
		}
		switch {
		case op == "CreateTable":
			if msg := createTableRefusal(body); msg != "" {
				awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException", msg)
				return
			}
		case op == "DeleteTable" && s.protected(req.TableName):
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException", protectedTable)
			return
		}
		if msg := s.streamRefusal(op, req.TableName, req.StreamSpecification); msg != "" {
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationException", msg)
			return
		}
		keys := req.KeySchema
		if op == "UpdateTable" {
			if t := s.schemaFor(r.Context(), req.TableName); t != nil {
				keys = t.keySchema()
			}
		}
		s.describe.Lock()
		status, h, out, ok := s.kumo.Exchange(w, r, withoutStreamSpec(body))
		s.describe.Unlock()
		if !ok {
			return
		}
		if status < 300 {
			if op != "DescribeTable" {
				s.forgetSchema(req.TableName)
			}
			if op == "DeleteTable" {
				s.streams.disable(req.TableName)
			} else {
				s.applyStreamSpec(req.TableName, req.StreamSpecification, keys)
			}
			switch op {
			case "CreateTable":
				s.mu.Lock()
				s.tables[req.TableName] = &tableExtras{SSE: req.SSESpecification, Protected: req.DeletionProtectionEnabled != nil && *req.DeletionProtectionEnabled}
				s.mu.Unlock()
				out = s.withStream(withIndexThroughput(s.withSSE(out, "TableDescription", req.TableName), "TableDescription"), "TableDescription", req.TableName)
			case "UpdateTable":
				s.mu.Lock()
				if ex := s.tables[req.TableName]; ex != nil && req.DeletionProtectionEnabled != nil {
					ex.Protected = *req.DeletionProtectionEnabled
				}
				s.mu.Unlock()
				out = s.withStream(s.withProtection(out, "TableDescription", req.TableName), "TableDescription", req.TableName)
			case "DescribeTable":
				out = s.withStream(withIndexThroughput(s.withProtection(s.withSSE(out, "Table", req.TableName), "Table", req.TableName), "Table"), "Table", req.TableName)
			case "DeleteTable":
				s.mu.Lock()
				delete(s.tables, req.TableName)
				s.mu.Unlock()
			}
		}
		relayDDB(w, status, h, out)
	}
}

// withSSE adds the SSEDescription AWS reports for a table created with a
// customer-managed key.
func (s *Service) withSSE(doc []byte, field, table string) []byte {
	s.mu.Lock()
	ex := s.tables[table]
	s.mu.Unlock()
	if ex == nil || ex.SSE == nil {
		return doc
	}
	var spec struct {
		Enabled        bool
		SSEType        string
		KMSMasterKeyId string
	}
	var m map[string]map[string]any
	if json.Unmarshal(ex.SSE, &spec) != nil || !spec.Enabled || json.Unmarshal(doc, &m) != nil || m[field] == nil {
		return doc
	}
	m[field]["SSEDescription"] = map[string]string{"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": spec.KMSMasterKeyId}
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}

// protected reports whether table has deletion protection on.
func (s *Service) protected(table string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex := s.tables[table]
	return ex != nil && ex.Protected
}

// withProtection sets DeletionProtectionEnabled as the layer keeps it
// (kumo reports the value the table was created with).
func (s *Service) withProtection(doc []byte, field, table string) []byte {
	s.mu.Lock()
	ex := s.tables[table]
	s.mu.Unlock()
	var m map[string]map[string]any
	if ex == nil || json.Unmarshal(doc, &m) != nil || m[field] == nil {
		return doc
	}
	m[field]["DeletionProtectionEnabled"] = ex.Protected
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}

// withIndexThroughput adds the ProvisionedThroughput kumo leaves out of an
// on-demand table's global secondary indexes: AWS reports it for every index,
// "If read/write capacity mode is PAY_PER_REQUEST the value is set to 0"
// (API_ProvisionedThroughput). The Terraform provider reads an index's name
// only along with it, so without it every plan would replace the index.
func withIndexThroughput(doc []byte, field string) []byte {
	var m map[string]map[string]any
	if json.Unmarshal(doc, &m) != nil || m[field] == nil {
		return doc
	}
	indexes, _ := m[field]["GlobalSecondaryIndexes"].([]any)
	changed := false
	for _, ix := range indexes {
		if gsi, ok := ix.(map[string]any); ok && gsi["ProvisionedThroughput"] == nil {
			gsi["ProvisionedThroughput"] = map[string]int{"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0}
			changed = true
		}
	}
	if !changed {
		return doc
	}
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}

// ddbContinuousBackups keeps point-in-time recovery per table.
func (s *Service) ddbContinuousBackups(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, req, ok := readTableRequest(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		ex := s.tables[req.TableName]
		if ex == nil {
			s.mu.Unlock()
			awsapi.WriteError(w, http.StatusBadRequest, "TableNotFoundException", "Table not found: "+req.TableName)
			return
		}
		if op == "UpdateContinuousBackups" && req.PointInTimeRecoverySpecification != nil {
			ex.PITR = req.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled
		}
		pitr := ex.PITR
		s.mu.Unlock()
		status := "DISABLED"
		desc := map[string]any{"PointInTimeRecoveryStatus": status}
		if pitr {
			status = "ENABLED"
			desc = map[string]any{
				"PointInTimeRecoveryStatus":  status,
				"EarliestRestorableDateTime": float64(time.Now().Add(-time.Minute).Unix()),
				"LatestRestorableDateTime":   float64(time.Now().Unix()),
				"RecoveryPeriodInDays":       35,
			}
		}
		awsapi.WriteJSON(w, http.StatusOK, map[string]any{"ContinuousBackupsDescription": map[string]any{
			"ContinuousBackupsStatus":        "ENABLED",
			"PointInTimeRecoveryDescription": desc,
		}})
	}
}

func readTableRequest(w http.ResponseWriter, r *http.Request) ([]byte, tableRequest, bool) {
	var req tableRequest
	body, err := awsapi.ReadBody(r)
	if err != nil || json.Unmarshal(body, &req) != nil || req.TableName == "" {
		awsapi.WriteError(w, http.StatusBadRequest, "ValidationException", "TableName is required")
		return nil, req, false
	}
	return body, req, true
}

// relayDDB relays a DynamoDB answer with the CRC32 header the SDK checks.
func relayDDB(w http.ResponseWriter, status int, h http.Header, body []byte) {
	h = h.Clone()
	h.Set("X-Amz-Crc32", awsapi.CRC32(body))
	awsapi.Relay(w, status, h, body)
}

// addCRC32 adds the X-Amz-Crc32 header DynamoDB sends and the SDK
// validates, when kumo left it out.
func addCRC32(h http.Header, body []byte) []byte {
	if h.Get("X-Amz-Crc32") == "" {
		h.Set("X-Amz-Crc32", awsapi.CRC32(body))
	}
	return body
}
