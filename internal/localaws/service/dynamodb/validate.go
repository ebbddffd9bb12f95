package dynamodb

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// keySchema is a table's or an index's key schema.
type keySchema []struct{ AttributeName, KeyType string }

type createTableRequest struct {
	AttributeDefinitions []struct{ AttributeName string }
	KeySchema            keySchema
	LocalSecondaryIndexes,
	GlobalSecondaryIndexes []struct{ KeySchema keySchema }
}

// createTableRefusal is DynamoDB's ValidationException for a CreateTable
// whose attribute definitions and key schemas do not match, or "":
// "Some AttributeDefinitions are not used", "Some index key attribute have
// no definition" (CreateTable: "AttributeDefinitions - An array of
// attributes that describe the key schema for the table and indexes"), and
// a local secondary index on a table without a sort key ("Table KeySchema
// does not have a range key, which is required when specifying a
// LocalSecondaryIndex").
func createTableRefusal(body []byte) string {
	var req createTableRequest
	if json.Unmarshal(body, &req) != nil || len(req.KeySchema) == 0 {
		return "" // kumo answers a request it cannot read
	}
	used := map[string]bool{}
	schemas := []keySchema{req.KeySchema}
	for _, ix := range append(req.LocalSecondaryIndexes, req.GlobalSecondaryIndexes...) {
		schemas = append(schemas, ix.KeySchema)
	}
	for _, ks := range schemas {
		for _, k := range ks {
			used[k.AttributeName] = true
		}
	}
	defined := map[string]bool{}
	var names []string
	for _, d := range req.AttributeDefinitions {
		defined[d.AttributeName] = true
		names = append(names, d.AttributeName)
	}
	for name := range used {
		if !defined[name] {
			return "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [" + name + "]"
		}
	}
	if len(used) != len(defined) {
		keys := make([]string, 0, len(used))
		for k := range used {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [" +
			strings.Join(names, ", ") + "], keys used: [" + strings.Join(keys, ", ") + "]"
	}
	if len(req.LocalSecondaryIndexes) > 0 && !slices.ContainsFunc(req.KeySchema, func(k struct{ AttributeName, KeyType string }) bool { return k.KeyType == "RANGE" }) {
		return "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
	}
	return ""
}
