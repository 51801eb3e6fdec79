package sftptest

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// pipeBuffer bounds the bytes in flight in one direction of a pipe.
const pipeBuffer = 1 << 20

// pipe returns two connected in-memory net.Conns. Unlike net.Pipe, writes
// are buffered (up to pipeBuffer), so two peers that write before they
// read, as both sides of an SSH version exchange do, do not deadlock.
func pipe() (net.Conn, net.Conn) {
	a, b := newHalf(), newHalf()
	return &pipeConn{r: a, w: b}, &pipeConn{r: b, w: a}
}

// half is one direction of a pipe.
type half struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newHalf() *half {
	h := &half{}
	h.cond = sync.NewCond(&h.mu)
	return h
}

func (h *half) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cond.Broadcast()
}

type pipeConn struct {
	r, w *half
	once sync.Once
}

func (c *pipeConn) Read(p []byte) (int, error) {
	h := c.r
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.buf) == 0 && !h.closed {
		h.cond.Wait()
	}
	if len(h.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	h.cond.Broadcast()
	return n, nil
}

func (c *pipeConn) Write(p []byte) (int, error) {
	h := c.w
	h.mu.Lock()
	defer h.mu.Unlock()
	written := 0
	for written < len(p) {
		for len(h.buf) >= pipeBuffer && !h.closed {
			h.cond.Wait()
		}
		if h.closed {
			return written, io.ErrClosedPipe
		}
		n := min(len(p)-written, pipeBuffer-len(h.buf))
		h.buf = append(h.buf, p[written:written+n]...)
		written += n
		h.cond.Broadcast()
	}
	return written, nil
}

func (c *pipeConn) Close() error {
	c.once.Do(func() {
		c.r.close()
		c.w.close()
	})
	return nil
}

// pipeAddr is a documentation address (RFC 5737): knownhosts wants a
// host:port.
var pipeAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}

func (c *pipeConn) LocalAddr() net.Addr  { return pipeAddr }
func (c *pipeConn) RemoteAddr() net.Addr { return pipeAddr }

// Deadlines are not supported; the SSH code under test does not set any.
func (c *pipeConn) SetDeadline(time.Time) error      { return os.ErrNoDeadline }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return os.ErrNoDeadline }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return os.ErrNoDeadline }
