package trackctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// line is one NDJSON line to send, with its 1-based number.
type line struct {
	n    int
	body string
}

// maxLineBytes bounds what the reader holds for one line: past the
// contract's limit a line is refused anyway, so it is skipped, not held.
const maxLineBytes = contract.MaxBodyBytes + 1

// readNDJSON reads non-blank lines. Any line that SQS or the contract would
// refuse (not JSON, over contract.MaxBodyBytes, not UTF-8, or holding a
// character SQS does not allow) fails the whole input, naming every bad line
// and why, so nothing is sent half-way.
func readNDJSON(r io.Reader) ([]line, error) {
	br := bufio.NewReader(r)
	var lines []line
	var bad []string
	for n := 1; ; n++ {
		text, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read input: %w", err)
		}
		if tooLong {
			bad = append(bad, fmt.Sprintf("%d (over %d bytes)", n, contract.MaxBodyBytes))
		} else if body := strings.TrimSpace(text); body != "" {
			if why := refused(body); why != "" {
				bad = append(bad, fmt.Sprintf("%d (%s)", n, why))
			} else {
				lines = append(lines, line{n: n, body: body})
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: invalid NDJSON at line(s) %s; nothing was sent", ErrUsage, strings.Join(bad, ", "))
	}
	return lines, nil
}

// readLine returns the next line without its newline; a line longer than
// maxLineBytes is consumed whole and reported as too long, not held.
func readLine(br *bufio.Reader) (string, bool, error) {
	var sb strings.Builder
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if sb.Len()+len(chunk) > maxLineBytes {
				tooLong = true
				sb.Reset()
			} else {
				sb.Write(chunk)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return "", true, err //nolint:wrapcheck // io.EOF, or the reader's own error, wrapped by the caller
		}
		return strings.TrimSuffix(sb.String(), "\n"), false, err //nolint:wrapcheck // as above
	}
}

// refused says why SQS or the contract would refuse body, or "".
func refused(body string) string {
	switch {
	case len(body) > contract.MaxBodyBytes:
		return fmt.Sprintf("over %d bytes", contract.MaxBodyBytes)
	case !utf8.ValidString(body):
		return "not UTF-8"
	}
	for i, r := range body {
		if !sqsAllowed(r) {
			return "character " + strconv.QuoteRune(r) + " at byte " + strconv.Itoa(i) + " is not allowed in an SQS message"
		}
	}
	if !json.Valid([]byte(body)) {
		return "not JSON"
	}
	return ""
}

// sqsAllowed is SendMessage's rule for a message body: #x9 | #xA | #xD |
// #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF (Amazon SQS API
// reference, SendMessage, MessageBody).
func sqsAllowed(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
