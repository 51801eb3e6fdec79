package sftpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// errChanged: a file in in/ changed between its listing and its read.
var errChanged = errors.New("file changed while being read")

// fileKey names one completed upload: a file in a user's in/.
type fileKey struct{ user, name string }

// candidate is a completed upload waiting in in/.
type candidate struct {
	u     *user
	name  string
	size  int64
	mtime time.Time
}

func (c candidate) key() fileKey { return fileKey{c.u.name, c.name} }

// wakeReaders wakes the Reads waiting for an upload.
func (s *Server) wakeReaders(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(c.wake)
	c.wake = make(chan struct{})
}

// Read returns the oldest completed upload of any user that is not in
// flight. It waits for the next upload (or Poll) while there is none.
func (s *Server) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	for {
		if err := ctx.Err(); err != nil {
			return channels.Document{}, nil, err
		}
		s.mu.Lock()
		c := s.conn
		var (
			cand candidate
			ok   bool
			wake chan struct{}
		)
		if c != nil {
			wake = c.wake
			cand, ok = s.next(c)
		}
		s.mu.Unlock()
		if c == nil {
			return channels.Document{}, nil, fmt.Errorf("reading sftpserver %s: %w", s.cfg.Name, channels.ErrNotConnected)
		}
		if !ok {
			if err := s.wait(ctx, c, wake, s.cfg.Poll); err != nil {
				return channels.Document{}, nil, err
			}
			continue
		}
		doc, err := s.take(ctx, c, cand)
		if err == nil {
			return doc, s.ackFunc(c, cand), nil
		}
		s.mu.Lock()
		delete(c.inflight, cand.key())
		s.mu.Unlock()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return channels.Document{}, nil, ctxErr
		}
		select {
		case <-c.closed:
			return channels.Document{}, nil, fmt.Errorf("reading sftpserver %s: %w", s.cfg.Name, channels.ErrNotConnected)
		default:
		}
		if errors.Is(err, errChanged) || errors.Is(err, fs.ErrNotExist) {
			s.log.Debug("upload changed or gone while being read", "sftp_user", cand.u.name, "file", cand.name)
			continue
		}
		s.log.Warn("reading an upload failed; will try again", "sftp_user", cand.u.name, "file", cand.name, "err", err)
		if err := s.wait(ctx, c, nil, min(s.cfg.Poll, time.Second)); err != nil {
			return channels.Document{}, nil, err
		}
	}
}

// wait blocks until wake is closed, d has passed, ctx ends or the
// connection closes.
func (s *Server) wait(ctx context.Context, c *conn, wake chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return fmt.Errorf("reading sftpserver %s: %w", s.cfg.Name, channels.ErrNotConnected)
	case <-wake:
	case <-t.C:
	}
	return nil
}

// next pops the next candidate not in flight, listing the in/ folders
// when the queue is empty, and marks it in flight. s.mu is held.
func (s *Server) next(c *conn) (candidate, bool) {
	if len(c.queue) == 0 {
		c.queue = s.scan(c)
	}
	for len(c.queue) > 0 {
		cand := c.queue[0]
		c.queue = c.queue[1:]
		if c.inflight[cand.key()] {
			continue
		}
		c.inflight[cand.key()] = true
		return cand, true
	}
	return candidate{}, false
}

// scan lists every user's in/ and returns the completed uploads not in
// flight, oldest first. s.mu is held.
func (s *Server) scan(c *conn) []candidate {
	var out []candidate
	for _, u := range s.order {
		entries, err := readDir(c.roots[u.name], dirIn)
		if err != nil {
			s.log.Warn("listing in/ failed", "sftp_user", u.name, "err", err)
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || c.inflight[fileKey{u.name, name}] {
				continue
			}
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			out = append(out, candidate{u: u, name: name, size: info.Size(), mtime: info.ModTime()})
		}
	}
	slices.SortFunc(out, func(a, b candidate) int {
		return cmp.Or(a.mtime.Compare(b.mtime), cmp.Compare(a.u.name, b.u.name), cmp.Compare(a.name, b.name))
	})
	return out
}

