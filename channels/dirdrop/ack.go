package dirdrop

import (
	"context"
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
	"io/fs"
	"os"
	"path"
	"sync"

	"github.com/ordergate/ordergate/channels"
)

// flight is the progress of one document's ack, so that a second call
// after a partial failure finishes the job instead of redoing it.
type flight struct {
	mu      sync.Mutex
	done    bool
	target  string // name in done/ or error/ once moved
	sidecar bool   // the .error.txt sidecar is written
}

func (d *Dir) ackFunc(c *conn, cand candidate) channels.AckFunc {
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
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.conn != c {
			return fmt.Errorf("acking %s: source closed since the read: %w", cand.name, channels.ErrNotConnected)
		}
		switch r.Outcome {
		case channels.OutcomeRetry:
			d.log.Debug("document released for a retry", "file", cand.name)
		case channels.OutcomeCommitted:
			if err := d.dispose(ctx, c, cand, fl, c.doneRel, ""); err != nil {
				return fmt.Errorf("acking %s committed: %w", cand.name, err)
			}
		case channels.OutcomeRejected:
			if err := d.dispose(ctx, c, cand, fl, c.errorRel, r.Reason); err != nil {
				return fmt.Errorf("acking %s rejected: %w", cand.name, err)
			}
		}
		delete(c.inflight, cand.name)
		if r.Outcome != channels.OutcomeRetry {
			delete(c.seen, cand.name)
		}
		fl.done = true
		return nil
	}
}

// dispose moves the file to dir (done or error) under a name not taken
// there yet, writes the rejection sidecar when reason is set, removes the
// done-file and syncs the folders (or leaves the syncs to ctx's
// channels.SyncGroup). d.mu is held.
func (d *Dir) dispose(ctx context.Context, c *conn, cand candidate, fl *flight, dir, reason string) error {
	if fl.target == "" {
		// One Lstat answers both questions of a regular file: is it still
		// the file read, and what is it to move. Only a symbolic link
		// (inside the inbox) needs the Stat of its target.
		srcInfo, err := c.inbox.Lstat(cand.name)
		info := srcInfo
		if err == nil && srcInfo.Mode()&fs.ModeSymlink != 0 {
			info, err = c.inbox.Stat(cand.name)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.log.Warn("file gone from the inbox before its ack", "file", cand.name)
			return d.removeDoneFile(c, cand)
		case err != nil:
			return fmt.Errorf("checking %s: %w", cand.name, err)
		case info.Size() != cand.size || !info.ModTime().Equal(cand.mtime):
			// Replaced under the same name since the read: the new file is
			// a new document; leave it for the next Read.
			d.log.Warn("file replaced since it was read; leaving the new one", "file", cand.name)
			return nil
		}
		target, err := d.moveUnique(c, cand.name, srcInfo, dir)
		if err != nil {
			return err
		}
		fl.target = target
		if err := d.syncDir(ctx, c, dir); err != nil {
			return err
		}
		d.log.Info("moved file", "file", cand.name, "to", path.Join(dir, target), "reason", reason)
	}
	if reason != "" && !fl.sidecar {
		if err := d.writeSidecar(ctx, c, dir, fl.target+".error.txt", reason); err != nil {
			return err
		}
		fl.sidecar = true
	}
	if err := d.removeDoneFile(c, cand); err != nil {
		return err
	}
	return d.syncDir(ctx, c, c.inboxRel)
}

// dirKey names a folder of a connection for a channels.SyncGroup.
type dirKey struct {
	tree *os.Root
	dir  string
}

// syncDir fsyncs dir of the tree, or leaves it to ctx's channels.SyncGroup
// so that a batch of acks fsyncs each folder once.
func (d *Dir) syncDir(ctx context.Context, c *conn, dir string) error {
	return channels.DeferSync(ctx, dirKey{c.tree, dir}, func() error { return rootfs.SyncDir(c.tree, dir) })
}

// moveUnique links the inbox file name (whose Lstat is srcInfo) into dir
// under name, or name.1, name.2, ... when taken, and removes it from the
// inbox. A name in dir that already is the same file (a crash between
// link and remove) completes that move instead.
func (d *Dir) moveUnique(c *conn, name string, srcInfo fs.FileInfo, dir string) (string, error) {
	src := path.Join(c.inboxRel, name)
	for i := range maxCollisions {
		target := rootfs.Numbered(name, i)
		dst := path.Join(dir, target)
		err := rootfs.LinkNoReplace(c.tree, src, dst)
		if err == nil {
			return target, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("moving %s: %w", src, err)
		}
		// Taken: by this very file after a crash between link and
		// remove, or by another one.
		info, err := c.tree.Lstat(dst)
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone again meanwhile; the next name decides
		}
		if err != nil {
			return "", fmt.Errorf("checking %s: %w", dst, err)
		}
		if os.SameFile(info, srcInfo) {
			if err := c.tree.Remove(src); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("removing %s: %w", src, err)
			}
			return target, nil
		}
	}
	return "", fmt.Errorf("moving %s: %d names taken in %s", src, maxCollisions, dir)
}

// writeSidecar writes reason to name in dir (numbered when taken), as
// .part, synced, then linked.
func (d *Dir) writeSidecar(ctx context.Context, c *conn, dir, name, reason string) error {
	part := path.Join(dir, name+".part")
	if err := rootfs.WriteSynced(c.tree, part, []byte(reason+"\n")); err != nil {
		return fmt.Errorf("writing rejection reason: %w", err)
	}
	for i := range maxCollisions {
		err := rootfs.LinkNoReplace(c.tree, part, path.Join(dir, rootfs.Numbered(name, i)))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing rejection reason: %w", err)
		}
		return d.syncDir(ctx, c, dir)
	}
	return fmt.Errorf("writing rejection reason: %d names taken for %s", maxCollisions, name)
}

func (d *Dir) removeDoneFile(c *conn, cand candidate) error {
	if cand.doneFile == "" {
		return nil
	}
	if err := c.inbox.Remove(cand.doneFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing done-file %s: %w", cand.doneFile, err)
	}
	return nil
}
