package eventpattern

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParse: what PutRule (EventBridge) and CreateEventSourceMapping's
// filter criteria (Lambda) refuse, per the "Comparison operators for use
// in event patterns" table and Lambda's "Filter rule syntax".
func TestParse(t *testing.T) {
	t.Parallel()
	manyOr := `{"$or":[` + strings.Repeat(`{"a":["1"]},`, 10) + `{"a":["2"]}],"b":{"$or":[` + strings.Repeat(`{"c":["1"]},`, 10) + `{"c":["2"]}]},` +
		`"d":{"$or":[` + strings.Repeat(`{"e":["1"]},`, 10) + `{"e":["2"]}]}}` // 11 x 11 x 11 = 1331
	tests := []struct {
		name, doc           string
		eventBridge, lambda error // nil: valid
	}{
		{"values", `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"]}`, nil, nil},
		{"null, empty, number, boolean", `{"a":[null,"",1.5,true]}`, nil, nil},
		{"$or", `{"$or":[{"a":["1"]},{"b":[2]}]}`, nil, nil},
		{"prefix", `{"a":[{"prefix":"us-"}]}`, nil, nil},
		{"suffix", `{"a":[{"suffix":".png"}]}`, nil, nil},
		{"equals-ignore-case", `{"a":[{"equals-ignore-case":"alice"}]}`, nil, nil},
		{"exists", `{"a":[{"exists":false}]}`, nil, nil},
		{"anything-but a value", `{"a":[{"anything-but":"initializing"}]}`, nil, nil},
		{"anything-but numbers", `{"a":[{"anything-but":[100,200]}]}`, nil, nil},
		{"numeric equals", `{"a":[{"numeric":["=",100]}]}`, nil, nil},
		{"numeric range", `{"a":[{"numeric":[">",10,"<=",20]}]}`, nil, nil},
		{"prefix ignoring case", `{"a":[{"prefix":{"equals-ignore-case":"eventb"}}]}`, nil, ErrNotEmulated},
		{"suffix ignoring case", `{"a":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, nil, ErrNotEmulated},
		{"anything-but a prefix", `{"a":[{"anything-but":{"prefix":"us-"}}]}`, nil, ErrNotEmulated},
		{"anything-but a suffix", `{"a":[{"anything-but":{"suffix":".png"}}]}`, nil, ErrNotEmulated},
		{"anything-but ignoring case", `{"a":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}`, nil, ErrNotEmulated},
		{"anything-but a wildcard", `{"a":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, nil, ErrNotEmulated},
		{"cidr", `{"a":[{"cidr":"10.0.0.0/24"}]}`, nil, ErrNotEmulated},
		{"cidr IPv6", `{"a":[{"cidr":"2001:db8::/32"}]}`, nil, ErrNotEmulated},
		{"wildcard", `{"a":[{"wildcard":"dir/*.png"}]}`, nil, ErrNotEmulated},
		{"wildcard with escapes", `{"a":[{"wildcard":"a\\*b\\\\*"}]}`, nil, ErrNotEmulated},

		{"not JSON", `{"a":`, ErrInvalid, ErrInvalid},
		{"not an object", `["a"]`, ErrInvalid, ErrInvalid},
		{"empty", `{}`, ErrInvalid, ErrInvalid},
		{"a bare value", `{"body":{"status":"DELIVERED"}}`, ErrInvalid, ErrInvalid},
		{"an empty array", `{"a":[]}`, ErrInvalid, ErrInvalid},
		{"a nested array", `{"a":[["x"]]}`, ErrInvalid, ErrInvalid},
		{"an unknown operator", `{"a":[{"starts-with":"x"}]}`, ErrInvalid, ErrInvalid},
		{"two operators in a filter", `{"a":[{"prefix":"x","exists":true}]}`, ErrInvalid, ErrInvalid},
		{"$or of one", `{"$or":[{"a":["1"]}]}`, ErrInvalid, ErrInvalid},
		{"$or of a value", `{"$or":[{"a":["1"]},"b"]}`, ErrInvalid, ErrInvalid},
		{"$or over 1000 combinations", manyOr, ErrInvalid, ErrInvalid},
		{"exists of a string", `{"a":[{"exists":"yes"}]}`, ErrInvalid, ErrInvalid},
		{"prefix of a number", `{"a":[{"prefix":1}]}`, ErrInvalid, ErrInvalid},
		{"anything-but of mixed kinds", `{"a":[{"anything-but":["a",1]}]}`, ErrInvalid, ErrInvalid},
		{"anything-but of an empty list", `{"a":[{"anything-but":[]}]}`, ErrInvalid, ErrInvalid},
		{"numeric without a number", `{"a":[{"numeric":[">","10"]}]}`, ErrInvalid, ErrInvalid},
		{"numeric over 5.0e9", `{"a":[{"numeric":["<",5000000001]}]}`, ErrInvalid, ErrInvalid},
		{"numeric with two lower bounds", `{"a":[{"numeric":[">",1,">=",2]}]}`, ErrInvalid, ErrInvalid},
		{"numeric = in a range", `{"a":[{"numeric":["=",1,"<",2]}]}`, ErrInvalid, ErrInvalid},
		{"numeric with an unknown operator", `{"a":[{"numeric":["!=",1]}]}`, ErrInvalid, ErrInvalid},
		{"a cidr that is none", `{"a":[{"cidr":"10.0.0.300/24"}]}`, ErrInvalid, ErrNotEmulated},
		{"consecutive wildcards", `{"a":[{"wildcard":"a**b"}]}`, ErrInvalid, ErrNotEmulated},
		{"a backslash escaping another character", `{"a":[{"wildcard":"a\\b*"}]}`, ErrInvalid, ErrNotEmulated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for d, want := range map[Dialect]error{EventBridge: tt.eventBridge, Lambda: tt.lambda} {
				_, err := ParseAs(d, tt.doc)
				if want == nil {
					assert.NoError(t, err, "dialect %d", d)
					continue
				}
				assert.ErrorIs(t, err, want, "dialect %d", d)
			}
		})
	}
}

