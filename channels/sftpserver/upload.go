package sftpserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
	"log/slog"
	"os"
	"sync"

	"github.com/ordergate/ordergate/channels"
)

// upload is one file being uploaded into in/: written to
// in/.upload-<random>, and given its final name only when the client
// closes it successfully. It is the io.WriterAt a pkg/sftp request server
// writes to; it implements io.Closer and sftp.TransferError.
type upload struct {
	s    *Server
	c    *conn
	u    *user
	root *os.Root
	log  *slog.Logger
	name string // the client's name, sanitised
	tmp  string // in/.upload-<random>

	mu          sync.Mutex
	f           *os.File
	reserved    int64  // bytes counted against the quota: the highest end written; written under u.mu too
	covered     []span // the byte ranges written, merged
	err         error  // the first failure; the upload is discarded
	transferErr error  // the session ended with the file open
	closed      bool
	// hold, when set, takes the completed upload instead of naming it:
	// the client uploaded under a temporary name and renames it after.
	hold func(*upload)
}

type span struct{ from, to int64 }

// Errors of uploads; their text is what the client sees.
var (
	errFileTooLarge = errors.New("upload refused: larger than the per-file limit")
	errQuota        = errors.New("upload refused: quota exceeded")
	errIncomplete   = errors.New("upload incomplete: bytes missing")
)

// startUpload opens a new upload of name for u.
func (s *Server) startUpload(c *conn, u *user, root *os.Root, name string, log *slog.Logger) (*upload, error) {
	w := &upload{
		s: s, c: c, u: u, root: root,
		name: channels.SanitizeName(name),
		tmp:  dirIn + "/" + uploadPrefix + rand.Text(),
	}
	w.log = log.With("file", w.name)
	f, err := root.OpenFile(w.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		w.log.Error("creating an upload file failed", "err", err)
		return nil, errors.New("upload failed: cannot create the file")
	}
	w.f = f
	u.mu.Lock()
	defer u.mu.Unlock()
	// Recount what is on disk, then add the reservations of the uploads
	// in progress (their temporary files are left out of the count).
	skip := map[string]bool{w.tmp: true}
	var inProgress int64
	for other, tmp := range u.uploads {
		skip[tmp] = true
		inProgress += other.reserved // written under u.mu
	}
	if used, err := usage(root, skip); err == nil {
		u.used = used + inProgress
	} else {
		w.log.Warn("counting the user's bytes failed; keeping the last count", "err", err)
	}
	u.uploads[w] = w.tmp
	return w, nil
}

// WriteAt writes p at off, within the per-file limit and the user's quota.
// A write beyond either fails, and the upload is discarded.
func (w *upload) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, os.ErrClosed
	}
	end := off + int64(len(p))
	if off < 0 || end < off {
		return 0, w.fail(errors.New("upload refused: invalid offset"))
	}
	if end > w.s.cfg.MaxFileBytes {
		w.log.Warn("upload refused: larger than max_file_bytes", "limit", w.s.cfg.MaxFileBytes)
		return 0, w.fail(fmt.Errorf("%w of %d bytes", errFileTooLarge, w.s.cfg.MaxFileBytes))
	}
	if grow := end - w.reserved; grow > 0 {
		w.u.mu.Lock()
		if q := w.s.cfg.QuotaBytes; q > 0 && w.u.used+grow > q {
			w.u.mu.Unlock()
			w.log.Warn("upload refused: quota exceeded", "quota", q)
			return 0, w.fail(fmt.Errorf("%w (%d bytes)", errQuota, q))
		}
		w.u.used += grow
		w.reserved = end
		w.u.mu.Unlock()
	}
	n, err := w.f.WriteAt(p, off)
	if err != nil {
		w.log.Error("writing an upload failed", "err", err)
		return n, w.fail(errors.New("upload failed: cannot write"))
	}
	w.cover(off, end)
	return n, nil
}

// cover records [from, to) as written.
func (w *upload) cover(from, to int64) {
	if from == to {
		return
	}
	s := span{from, to}
	var out []span
	for _, c := range w.covered {
		if c.to < s.from || s.to < c.from {
			out = append(out, c)
			continue
		}
		s = span{min(s.from, c.from), max(s.to, c.to)}
	}
	out = append(out, s)
	w.covered = out
}

// complete reports whether the bytes written are exactly [0, reserved).
func (w *upload) complete() bool {
	if w.reserved == 0 {
		return len(w.covered) == 0
	}
	return len(w.covered) == 1 && w.covered[0] == span{0, w.reserved}
}

// TransferError is called by pkg/sftp when the session ends with the file
// still open: the upload is then discarded by Close.
func (w *upload) TransferError(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.transferErr = err
}

// Close completes the upload: the file is synced and linked into in/
// under its name (numbered when the name is taken), and Read is woken. A
// failed or interrupted upload is removed instead, and Close fails.
func (w *upload) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.transferErr != nil {
		w.log.Warn("upload interrupted; discarded", "bytes", w.reserved, "err", w.transferErr)
		w.discard()
		w.err = errors.New("upload interrupted")
		return w.err
	}
	if !w.complete() {
		w.log.Warn("upload with missing bytes; discarded", "bytes", w.reserved)
		return w.fail(errIncomplete)
	}
	if err := w.f.Sync(); err != nil {
		w.log.Error("syncing an upload failed", "err", err)
		return w.fail(errors.New("upload failed: cannot store the file"))
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		w.log.Error("closing an upload failed", "err", err)
		return w.fail(errors.New("upload failed: cannot store the file"))
	}
	if w.hold != nil {
		w.log.Info("sftp upload under a temporary name held until renamed", "bytes", w.reserved)
		w.hold(w)
		return nil
	}
	return w.publishLocked(w.name)
}

// publish names a held upload name in in/: it becomes a document.
func (w *upload) publish(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.publishLocked(name)
}

// publishLocked links the synced upload into in/ under name (numbered
// when taken), syncs in/ and wakes Read. w.mu is held.
func (w *upload) publishLocked(name string) error {
	final, err := linkUnique(w.root, w.tmp, dirIn, name)
	if err != nil {
		w.log.Error("naming an upload failed", "err", err)
		return w.fail(errors.New("upload failed: cannot store the file"))
	}
	if err := rootfs.SyncDir(w.root, dirIn); err != nil {
		w.log.Warn("syncing in/ failed", "err", err)
	}
	w.u.mu.Lock()
	delete(w.u.uploads, w) // its bytes stay counted: the file is in in/ now
	w.u.mu.Unlock()
	w.log.Info("sftp upload received", "stored_as", final, "bytes", w.reserved)
	w.s.wakeReaders(w.c)
	return nil
}

// size is the size of a completed upload.
func (w *upload) size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reserved
}

// discardHeld removes a held upload that will never be named.
func (w *upload) discardHeld() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = errors.New("upload discarded")
		w.discard()
	}
}

// fail records err, discards the upload and returns err. w.mu is held.
func (w *upload) fail(err error) error {
	w.err = err
	w.discard()
	return err
}

// discard closes and removes the temporary file and gives back its
// quota. w.mu is held.
func (w *upload) discard() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if err := w.root.Remove(w.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		w.log.Warn("removing a discarded upload failed", "tmp", w.tmp, "err", err)
	}
	w.u.mu.Lock()
	delete(w.u.uploads, w)
	w.u.used = max(0, w.u.used-w.reserved)
	w.reserved = 0
	w.u.mu.Unlock()
}
