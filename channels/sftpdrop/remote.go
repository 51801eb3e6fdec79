package sftpdrop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sync"

	"github.com/ordergate/ordergate/channels"
	"github.com/pkg/sftp"
)

// ErrConflict: a different file already exists under the name being
// written.
var ErrConflict = errors.New("a different file already exists under that name")

// errClosed: the Remote was closed.
var errClosed = errors.New("sftp connection closed")

// uploadChunk is how much one write hands to pkg/sftp (which splits it into
// concurrent requests); ctx is checked between chunks.
const uploadChunk = 256 << 10

// Remote is a connection to an SFTP server for writing files, dialed on
// first use and again after it drops. Channel.Send and the routing/sftp
// backend use it. It is safe for concurrent use; writes of one path are
// serialised.
type Remote struct {
	d   *dialer
	log *slog.Logger

	dialTok chan struct{} // one dial at a time
	mu      sync.Mutex
	sess    *session
	closed  bool

	locks pathLocks
}

// NewRemote checks ep, loads its key and known_hosts file and returns a
// Remote that is not connected yet. A nil log discards.
func NewRemote(ep Endpoint, log *slog.Logger) (*Remote, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d, err := newDialer(ep, log)
	if err != nil {
		return nil, fmt.Errorf("sftp %s: %w", ep.Addr(), err)
	}
	return &Remote{d: d, log: log, dialTok: make(chan struct{}, 1)}, nil
}

// Addr returns the server's "host:port".
func (r *Remote) Addr() string { return r.d.addr }

// session returns the live session, dialing when there is none.
func (r *Remote) session(ctx context.Context) (*session, error) {
	select {
	case r.dialTok <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.dialTok }()
	r.mu.Lock()
	s, closed := r.sess, r.closed
	r.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if s != nil && s.alive() {
		return s, nil
	}
	s, err := r.d.dial(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		s.close()
		return nil, errClosed
	}
	r.sess = s
	return s, nil
}

// Close closes the connection. The Remote dials again on its next use
// unless closed for good with Shutdown.
func (r *Remote) Close() error {
	r.mu.Lock()
	s := r.sess
	r.sess = nil
	r.mu.Unlock()
	if s != nil {
		s.close()
	}
	return nil
}

// Shutdown closes the connection for good: later writes fail.
func (r *Remote) Shutdown() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return r.Close()
}

// Put writes body to dir/name: as name.part, synced where the server
// offers fsync@openssh.com, checked for its size, then renamed to name
// without replacing anything (a reader never sees a partial name). The
// folder is created when missing. When name exists with the same bytes
// it writes nothing and returns created false; with other bytes it fails
// with ErrConflict. name must be one safe path element (channels.CheckName).
func (r *Remote) Put(ctx context.Context, dir, name string, body []byte) (created bool, err error) {
	if err := channels.CheckName(name); err != nil {
		return false, fmt.Errorf("writing to %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	full := path.Join(dir, name)
	unlock, err := r.locks.lock(ctx, full)
	if err != nil {
		return false, err
	}
	defer unlock()
	s, err := r.session(ctx)
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", full, err)
	}
	created, err = put(ctx, s.sftp, dir, name, body)
	if err != nil {
		if s.lost(err) {
			r.mu.Lock()
			if r.sess == s {
				r.sess = nil
			}
			r.mu.Unlock()
		}
		return false, fmt.Errorf("writing %s on %s: %w", full, r.d.addr, err)
	}
	return created, nil
}

// put is Put on a client; the caller serialises writes of one path.
func put(ctx context.Context, c *sftp.Client, dir, name string, body []byte) (bool, error) {
	full := path.Join(dir, name)
	part := full + ".part"
	if exists, err := existing(ctx, c, full, body); err != nil || exists {
		return false, err
	}
	f, err := call(ctx, func() (*sftp.File, error) { return c.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC) })
	if errors.Is(err, fs.ErrNotExist) {
		if err := do(ctx, func() error { return c.MkdirAll(dir) }); err != nil {
			return false, fmt.Errorf("creating folder %s: %w", dir, err)
		}
		f, err = call(ctx, func() (*sftp.File, error) { return c.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC) })
	}
	if err != nil {
		return false, fmt.Errorf("creating %s: %w", part, err)
	}
	if err := writeAll(ctx, c, f, body); err != nil {
		f.Close()
		do(context.WithoutCancel(ctx), func() error { return c.Remove(part) })
		return false, fmt.Errorf("writing %s: %w", part, err)
	}
	if err := do(ctx, f.Close); err != nil {
		return false, fmt.Errorf("closing %s: %w", part, err)
	}
	info, err := call(ctx, func() (fs.FileInfo, error) { return c.Lstat(part) })
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", part, err)
	}
	if info.Size() != int64(len(body)) {
		do(context.WithoutCancel(ctx), func() error { return c.Remove(part) })
		return false, fmt.Errorf("checking %s: %d bytes on the server, %d written", part, info.Size(), len(body))
	}
	if err := renameNoReplace(ctx, c, part, full); errors.Is(err, fs.ErrExist) {
		// Another writer won; the file is theirs.
		do(context.WithoutCancel(ctx), func() error { return c.Remove(part) })
		_, err := existing(ctx, c, full, body)
		return false, err
	} else if err != nil {
		return false, err
	}
	return true, nil
}