// TestMatches applies each operator to one event (EventBridge User Guide,
// "Comparison operators for use in event patterns", its examples).
func TestMatches(t *testing.T) {
	t.Parallel()
	ev, err := Decode([]byte(`{"source":"aws.cloudwatch","detail":{"state":{"value":"ALARM"},"tags":["a","b"],"n":3,"price":100,"exact":300,
		"ip":"10.0.0.17","ip6":"2001:db8::1","file":"dir/photo.PNG","path":"/usr/lib/x.jar","empty":"","none":null,"flag":true},
		"body":{"status":"DELIVERED"},"items":[{"k":"a"},{"k":"b"}]}`))
	require.NoError(t, err)
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"source":["aws.cloudwatch"]}`, true},
		{`{"source":["aws.events"]}`, false},
		{`{"detail":{"state":{"value":["OK","ALARM"]}}}`, true},
		{`{"detail":{"tags":["b"]}}`, true},
		{`{"detail":{"tags":["c"]}}`, false},
		{`{"detail":{"n":[3]}}`, true},
		// Exact numbers compare as written: 300 is not 300.0 or 3.0e2 (Lambda's "Filter rule syntax").
		{`{"detail":{"exact":[300]}}`, true},
		{`{"detail":{"exact":[300.0]}}`, false},
		{`{"detail":{"exact":[3.0e2]}}`, false},
		{`{"detail":{"empty":[""]}}`, true},
		{`{"detail":{"empty":[null]}}`, false}, // "Null values and empty strings are not interchangeable"
		{`{"detail":{"none":[null]}}`, true},
		{`{"detail":{"none":[""]}}`, false},
		{`{"detail":{"flag":[true]}}`, true},
		{`{"body":{"status":[{"prefix":"DELIV"}]}}`, true},
		{`{"body":{"status":[{"prefix":"deliv"}]}}`, false},
		{`{"body":{"status":[{"prefix":{"equals-ignore-case":"deliv"}}]}}`, true},
		{`{"body":{"status":[{"suffix":"ERED"}]}}`, true},
		{`{"detail":{"file":[{"suffix":".png"}]}}`, false},
		{`{"detail":{"file":[{"suffix":{"equals-ignore-case":".png"}}]}}`, true},
		{`{"body":{"status":[{"equals-ignore-case":"delivered"}]}}`, true},
		{`{"body":{"status":[{"equals-ignore-case":"deliver"}]}}`, false},
		{`{"body":{"status":[{"anything-but":["DELIVERED"]}]}}`, false},
		{`{"body":{"status":[{"anything-but":"EXCEPTION"}]}}`, true},
		{`{"detail":{"price":[{"anything-but":[100,200]}]}}`, false},
		{`{"detail":{"price":[{"anything-but":[200]}]}}`, true},
		{`{"body":{"status":[{"anything-but":{"prefix":"DEL"}}]}}`, false},
		{`{"body":{"status":[{"anything-but":{"prefix":"EXC"}}]}}`, true},
		{`{"body":{"status":[{"anything-but":{"suffix":"RED"}}]}}`, false},
		{`{"body":{"status":[{"anything-but":{"equals-ignore-case":["delivered","lost"]}}]}}`, false},
		{`{"body":{"status":[{"anything-but":{"equals-ignore-case":"lost"}}]}}`, true},
		{`{"detail":{"path":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, false},
		{`{"detail":{"path":[{"anything-but":{"wildcard":["*/bin/*","*.txt"]}}]}}`, true},
		{`{"detail":{"price":[{"numeric":["=",100]}]}}`, true},
		{`{"detail":{"price":[{"numeric":["=",100.0]}]}}`, true}, // numeric matching reads the value
		{`{"detail":{"price":[{"numeric":[">",10,"<=",100]}]}}`, true},
		{`{"detail":{"price":[{"numeric":[">",10,"<",100]}]}}`, false},
		{`{"detail":{"price":[{"numeric":[">=",100]}]}}`, true},
		{`{"detail":{"price":[{"numeric":["<",100]}]}}`, false},
		{`{"body":{"status":[{"numeric":[">",0]}]}}`, false}, // "works with values that are JSON numbers"
		{`{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}`, true},
		{`{"detail":{"ip":[{"cidr":"10.0.1.0/24"}]}}`, false},
		{`{"detail":{"ip6":[{"cidr":"2001:db8::/32"}]}}`, true},
		{`{"detail":{"file":[{"cidr":"10.0.0.0/8"}]}}`, false},
		{`{"detail":{"file":[{"wildcard":"dir/*.PNG"}]}}`, true},
		{`{"detail":{"file":[{"wildcard":"dir/*.png"}]}}`, false},
		{`{"detail":{"path":[{"wildcard":"*/lib/*"}]}}`, true},
		{`{"detail":{"path":[{"wildcard":"/usr/*/x.jar"}]}}`, true},
		{`{"detail":{"path":[{"wildcard":"/usr/*/y.jar"}]}}`, false},
		{`{"body":{"reason":[{"exists":false}]}}`, true},
		{`{"body":{"reason":[{"exists":true}]}}`, false},
		{`{"body":{"reason":[null]}}`, false},
		{`{"$or":[{"source":["x"]},{"body":{"status":["DELIVERED"]}}]}`, true},
		{`{"$or":[{"source":["x"]},{"body":{"status":["LOST"]}}]}`, false},
		{`{"detail":{"state":["ALARM"]}}`, false},
		// A missing parent leaves every leaf below it absent (aws/event-ruler,
		// GenericMachineTest.testEmptyInput: detail.c-count exists:false matches "{}").
		{`{"missing":{"b":[{"exists":false}]}}`, true},
		{`{"missing":{"b":[{"exists":true}]}}`, false},
		{`{"missing":{"b":["x"]}}`, false},
		{`{"source":{"b":[{"exists":false}]}}`, true},
		// An array of objects matches when one of them does.
		{`{"items":{"k":["b"]}}`, true},
		{`{"items":{"k":["c"]}}`, false},
	}
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		require.NoError(t, err, tt.pattern)
		assert.Equal(t, tt.want, p.Matches(ev), tt.pattern)
	}
}

// TestMatchesAnEventBuiltInGo: an AWS service's own event (CloudWatch's
// alarm state change) is a Go map whose lists may be []string.
func TestMatchesAnEventBuiltInGo(t *testing.T) {
	t.Parallel()
	p, err := Parse(`{"source":["aws.cloudwatch"],"resources":["arn:alarm:a"]}`)
	require.NoError(t, err)
	assert.True(t, p.Matches(map[string]any{"source": "aws.cloudwatch", "resources": []string{"arn:alarm:b", "arn:alarm:a"}}))
	assert.False(t, p.Matches(map[string]any{"source": "aws.cloudwatch", "resources": []string{"arn:alarm:b"}}))
}

// TestWildcardEscapes: \* and \\ stand for the literal characters.
func TestWildcardEscapes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		wildcard, s string
		want        bool
	}{
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`a\\*`, `a\anything`, true},
		{`*.png`, ".png", true},
		{`a*a`, "a", false},
		{`a*b*c`, "abbc", true},
		{`a*b*c`, "acb", false},
	} {
		assert.Equal(t, tt.want, wildcardMatch(tt.wildcard, tt.s), "%s ~ %s", tt.wildcard, tt.s)
	}
}
