package sftpserver

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/ordergate/ordergate/channels"
)

// handlers serves one SFTP session of one user, inside the user's folder.
// Every file access goes through root, an os.Root on <RootDir>/<user>, and
// every request path through resolve.
type handlers struct {
	s    *Server
	c    *conn
	u    *user
	root *os.Root
	log  *slog.Logger

	mu sync.Mutex
	// held are the uploads of this session completed under a temporary
	// name, by that name: each becomes a document when the client renames
	// it, and is discarded when the session ends first.
	held map[string]*upload
}

var (
	_ sftp.FileReader         = (*handlers)(nil)
	_ sftp.FileWriter         = (*handlers)(nil)
	_ sftp.FileCmder          = (*handlers)(nil)
	_ sftp.FileLister         = (*handlers)(nil)
	_ sftp.RealPathFileLister = (*handlers)(nil)
)

// visible reports whether a file in dir is shown to the user: regular
// files, not dot-files (the server's own), and in out/ not the .part
// files of writes in progress.
func visible(dir string, e fs.FileInfo) bool {
	name := e.Name()
	switch {
	case !e.Mode().IsRegular(), strings.HasPrefix(name, "."):
		return false
	case dir == dirOut && strings.HasSuffix(name, ".part"):
		return false
	}
	return true
}

// lookup returns the file v (which must be a file) if the user may see it.
func (h *handlers) lookup(v vpath) (fs.FileInfo, error) {
	info, err := h.root.Lstat(v.rel())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errNoSuchFile
		}
		h.log.Warn("sftp stat failed", "path", v.virtual(), "err", err)
		return nil, errNoSuchFile
	}
	if !visible(v.dir, info) {
		return nil, errNoSuchFile
	}
	return info, nil
}

// Fileread opens a file of out/ for download. Files in in/ cannot be
// read back.
func (h *handlers) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	v, err := resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	if !v.isFile() {
		return nil, errors.New("is a folder")
	}
	if v.dir != dirOut {
		return nil, errDenied
	}
	if _, err := h.lookup(v); err != nil {
		return nil, err
	}
	f, err := h.root.Open(v.rel())
	if err != nil {
		h.log.Warn("opening a download failed", "path", v.virtual(), "err", err)
		return nil, errNoSuchFile
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, errNoSuchFile
	}
	h.log.Info("sftp download", "file", v.name, "bytes", info.Size())
	return f, nil
}

// Filewrite starts an upload into in/. Nothing else is writable.
func (h *handlers) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	v, err := resolve(r.Filepath)
	if err != nil {
		return nil, errDenied
	}
	if v.dir != dirIn || !v.isFile() {
		return nil, errDenied
	}
	if r.Pflags().Append {
		// An append (or a resumed upload) would continue a file that was
		// handed to intake when it was closed.
		return nil, fmt.Errorf("appending is not supported: %w", sftp.ErrSSHFxOpUnsupported)
	}
	w, err := h.s.startUpload(h.c, h.u, h.root, v.name, h.log)
	if err != nil {
		return nil, err
	}
	if isTempName(w.name) {
		w.hold = h.hold
	}
	return w, nil
}

// hold keeps a completed upload under its temporary name until the
// client renames it.
func (h *handlers) hold(w *upload) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[string]*upload{}
	}
	if old := h.held[w.name]; old != nil {
		old.discardHeld() // uploaded again under the same temporary name
	}
	h.held[w.name] = w
}

// heldUpload returns the held upload of the temporary name, if any.
func (h *handlers) heldUpload(name string) *upload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[channels.SanitizeName(name)]
}

// rename gives a held upload its real name: it becomes a document. A
// rename to another temporary name keeps it held. Renaming anything else
// is refused.
func (h *handlers) rename(from, to vpath) error {
	if from.dir != dirIn || !from.isFile() || to.dir != dirIn || !to.isFile() {
		return errDenied
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := channels.SanitizeName(from.name)
	w := h.held[key]
	if w == nil {
		return errDenied
	}
	name := channels.SanitizeName(to.name)
	delete(h.held, key)
	if isTempName(name) {
		if old := h.held[name]; old != nil {
			old.discardHeld()
		}
		w.name = name
		h.held[name] = w
		return nil
	}
	if err := w.publish(name); err != nil {
		return err
	}
	h.log.Info("sftp rename of a held upload", "from", key, "to", name)
	return nil
}

// endSession discards the uploads still held: the client never gave them
// their real name.
func (h *handlers) endSession() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, w := range h.held {
		w.log.Warn("upload under a temporary name never renamed; discarded", "file", name)
		w.discardHeld()
	}
	h.held = nil
}

