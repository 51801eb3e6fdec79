package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// WriteSynced writes data to name in root (created or truncated) and
// fsyncs it.
func WriteSynced(root *os.Root, name string, data []byte) error {
	f, err := Write(root, name, data)
	if err != nil {
		return err
	}
	return SyncClose(f, name)
}

// Write writes data to name in root (created or truncated) and returns the
// file still open and not fsynced, for SyncClose: a batch writes all its
// files first and then fsyncs them together, so that the fsyncs share
// journal commits. On error the file is closed.
func Write(root *os.Root, name string, data []byte) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	return f, nil
}

// SyncClose fsyncs the file f, named name, and closes it.
func SyncClose(f *os.File, name string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", name, err)
	}
	return nil
}

// LinkNoReplace gives the file oldname the name newname and removes
// oldname, never replacing an existing newname: it returns an error
// wrapping fs.ErrExist instead. It uses a hard link, which fails
// atomically when newname exists; where the file system has no hard links
// it falls back to checking for newname and renaming, which is safe
// against this process (callers serialise) but not against another
// writer creating newname in between.
func LinkNoReplace(root *os.Root, oldname, newname string) error {
	err := root.Link(oldname, newname)
	switch {
	case err == nil:
		if err := root.Remove(oldname); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s after linking: %w", oldname, err)
		}
		return nil
	case errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("linking %s to %s: %w", oldname, newname, err)
	}
	if _, err := root.Lstat(newname); err == nil {
		return fmt.Errorf("renaming %s to %s: %w", oldname, newname, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking %s: %w", newname, err)
	}
	if err := root.Rename(oldname, newname); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", oldname, newname, err)
	}
	return nil
}

// SyncDir fsyncs the directory dir of root so that renames and links in
// it survive a power loss.
func SyncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// SameContent reports whether name in root holds exactly data.
func SameContent(root *os.Root, name string, data []byte) (bool, error) {
	f, err := root.Open(name)
	if err != nil {
		return false, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", name, err)
	}
	if info.Size() != int64(len(data)) {
		return false, nil
	}
	buf := make([]byte, 64<<10)
	for off := 0; off < len(data); {
		n, err := f.Read(buf)
		if n > 0 {
			if off+n > len(data) || !bytes.Equal(buf[:n], data[off:off+n]) {
				return false, nil
			}
			off += n
		}
		if errors.Is(err, io.EOF) {
			return off == len(data), nil
		}
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", name, err)
		}
	}
	return true, nil
}

// Numbered returns name for i == 0 and name with ".i" before its extension
// otherwise: po.edi, po.1.edi, po.2.edi.
func Numbered(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := path.Ext(name)
	if ext == name {
		ext = ""
	}
	return fmt.Sprintf("%s.%d%s", strings.TrimSuffix(name, ext), i, ext)
}