func writeAll(ctx context.Context, c *sftp.Client, f *sftp.File, body []byte) error {
	for off := 0; off < len(body); {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(uploadChunk, len(body)-off)
		if _, err := f.Write(body[off : off+n]); err != nil {
			return err
		}
		off += n
	}
	if _, ok := c.HasExtension("fsync@openssh.com"); ok {
		if err := do(ctx, f.Sync); err != nil {
			return fmt.Errorf("syncing: %w", err)
		}
	}
	return nil
}

// existing reports whether p exists with body, and fails with ErrConflict
// when it exists with other content.
func existing(ctx context.Context, c *sftp.Client, p string, body []byte) (bool, error) {
	info, err := call(ctx, func() (fs.FileInfo, error) { return c.Lstat(p) })
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", p, err)
	}
	if info.Size() == int64(len(body)) {
		same, err := sameContent(ctx, c, p, body)
		if err != nil {
			return false, fmt.Errorf("comparing %s: %w", p, err)
		}
		if same {
			return true, nil
		}
	}
	return false, fmt.Errorf("%s: %w", p, ErrConflict)
}

func sameContent(ctx context.Context, c *sftp.Client, p string, body []byte) (bool, error) {
	f, err := call(ctx, func() (*sftp.File, error) { return c.Open(p) })
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, min(len(body)+1, uploadChunk))
	off := 0
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		n, err := f.Read(buf)
		if n > 0 {
			if off+n > len(body) || !bytes.Equal(buf[:n], body[off:off+n]) {
				return false, nil
			}
			off += n
		}
		if errors.Is(err, io.EOF) {
			return off == len(body), nil
		}
		if err != nil {
			return false, err
		}
	}
}

// renameNoReplace renames oldname to newname, failing with an error
// wrapping fs.ErrExist when newname exists. SFTP v3 RENAME must not
// replace (OpenSSH links and unlinks); some servers replace anyway, so the
// target is checked first as well. This is safe against this process, not
// against another writer creating newname in between on such a server.
func renameNoReplace(ctx context.Context, c *sftp.Client, oldname, newname string) error {
	if _, err := call(ctx, func() (fs.FileInfo, error) { return c.Lstat(newname) }); err == nil {
		return fmt.Errorf("renaming %s to %s: %w", oldname, newname, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking %s: %w", newname, err)
	}
	err := do(ctx, func() error { return c.Rename(oldname, newname) })
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		if _, serr := c.Lstat(newname); serr == nil {
			return fmt.Errorf("renaming %s to %s: %w", oldname, newname, fs.ErrExist)
		}
	}
	return fmt.Errorf("renaming %s to %s: %w", oldname, newname, err)
}

// do runs fn and returns its error, or ctx's when ctx ends first (fn then
// finishes in the background; pkg/sftp calls take no ctx).
func do(ctx context.Context, fn func() error) error {
	_, err := call(ctx, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// call is do for a function with a result.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// pathLocks serialises work on one path.
type pathLocks struct {
	mu   sync.Mutex
	busy map[string]chan struct{}
}

func (l *pathLocks) lock(ctx context.Context, p string) (func(), error) {
	for {
		l.mu.Lock()
		wait, held := l.busy[p]
		if !held {
			if l.busy == nil {
				l.busy = map[string]chan struct{}{}
			}
			ch := make(chan struct{})
			l.busy[p] = ch
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.busy, p)
				l.mu.Unlock()
				close(ch)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
