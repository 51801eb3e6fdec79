package sftpdrop

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"golang.org/x/crypto/ssh"
)

// The SFTP version 3 packets the lister speaks (draft-ietf-secsh-filexfer-02).
const (
	fxpInit    = 1
	fxpVersion = 2
	fxpClose   = 4
	fxpOpendir = 11
	fxpReaddir = 12
	fxpStatus  = 101
	fxpHandle  = 102
	fxpName    = 104

	fxOK       = 0
	fxEOF      = 1
	fxNoSuch   = 2
	fxDenied   = 3
	attrSize   = 0x1
	attrUIDGID = 0x2
	attrPerm   = 0x4
	attrTime   = 0x8
	attrExt    = 0x80000000

	// maxListPacket bounds one reply: OpenSSH sends at most 256 KiB.
	maxListPacket = 4 << 20
)

// Type bits of the permissions attribute (POSIX st_mode).
const (
	modeType    = 0o170000
	modeRegular = 0o100000
	modeDir     = 0o040000
	modeSymlink = 0o120000
)

// dirEntry is one entry of a READDIR reply.
type dirEntry struct {
	name     string
	size     int64
	mode     uint32
	mtime    time.Time
	hasSize  bool
	hasMode  bool
	hasMtime bool
}

func (e dirEntry) complete() bool { return e.hasSize && e.hasMode && e.hasMtime }

// lister reads remote folders page by page over an SFTP session of its
// own. pkg/sftp's ReadDir collects a whole folder before it returns; a
// folder of 100,000 files must not have to fit in memory, so the channel
// reads the directory stream itself and stops when it has enough. A
// lister is used by one goroutine at a time.
type lister struct {
	sess *ssh.Session
	w    io.WriteCloser
	r    *bufio.Reader
	id   uint32
	buf  []byte
}

