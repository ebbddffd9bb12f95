package trackctl

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

func TestReadNDJSON(t *testing.T) {
	t.Parallel()
	big := `{"x":"` + strings.Repeat("a", contract.MaxBodyBytes) + `"}`
	huge := `{"x":"` + strings.Repeat("b", 3<<20) + `"}` // past any line buffer
	tests := []struct {
		name      string
		in        string
		wantLines []int    // line numbers read, when valid
		wantErr   []string // each in the error, when refused
	}{
		{"valid, blank lines and CRLF skipped", "{\"a\":1}\r\n\n  \n{\"b\":2}\n", []int{1, 4}, nil},
		{"no final newline", `{"a":1}`, []int{1}, nil},
		{"not JSON", "{\"a\":1}\n{nope\n", nil, []string{"line(s) 2 (not JSON)", "nothing was sent"}},
		{"over the contract's size", "{\"a\":1}\n" + big + "\n", nil, []string{"2 (over 262144 bytes)"}},
		{"longer than any buffer, then more lines", huge + "\n{\"a\":1}\n{bad\n", nil, []string{"1 (over 262144 bytes)", "3 (not JSON)"}},
		{"invalid UTF-8", "{\"a\":\"\xff\xfe\"}\n", nil, []string{"1 (not UTF-8)"}},
		{"a NUL byte", "{\"a\":\"x\x00y\"}\n", nil, []string{`1 (character '\x00' at byte 7 is not allowed in an SQS message)`}},
		{"a non-character SQS refuses", "{\"a\":\"\uFFFE\"}\n", nil, []string{`is not allowed in an SQS message`}},
		{"every bad line named", "{bad\n{\"ok\":1}\n\x00\n", nil, []string{"1 (not JSON)", "3 (character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lines, err := readNDJSON(strings.NewReader(tt.in))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, ErrUsage)
				for _, w := range tt.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				assert.Nil(t, lines)
				return
			}
			require.NoError(t, err)
			got := make([]int, len(lines))
			for i, l := range lines {
				got[i] = l.n
			}
			assert.Equal(t, tt.wantLines, got)
		})
	}
}

// FuzzReadNDJSON: whatever the input, the reader does not panic, and what it
// accepts SQS and the contract's size rule accept too, with line numbers in
// order and within the input.
func FuzzReadNDJSON(f *testing.F) {
	for _, seed := range []string{
		"{\"a\":1}\n\n{\"b\":2}\r\n", "{nope\n", "\x00\n", "{\"a\":\"\xff\"}", `{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z"}`,
		"\n\n\n", "[1,2,3]\n\"s\"\n", "{\"a\":\"\uFFFE\"}\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines, err := readNDJSON(strings.NewReader(in))
		if err != nil {
			return
		}
		prev, total := 0, strings.Count(in, "\n")+1
		for _, l := range lines {
			if l.n <= prev || l.n > total {
				t.Fatalf("line number %d after %d, input has %d lines", l.n, prev, total)
			}
			prev = l.n
			if why := refused(l.body); why != "" {
				t.Fatalf("accepted line %d that SQS or the contract refuses: %s", l.n, why)
			}
		}
	})
}
