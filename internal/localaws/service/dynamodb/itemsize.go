package dynamodb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
)

// item is an item in DynamoDB's JSON: attribute name -> AttributeValue
// ({"S": "..."}, {"N": "..."}, {"M": {...}}, ...), kept as it came.
type item map[string]json.RawMessage

// itemSize is an item's size as DynamoDB counts it for capacity units:
// "the sum of the lengths of its attribute names and values" (DynamoDB
// Developer Guide, "Item sizes and formats").
func itemSize(it item) int { return sizesOf(it).of(it) }

// sizes are an item's attributes' sizes (name and value), worked out once
// for the several sizes a write needs (the item, each index's entry).
type sizes map[string]int

func sizesOf(it item) sizes {
	out := make(sizes, len(it))
	for name, v := range it {
		out[name] = len(name) + valueSize(v)
	}
	return out
}

// of is the size of the attributes of part (the item, or an entry of it).
func (s sizes) of(part item) int {
	n := 0
	for name := range part {
		n += s[name]
	}
	return n
}

// valueSize is one AttributeValue's size ("Item sizes and formats"):
//   - strings and binary: their UTF-8 bytes, their raw bytes;
//   - numbers: 1 byte per two significant digits, plus 1 byte;
//   - null and Boolean: 1 byte;
//   - List and Map: 3 bytes of overhead, and 1 byte for each element
//     besides its size (a Map's element names count as attribute names);
//   - sets: the sum of their elements.
func valueSize(raw json.RawMessage) int {
	var v map[string]json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return len(raw)
	}
	for typ, val := range v {
		switch typ {
		case "S":
			if len(val) >= 2 && !bytes.ContainsRune(val, '\\') {
				return len(val) - 2 // a JSON string without escapes: its bytes between the quotes
			}
			var s string
			_ = json.Unmarshal(val, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(val, &s)
			return numberSize(s)
		case "B":
			return binarySize(val)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			var elems []string
			_ = json.Unmarshal(val, &elems)
			n := 0
			for _, e := range elems {
				switch typ {
				case "SS":
					n += len(e)
				case "NS":
					n += numberSize(e)
				default:
					n += binarySize(json.RawMessage(`"` + e + `"`))
				}
			}
			return n
		case "L":
			var elems []json.RawMessage
			_ = json.Unmarshal(val, &elems)
			n := 3
			for _, e := range elems {
				n += valueSize(e) + 1
			}
			return n
		case "M":
			var m item
			_ = json.Unmarshal(val, &m)
			n := 3
			for name, e := range m {
				n += len(name) + valueSize(e) + 1
			}
			return n
		}
	}
	return 0
}

// numberSize is a number's size: "Numbers are variable length, with up to
// 38 significant digits. Leading and trailing zeroes are trimmed. The size
// of a number is approximately (1 byte per two significant digits) + (1
// byte)" ("Item sizes and formats").
func numberSize(s string) int {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(intPart, "0")
	if digits == "" {
		digits = strings.TrimLeft(frac, "0")
	} else {
		digits += frac
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "0"
	}
	return (len(digits)+1)/2 + 1
}

// binarySize is the raw length of a base64-encoded Binary value.
func binarySize(val json.RawMessage) int {
	var s string
	if json.Unmarshal(val, &s) != nil {
		return 0
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return len(s)
	}
	return len(b)
}

// equalValues reports whether two AttributeValues are equal, however their
// JSON was spaced or ordered.
func equalValues(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