// Filecmd allows removing files of out/ (after download) and accepts
// setting attributes as a no-op; everything else is refused.
func (h *handlers) Filecmd(r *sftp.Request) error {
	if r.Method != "Setstat" && r.Method != "Remove" && r.Method != "Rename" && r.Method != "PosixRename" {
		return errDenied
	}
	v, err := resolve(r.Filepath)
	if err != nil {
		return err
	}
	switch r.Method {
	case "Rename", "PosixRename":
		to, err := resolve(r.Target)
		if err != nil {
			return err
		}
		return h.rename(v, to)
	case "Setstat":
		// Times and modes of uploads and downloads are the server's; the
		// request is accepted so clients that preserve times do not fail.
		if v.dir == "" {
			return errDenied
		}
		return nil
	case "Remove":
		if v.dir != dirOut || !v.isFile() {
			return errDenied
		}
		info, err := h.lookup(v)
		if err != nil {
			return err
		}
		if err := h.root.Remove(v.rel()); err != nil {
			h.log.Warn("removing a file of out/ failed", "file", v.name, "err", err)
			return errors.New("removing failed")
		}
		h.u.mu.Lock()
		h.u.used = max(0, h.u.used-info.Size())
		h.u.mu.Unlock()
		h.log.Info("sftp remove", "file", v.name)
		return nil
	}
	return errDenied
}

// Filelist lists the virtual root, in/ and out/, and stats their files.
func (h *handlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	v, err := resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		if v.isFile() {
			return nil, errors.New("not a folder")
		}
		return h.list(v)
	case "Stat", "Lstat":
		info, err := h.stat(v)
		if err != nil {
			return nil, err
		}
		return listerAt{info}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

func (h *handlers) stat(v vpath) (os.FileInfo, error) {
	if !v.isFile() {
		return h.folderInfo(v)
	}
	if w := h.heldUpload(v.name); v.dir == dirIn && w != nil {
		// Clients check the size of what they uploaded before renaming.
		return fileInfo{name: v.name, size: w.size(), mode: 0o640, mtime: time.Now()}, nil
	}
	info, err := h.lookup(v)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: v.name, size: info.Size(), mode: 0o640, mtime: info.ModTime()}, nil
}

func (h *handlers) folderInfo(v vpath) (os.FileInfo, error) {
	name := v.dir
	if name == "" {
		name = "/"
	}
	mtime := time.Time{}
	if info, err := h.root.Stat(v.rel()); err == nil {
		mtime = info.ModTime()
	}
	mode := fs.ModeDir | 0o755
	if v.dir == dirIn {
		mode = fs.ModeDir | 0o730 // upload and list, no download
	}
	return fileInfo{name: name, mode: mode, mtime: mtime}, nil
}

func (h *handlers) list(v vpath) (sftp.ListerAt, error) {
	if v.dir == "" {
		var out listerAt
		for _, dir := range []string{dirIn, dirOut} {
			info, err := h.folderInfo(vpath{dir: dir})
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
		return out, nil
	}
	entries, err := readDir(h.root, v.dir)
	if err != nil {
		h.log.Warn("listing failed", "path", v.virtual(), "err", err)
		return nil, errors.New("listing failed")
	}
	var out listerAt
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !visible(v.dir, info) {
			continue
		}
		out = append(out, fileInfo{name: info.Name(), size: info.Size(), mode: 0o640, mtime: info.ModTime()})
	}
	return out, nil
}

// RealPath returns the absolute virtual path of p. It never touches the
// file system: the virtual tree has no links.
func (h *handlers) RealPath(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 || len(p) > maxPathBytes {
		return "", errDenied
	}
	return path.Clean("/" + p), nil
}

// fileInfo is what the user sees of a file or folder: no owner, no real
// mode bits.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return f.mtime }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

// listerAt is a fixed listing.
type listerAt []os.FileInfo

func (l listerAt) ListAt(ls []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(ls, l[offset:])
	if n < len(ls) {
		return n, io.EOF
	}
	return n, nil
}