// newLister opens an SFTP subsystem session on client.
func newLister(client *ssh.Client) (*lister, error) {
	sess, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("opening listing session: %w", err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("opening listing session: %w", err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("opening listing session: %w", err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		sess.Close()
		return nil, fmt.Errorf("requesting sftp subsystem: %w", err)
	}
	l := &lister{sess: sess, w: w, r: bufio.NewReaderSize(r, 64<<10)}
	if err := l.send(fxpInit, binary.BigEndian.AppendUint32(nil, 3)); err != nil {
		l.close()
		return nil, err
	}
	typ, _, err := l.recv()
	if err != nil {
		l.close()
		return nil, err
	}
	if typ != fxpVersion {
		l.close()
		return nil, fmt.Errorf("sftp init: unexpected packet type %d", typ)
	}
	return l, nil
}

func (l *lister) close() error { return l.sess.Close() }

func (l *lister) send(typ byte, payload []byte) error {
	l.buf = binary.BigEndian.AppendUint32(l.buf[:0], uint32(1+len(payload)))
	l.buf = append(l.buf, typ)
	l.buf = append(l.buf, payload...)
	if _, err := l.w.Write(l.buf); err != nil {
		return fmt.Errorf("sending sftp request: %w", err)
	}
	return nil
}

func (l *lister) recv() (byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(l.r, hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("reading sftp reply: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 || n > maxListPacket {
		return 0, nil, fmt.Errorf("reading sftp reply: packet length %d out of range", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(l.r, p); err != nil {
		return 0, nil, fmt.Errorf("reading sftp reply: %w", err)
	}
	return p[0], p[1:], nil
}

// call sends a request with a fresh id and returns the reply's type and
// the payload after its id. ctx ending closes the session (the lister is
// then unusable).
func (l *lister) call(ctx context.Context, typ byte, args []byte) (byte, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	stop := context.AfterFunc(ctx, func() { l.sess.Close() })
	defer stop()
	l.id++
	id := l.id
	payload := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(args)), id)
	if err := l.send(typ, append(payload, args...)); err != nil {
		return 0, nil, ctxOr(ctx, err)
	}
	rtyp, data, err := l.recv()
	if err != nil {
		return 0, nil, ctxOr(ctx, err)
	}
	d := decoder{b: data}
	if got := d.uint32(); d.err != nil || got != id {
		return 0, nil, fmt.Errorf("sftp reply for request %d: got id %d", id, got)
	}
	return rtyp, d.b, nil
}

func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// openDir returns a handle on the folder p.
func (l *lister) openDir(ctx context.Context, p string) ([]byte, error) {
	typ, data, err := l.call(ctx, fxpOpendir, appendString(nil, p))
	if err != nil {
		return nil, fmt.Errorf("opening folder %s: %w", p, err)
	}
	switch typ {
	case fxpHandle:
		d := decoder{b: data}
		h := d.bytes()
		if d.err != nil {
			return nil, fmt.Errorf("opening folder %s: %w", p, d.err)
		}
		return h, nil
	case fxpStatus:
		return nil, fmt.Errorf("opening folder %s: %w", p, statusError(data))
	}
	return nil, fmt.Errorf("opening folder %s: unexpected packet type %d", p, typ)
}

// readDir returns the next batch of entries of handle, io.EOF after the
// last.
func (l *lister) readDir(ctx context.Context, handle []byte) ([]dirEntry, error) {
	typ, data, err := l.call(ctx, fxpReaddir, appendString(nil, string(handle)))
	if err != nil {
		return nil, fmt.Errorf("reading folder: %w", err)
	}
	switch typ {
	case fxpName:
		entries, err := parseName(data)
		if err != nil {
			return nil, fmt.Errorf("reading folder: %w", err)
		}
		return entries, nil
	case fxpStatus:
		err := statusError(data)
		if err == nil {
			err = io.EOF
		}
		return nil, err
	}
	return nil, fmt.Errorf("reading folder: unexpected packet type %d", typ)
}

// closeHandle releases a handle.
func (l *lister) closeHandle(ctx context.Context, handle []byte) error {
	typ, data, err := l.call(ctx, fxpClose, appendString(nil, string(handle)))
	if err != nil {
		return fmt.Errorf("closing folder: %w", err)
	}
	if typ != fxpStatus {
		return fmt.Errorf("closing folder: unexpected packet type %d", typ)
	}
	if err := statusError(data); err != nil {
		return fmt.Errorf("closing folder: %w", err)
	}
	return nil
}

// StatusError is an SFTP status reply other than OK.
type StatusError struct {
	Code    uint32
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("sftp status %d: %s", e.Code, e.Message) }

// Is makes the status codes match fs.ErrNotExist, fs.ErrPermission and
// io.EOF.
func (e *StatusError) Is(target error) bool {
	switch e.Code {
	case fxEOF:
		return target == io.EOF
	case fxNoSuch:
		return target == fs.ErrNotExist
	case fxDenied:
		return target == fs.ErrPermission
	}
	return false
}

// statusError decodes a STATUS payload (after the id): nil for OK, io.EOF
// for EOF.
func statusError(data []byte) error {
	d := decoder{b: data}
	code := d.uint32()
	msg := d.string()
	if d.err != nil && code == 0 {
		return fmt.Errorf("malformed status reply: %w", d.err)
	}
	switch code {
	case fxOK:
		return nil
	case fxEOF:
		return io.EOF
	}
	return &StatusError{Code: code, Message: msg}
}

// parseName decodes a NAME payload (after the id).
func parseName(data []byte) ([]dirEntry, error) {
	d := decoder{b: data}
	count := d.uint32()
	// Each entry takes at least 12 bytes (two empty strings and flags).
	if d.err != nil || uint64(count)*12 > uint64(len(d.b)) {
		return nil, fmt.Errorf("malformed name reply: %d entries in %d bytes", count, len(d.b))
	}
	entries := make([]dirEntry, 0, count)
	for range count {
		var e dirEntry
		e.name = d.string()
		d.string() // longname, for humans
		flags := d.uint32()
		if flags&attrSize != 0 {
			e.size, e.hasSize = int64(d.uint64()), true
		}
		if flags&attrUIDGID != 0 {
			d.uint32()
			d.uint32()
		}
		if flags&attrPerm != 0 {
			e.mode, e.hasMode = d.uint32(), true
		}
		if flags&attrTime != 0 {
			d.uint32() // atime
			e.mtime, e.hasMtime = time.Unix(int64(d.uint32()), 0), true
		}
		if flags&attrExt != 0 {
			n := d.uint32()
			if uint64(n)*8 > uint64(len(d.b)) {
				return nil, errors.New("malformed name reply: extended attribute count")
			}
			for range n {
				d.string()
				d.string()
			}
		}
		if d.err != nil {
			return nil, fmt.Errorf("malformed name reply: %w", d.err)
		}
		if e.size < 0 {
			return nil, fmt.Errorf("malformed name reply: size of %q out of range", e.name)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// decoder reads SFTP wire types; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

var errShortPacket = errors.New("packet too short")

func (d *decoder) uint32() uint32 {
	if d.err != nil || len(d.b) < 4 {
		d.err = errShortPacket
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) uint64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errShortPacket
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uint32()
	if d.err != nil || uint64(n) > uint64(len(d.b)) {
		d.err = errShortPacket
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
