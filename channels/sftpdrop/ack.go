package sftpdrop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/ordergate/ordergate/channels"
)

// maxCollisions bounds the names tried in the archive and error folders.
const maxCollisions = 100

// flight is the progress of one document's ack, so that a call after a
// partial failure finishes the job instead of redoing it.
type flight struct {
	mu      sync.Mutex
	done    bool
	target  string // name in the archive or error folder once moved; "-" once deleted
	sidecar bool
}

func (c *conn) ackFunc(cand candidate) channels.AckFunc {
	fl := &flight{}
	ch := c.ch
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
		if ch.current() != c {
			return fmt.Errorf("acking %s: source closed since the read: %w", cand.name, channels.ErrNotConnected)
		}
		if r.Outcome == channels.OutcomeRetry {
			c.release([]candidate{cand}, false)
			select {
			case c.wake <- struct{}{}:
			default:
			}
			fl.done = true
			return nil
		}
		s, _ := c.live()
		if s == nil {
			c.release([]candidate{cand}, false)
			return fmt.Errorf("acking %s: connection down: %w", cand.name, channels.ErrNotConnected)
		}
		var err error
		if r.Outcome == channels.OutcomeCommitted {
			err = c.dispose(ctx, s, cand, fl, ch.cfg.Archive, ch.cfg.DeleteAfterIngest, "")
		} else {
			err = c.dispose(ctx, s, cand, fl, ch.cfg.ErrorDir, false, r.Reason)
		}
		if err != nil {
			// Offer the file again: if the caller does not retry this ack,
			// the file is read again and intake's dedupe absorbs it.
			c.release([]candidate{cand}, false)
			if s.lost(err) {
				return fmt.Errorf("acking %s %v: connection lost: %w: %w", cand.name, r.Outcome, channels.ErrNotConnected, err)
			}
			return fmt.Errorf("acking %s %v: %w", cand.name, r.Outcome, err)
		}
		c.release([]candidate{cand}, true)
		fl.done = true
		return nil
	}
}

// dispose moves the file into dir under a name not taken there (or
// deletes it), writes the rejection sidecar when reason is set, and moves
// or deletes the done-file. A file replaced since it was read is left for
// the next listing; a file already gone counts as disposed of.
func (c *conn) dispose(ctx context.Context, s *session, cand candidate, fl *flight, dir string, del bool, reason string) error {
	inbox := c.ch.cfg.Inbox
	src := path.Join(inbox, cand.name)
	log := c.ch.log.With("file", cand.name)
	if fl.target == "" {
		info, err := call(ctx, func() (fs.FileInfo, error) { return s.sftp.Lstat(src) })
		switch {
		case errors.Is(err, fs.ErrNotExist):
			log.Warn("file gone from the inbox before its ack")
			return c.disposeDoneFile(ctx, s, cand, dir, del, cand.name)
		case err != nil:
			return fmt.Errorf("checking %s: %w", src, err)
		case info.Size() != cand.size || info.ModTime().Unix() != cand.mtime.Unix():
			log.Warn("file replaced since it was read; leaving the new one")
			return nil
		}
		if del {
			if err := do(ctx, func() error { return s.sftp.Remove(src) }); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("deleting %s: %w", src, err)
			}
			fl.target = "-"
			log.Info("deleted file")
		} else {
			target, err := c.moveUnique(ctx, s, src, dir, cand)
			if err != nil {
				return err
			}
			fl.target = target
			log.Info("moved file", "to", path.Join(dir, target), "reason", reason)
		}
	}
	if reason != "" && !fl.sidecar {
		name := fl.target + ".error.txt"
		if _, err := put(ctx, s.sftp, dir, name, []byte(reason+"\n")); err != nil && !errors.Is(err, ErrConflict) {
			return fmt.Errorf("writing rejection reason: %w", err)
		}
		fl.sidecar = true
	}
	target := fl.target
	if target == "-" {
		target = cand.name
	}
	return c.disposeDoneFile(ctx, s, cand, dir, del, target)
}

// disposeDoneFile moves the done-file next to its file (as target plus the
// suffix) or deletes it.
func (c *conn) disposeDoneFile(ctx context.Context, s *session, cand candidate, dir string, del bool, target string) error {
	if cand.doneFile == "" {
		return nil
	}
	src := path.Join(c.ch.cfg.Inbox, cand.doneFile)
	if !del {
		err := renameNoReplace(ctx, s.sftp, src, path.Join(dir, target+c.ch.cfg.DoneFileSuffix))
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("moving done-file: %w", err)
		}
		// A done-file of that name is archived already; drop this one.
	}
	if err := do(ctx, func() error { return s.sftp.Remove(src) }); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting done-file %s: %w", src, err)
	}
	return nil
}

// moveUnique renames src into dir under its name, or with the file's
// mtime added before the extension when that is taken, then numbered.
func (c *conn) moveUnique(ctx context.Context, s *session, src, dir string, cand candidate) (string, error) {
	if err := c.ensureDir(ctx, s, dir); err != nil {
		return "", err
	}
	for i := range maxCollisions {
		target := collisionName(cand, i)
		err := renameNoReplace(ctx, s.sftp, src, path.Join(dir, target))
		switch {
		case err == nil:
			return target, nil
		case errors.Is(err, fs.ErrExist):
			continue
		}
		return "", err
	}
	return "", fmt.Errorf("moving %s: %d names taken in %s", src, maxCollisions, dir)
}

// collisionName is the name tried at the i-th attempt: po.edi,
// po.20260101T120000.edi, po.20260101T120000.2.edi, ...
func collisionName(cand candidate, i int) string {
	if i == 0 {
		return cand.name
	}
	ext := path.Ext(cand.name)
	if ext == cand.name {
		ext = ""
	}
	stem := strings.TrimSuffix(cand.name, ext)
	stamp := cand.mtime.UTC().Format("20060102T150405")
	if i == 1 {
		return fmt.Sprintf("%s.%s%s", stem, stamp, ext)
	}
	return fmt.Sprintf("%s.%s.%d%s", stem, stamp, i, ext)
}

// ensureDir creates dir once per session.
func (c *conn) ensureDir(ctx context.Context, s *session, dir string) error {
	c.mu.Lock()
	done := c.made[dir] == s
	c.mu.Unlock()
	if done {
		return nil
	}
	if err := do(ctx, func() error { return s.sftp.MkdirAll(dir) }); err != nil {
		return fmt.Errorf("creating folder %s: %w", dir, err)
	}
	c.mu.Lock()
	c.made[dir] = s
	c.mu.Unlock()
	return nil
}
