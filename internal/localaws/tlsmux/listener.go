package tlsmux

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// handshake is the first byte of a TLS connection: a handshake record
// (RFC 8446, 5.1, ContentType handshake(22)); an HTTP request starts with
// a method's letters.
const handshake = 0x16

// Wrap returns a listener whose connections are served over TLS with the
// authority's server certificate when the client opens with a TLS
// handshake, and as they are otherwise. Which one a connection is becomes
// known on its first read (net/http's serving goroutine), so accepting
// never waits on a client.
func Wrap(ln net.Listener, a *Authority) net.Listener {
	return &listener{Listener: ln, cfg: a.serverConfig()}
}

type listener struct {
	net.Listener
	cfg *tls.Config
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err //nolint:wrapcheck // a connection passes io.EOF and net errors through as they are
	}
	return &conn{Conn: c, buf: bufio.NewReader(c), cfg: l.cfg}, nil
}

// conn is a connection that decides on its first read or write whether it
// is TLS. Close closes the raw connection (no close_notify), so it never
// races with that decision.
type conn struct {
	net.Conn
	buf *bufio.Reader
	cfg *tls.Config

	once   sync.Once
	tls    *tls.Conn
	secure bool
	err    error
}

func (c *conn) sniff() {
	c.once.Do(func() {
		first, err := c.buf.Peek(1)
		if err != nil {
			c.err = err
			return
		}
		if first[0] == handshake {
			c.tls, c.secure = tls.Server(&peeked{Conn: c.Conn, r: c.buf}, c.cfg), true
		}
	})
}

func (c *conn) Read(p []byte) (int, error) {
	c.sniff()
	switch {
	case c.err != nil:
		return 0, c.err
	case c.tls != nil:
		return c.tls.Read(p) //nolint:wrapcheck // a connection passes io.EOF and net errors through as they are
	}
	return c.buf.Read(p) //nolint:wrapcheck // a connection passes io.EOF and net errors through as they are
}

func (c *conn) Write(p []byte) (int, error) {
	c.sniff()
	switch {
	case c.err != nil:
		return 0, c.err
	case c.tls != nil:
		return c.tls.Write(p) //nolint:wrapcheck // a connection passes io.EOF and net errors through as they are
	}
	return c.Conn.Write(p) //nolint:wrapcheck // a connection passes io.EOF and net errors through as they are
}

// peeked is the raw connection with the bytes already peeked in front.
type peeked struct {
	net.Conn
	r *bufio.Reader
}

func (p *peeked) Read(b []byte) (int, error) { return p.r.Read(b) } //nolint:wrapcheck // a connection passes io.EOF and net errors through as they are

type connKey struct{}

// ConnContext is http.Server's ConnContext hook: it keeps the connection in
// the request's context for Secure.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if mc, ok := c.(*conn); ok {
		return context.WithValue(ctx, connKey{}, mc)
	}
	return ctx
}

// Secure reports whether the request in ctx came over TLS ("aws:SecureTransport").
func Secure(ctx context.Context) bool {
	mc, ok := ctx.Value(connKey{}).(*conn)
	if !ok {
		return false
	}
	mc.sniff() // done already: the request was read
	return mc.secure
}
