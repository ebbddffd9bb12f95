package dynamodb

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// "The update expression's operands refer to the item as it was before
// the update": SET a = b copies b's old value, and if_not_exists(path,
// value) "evaluates to path if the item has it, else to value" (Developer
// Guide, "Using update expressions", SET: if_not_exists). kumo applies SET
// actions one by one to the item it is changing and evaluates
// if_not_exists only when the action sets the attribute it tests (SET a =
// if_not_exists(b, :v) leaves a alone when b exists). The layer binds such
// operands first: each top-level path operand, alone or in if_not_exists,
// becomes a value placeholder holding what it reads in the item before the
// update, which the layer holds under the item's lock. Operands inside
// arithmetic (a + :v, if_not_exists(a, :v) + :v) and nested paths are left
// to kumo (README, gap table).

// setOperandPrefix names the placeholders the layer adds.
const setOperandPrefix = ":localaws_operand_"

var (
	clauseKeyword = regexp.MustCompile(`(?i)(^|\s)(SET|REMOVE|ADD|DELETE)\s`)
	ifNotExists   = regexp.MustCompile(`(?i)^if_not_exists\s*\(\s*([^,()]+?)\s*,\s*(:[A-Za-z0-9_]+)\s*\)$`)
	topLevelPath  = regexp.MustCompile(`^(#[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)$`)
)

// errNoSuchAttribute is DynamoDB's refusal of an operand that reads an
// attribute the item lacks ("The provided expression refers to an
// attribute that does not exist in the item").
var errNoSuchAttribute = errors.New("The provided expression refers to an attribute that does not exist in the item") //nolint:staticcheck // DynamoDB's message, as it answers it

// bindSetOperands rewrites body's UpdateExpression so that its SET
// operands that read the item read old (nil for none). It returns body
// unchanged when there is nothing to bind.
func bindSetOperands(body []byte, old item) ([]byte, error) {
	var req map[string]json.RawMessage
	var expr string
	if !decodes(body, &req) || !decodes(req["UpdateExpression"], &expr) || expr == "" {
		return body, nil // kumo answers what is not an update expression
	}
	var names map[string]string
	values := map[string]json.RawMessage{}
	_ = json.Unmarshal(req["ExpressionAttributeNames"], &names)
	_ = json.Unmarshal(req["ExpressionAttributeValues"], &values)

	start, end, ok := setClause(expr)
	if !ok {
		return body, nil
	}
	assignments := splitTopLevel(expr[start:end])
	bound := 0
	for i, a := range assignments {
		target, operand, found := strings.Cut(a, "=")
		if !found {
			return body, nil // kumo refuses it
		}
		operand = strings.TrimSpace(operand)
		var path, fallback string
		if m := ifNotExists.FindStringSubmatch(operand); m != nil {
			path, fallback = m[1], m[2]
		} else if topLevelPath.MatchString(operand) {
			path = operand
		} else {
			continue
		}
		if !topLevelPath.MatchString(path) {
			continue
		}
		name := path
		if strings.HasPrefix(path, "#") {
			if name = names[path]; name == "" {
				return body, nil // kumo refuses the unknown name
			}
		}
		v, has := old[name]
		switch {
		case !has && fallback == "":
			return nil, errNoSuchAttribute
		case !has:
			if v = values[fallback]; v == nil {
				return body, nil // kumo refuses the unknown value
			}
		}
		ph := fmt.Sprintf("%s%04d", setOperandPrefix, bound) // fixed width, as placeholders.go explains
		bound++
		values[ph] = v
		assignments[i] = target + "= " + ph
	}
	if bound == 0 {
		return body, nil
	}
	expr = expr[:start] + " " + strings.Join(assignments, ",") + " " + expr[end:]
	req["UpdateExpression"], _ = json.Marshal(expr)
	req["ExpressionAttributeValues"], _ = json.Marshal(values)
	return json.Marshal(req) //nolint:wrapcheck // raw messages always encode
}

// setClause is the span of the SET clause's actions in expr.
func setClause(expr string) (start, end int, ok bool) {
	marks := clauseKeyword.FindAllStringSubmatchIndex(expr, -1)
	for i, m := range marks {
		if !strings.EqualFold(expr[m[4]:m[5]], "SET") || depthAt(expr, m[4]) != 0 {
			continue
		}
		end = len(expr)
		for _, n := range marks[i+1:] {
			if depthAt(expr, n[4]) == 0 {
				end = n[4]
				break
			}
		}
		return m[5], end, true
	}
	return 0, 0, false
}

// depthAt is how many parentheses are open at expr[i].
func depthAt(expr string, i int) int {
	return strings.Count(expr[:i], "(") - strings.Count(expr[:i], ")")
}

// splitTopLevel splits s at the commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, from := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[from:i])
				from = i + 1
			}
		}
	}
	return append(out, s[from:])
}

// decodes reports whether raw is JSON for v.
func decodes(raw []byte, v any) bool { return json.Unmarshal(raw, v) == nil }
