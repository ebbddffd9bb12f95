package logs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilterPatterns(t *testing.T) {
	t.Parallel()
	const (
		errLine  = `{"level":"error","msg":"write failed","latency":250,"retry":true,"tags":["a","b"],"err":null}`
		infoLine = `{"level":"info","msg":"batch done","latency":12,"retry":false}`
		text     = `2026-12-02 ERROR Internal Server Error on /track`
	)
	tests := []struct {
		pattern string
		event   string
		want    bool
	}{
		{"", text, true},
		{"ERROR", text, true},
		{"ERROR /track", text, true},
		{"ERROR WARN", text, false},
		{"?WARN ?ERROR", text, true},
		{"?WARN ?FATAL", text, false},
		{"ERROR -Internal", text, false},
		{`"Internal Server Error"`, text, true},
		{`"Internal Error"`, text, false},
		{"error", text, false}, // case sensitive
		{`{ $.level = "error" }`, errLine, true},
		{`{ $.level = "error" }`, infoLine, false},
		{`{ $.level = "error" }`, text, false}, // not JSON
		{`{ $.level != "error" }`, infoLine, true},
		{`{ $.msg = "write*" }`, errLine, true},
		{`{ $.latency > 100 }`, errLine, true},
		{`{ $.latency > 100 }`, infoLine, false},
		{`{ $.latency <= 12 }`, infoLine, true},
		{`{ $.retry IS TRUE }`, errLine, true},
		{`{ $.retry IS FALSE }`, infoLine, true},
		{`{ $.err IS NULL }`, errLine, true},
		{`{ $.err NOT EXISTS }`, infoLine, true},
		{`{ $.tags[1] = "b" }`, errLine, true},
		{`{ $.level = "error" && $.latency > 1000 }`, errLine, false},
		{`{ $.level = "error" || $.latency > 1000 }`, errLine, true},
		{`{ ($.level = "info" || $.level = "error") && $.retry IS TRUE }`, errLine, true},
		{`{ ($.level = "info" || $.level = "error") && $.retry IS TRUE }`, infoLine, false},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		require.NoError(t, err, tt.pattern)
		assert.Equal(t, tt.want, p.match(tt.event), "%s on %s", tt.pattern, tt.event)
	}
}

func TestFilterPatternsRefused(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`[ip, user, status = 500]`, `{ $.level = }`, `{ level = "x" }`, `{ $.a > "x" }`, `{ ($.a = 1 }`, `{ $.a = 1 `} {
		_, err := parsePattern(bad)
		assert.Error(t, err, bad)
	}
}
