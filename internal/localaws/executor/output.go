package executor

import (
	"bytes"
	"io"
	"sync"
)

// linePrefixer writes whole lines with a prefix, safe for concurrent use.
type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	tap    func(line []byte) // sees each whole line, without the prefix
	buf    []byte
}

var outputMu sync.Mutex // lines of different processes do not interleave

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		if p.tap != nil {
			p.tap(p.buf[:i])
		}
		outputMu.Lock()
		_, _ = io.WriteString(p.w, p.prefix)
		_, _ = p.w.Write(p.buf[:i+1])
		outputMu.Unlock()
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
