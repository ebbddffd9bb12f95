package dynamodb

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// Expression attribute names and values are tokens: "#c1" and "#c10" are
// two names (Developer Guide, "Expression attribute names", "Expression
// attribute values"). kumo substitutes names with strings.ReplaceAll in map
// order, so that a name that begins another ("#c1" in "#c10") can replace
// part of it, and the write lands on an attribute nobody named. The layer
// renames every placeholder of a single-item write to one fixed width
// before kumo reads it, which no other placeholder can begin (README, gap
// table: not done for the items of TransactWriteItems).

// expressionFields are the request fields that hold expressions.
var expressionFields = []string{"UpdateExpression", "ConditionExpression", "ProjectionExpression", "KeyConditionExpression", "FilterExpression"}

var placeholderToken = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// fixedWidthPlaceholders renames body's expression attribute names to
// #n0000.. and values to :v0000.., token by token.
func fixedWidthPlaceholders(body []byte) []byte {
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return body
	}
	var names map[string]json.RawMessage
	var values map[string]json.RawMessage
	_ = json.Unmarshal(req["ExpressionAttributeNames"], &names)
	_ = json.Unmarshal(req["ExpressionAttributeValues"], &values)
	if len(names) < 2 && len(values) < 2 {
		return body
	}
	rename := map[string]string{}
	renamed := func(m map[string]json.RawMessage, format string) map[string]json.RawMessage {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]json.RawMessage, len(m))
		for i, k := range keys {
			rename[k] = fmt.Sprintf(format, i)
			out[rename[k]] = m[k]
		}
		return out
	}
	if names != nil {
		req["ExpressionAttributeNames"], _ = json.Marshal(renamed(names, "#n%04d"))
	}
	if values != nil {
		req["ExpressionAttributeValues"], _ = json.Marshal(renamed(values, ":v%04d"))
	}
	for _, field := range expressionFields {
		var expr string
		if json.Unmarshal(req[field], &expr) != nil || expr == "" {
			continue
		}
		expr = placeholderToken.ReplaceAllStringFunc(expr, func(tok string) string {
			if r, ok := rename[tok]; ok {
				return r
			}
			return tok // kumo refuses what is not defined, as DynamoDB does
		})
		req[field], _ = json.Marshal(expr)
	}
	out, err := json.Marshal(req)
	if err != nil {
		return body
	}
	return out
}