// take reads a candidate into a Document.
func (s *Server) take(ctx context.Context, c *conn, cand candidate) (channels.Document, error) {
	root := c.roots[cand.u.name]
	rel := path.Join(dirIn, cand.name)
	f, err := root.Open(rel)
	if err != nil {
		return channels.Document{}, fmt.Errorf("opening %s: %w", rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return channels.Document{}, fmt.Errorf("checking %s: %w", rel, err)
	}
	if !info.Mode().IsRegular() || info.Size() != cand.size || !info.ModTime().Equal(cand.mtime) {
		return channels.Document{}, errChanged
	}
	doc := channels.Document{
		Channel:  s.cfg.Name,
		Name:     cand.name,
		Received: time.Now(),
		Meta: map[string]string{
			"sftp_user":   cand.u.name,
			"partner":     cand.u.partner,
			"remote_path": "/" + rel,
			"mtime":       cand.mtime.UTC().Format(time.RFC3339Nano),
		},
	}
	if cand.size > s.cfg.MaxFileBytes {
		doc.SourceKey = sourceKey(cand, nil)
		doc.Err = fmt.Errorf("%s is %d bytes, more than %d: %w", rel, cand.size, s.cfg.MaxFileBytes, channels.ErrTooLarge)
		return doc, nil
	}
	body, sum, err := s.spool.Take(ctx, f)
	if err != nil {
		return channels.Document{}, fmt.Errorf("reading %s: %w", rel, err)
	}
	if body.Size() != cand.size {
		body.Close()
		return channels.Document{}, errChanged
	}
	doc.Body, doc.SHA256 = body, sum
	doc.SourceKey = sourceKey(cand, sum[:])
	return doc, nil
}

// sourceKey identifies one upload: the user, the name in in/, size, mtime
// and content hash. Files in in/ are never changed once complete, so the
// key is the same when the file is read again (after a Retry, a reconnect
// or a restart), and every upload gets its own (a second upload of a name
// still waiting is stored under a numbered name; one after the first was
// disposed of has a new mtime).
func sourceKey(c candidate, sum []byte) string {
	key := fmt.Sprintf("user=%s path=%s size=%d mtime=%d", c.u.name, strconv.Quote("/in/"+c.name), c.size, c.mtime.UnixNano())
	if sum != nil {
		key += fmt.Sprintf(" sha256=%x", sum)
	}
	return key
}

// flight is the progress of one document's ack, so that a second call
// after a partial failure finishes the job instead of redoing it.
type flight struct {
	mu     sync.Mutex
	done   bool
	target string // name in in/.error once moved
}

func (s *Server) ackFunc(c *conn, cand candidate) channels.AckFunc {
	fl := &flight{}
	return func(ctx context.Context, r channels.Result) error {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("acking %s: %w", cand.name, err)
		}
		fl.mu.Lock()
		defer fl.mu.Unlock()
		if fl.done {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("acking %s: %w", cand.name, err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.conn != c {
			return fmt.Errorf("acking %s: source closed since the read: %w", cand.name, channels.ErrNotConnected)
		}
		log := s.log.With("sftp_user", cand.u.name, "file", cand.name)
		root := c.roots[cand.u.name]
		switch r.Outcome {
		case channels.OutcomeRetry:
			log.Debug("upload released for a retry")
		case channels.OutcomeCommitted:
			if err := s.removeUpload(root, cand, log); err != nil {
				return fmt.Errorf("acking %s committed: %w", cand.name, err)
			}
		case channels.OutcomeRejected:
			if err := s.rejectUpload(root, cand, fl, r.Reason, log); err != nil {
				return fmt.Errorf("acking %s rejected: %w", cand.name, err)
			}
		}
		delete(c.inflight, cand.key())
		fl.done = true
		return nil
	}
}

// same reports whether the file in in/ still is the one read; false when
// it is gone. Files in in/ are never replaced by uploads, but an operator
// may have touched them.
func same(root *os.Root, cand candidate, log *slog.Logger) (bool, error) {
	info, err := root.Lstat(path.Join(dirIn, cand.name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Warn("upload gone from in/ before its ack")
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking %s: %w", cand.name, err)
	case !info.Mode().IsRegular() || info.Size() != cand.size || !info.ModTime().Equal(cand.mtime):
		log.Warn("upload replaced since it was read; leaving the new file")
		return false, nil
	}
	return true, nil
}

// removeUpload disposes of a committed upload: intake has the bytes.
func (s *Server) removeUpload(root *os.Root, cand candidate, log *slog.Logger) error {
	ok, err := same(root, cand, log)
	if err != nil || !ok {
		return err
	}
	if err := root.Remove(path.Join(dirIn, cand.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", cand.name, err)
	}
	if err := rootfs.SyncDir(root, dirIn); err != nil {
		return err
	}
	log.Info("committed upload removed from in/")
	return nil
}

// rejectUpload moves a rejected upload to in/.error (numbered when the
// name is taken) and writes the reason next to it as <name>.reason.
func (s *Server) rejectUpload(root *os.Root, cand candidate, fl *flight, reason string, log *slog.Logger) error {
	errDir := path.Join(dirIn, errorDir)
	if fl.target == "" {
		ok, err := same(root, cand, log)
		if err != nil || !ok {
			return err
		}
		if err := root.MkdirAll(errDir, 0o750); err != nil {
			return fmt.Errorf("creating %s: %w", errDir, err)
		}
		target, err := linkUnique(root, path.Join(dirIn, cand.name), errDir, cand.name)
		if err != nil {
			return err
		}
		fl.target = target
	}
	if err := rootfs.WriteSynced(root, path.Join(errDir, fl.target+reasonSuffix), []byte(reason+"\n")); err != nil {
		return fmt.Errorf("writing the rejection reason: %w", err)
	}
	if err := errors.Join(rootfs.SyncDir(root, errDir), rootfs.SyncDir(root, dirIn)); err != nil {
		return err
	}
	log.Info("rejected upload moved to in/.error", "stored_as", fl.target, "reason", reason)
	return nil
}
