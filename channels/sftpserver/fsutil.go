package sftpserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Names the server keeps in in/; all dot-files, so users never see them.
const (
	uploadPrefix = ".upload-" // uploads in progress
	errorDir     = ".error"   // rejected files and their .reason files
	reasonSuffix = ".reason"
)

// maxCollisions bounds the numbered names tried for one file.
const maxCollisions = 10000

func isUploadTemp(name string) bool { return strings.HasPrefix(name, uploadPrefix) }

// readDir lists dir of root.
func readDir(root *os.Root, dir string) ([]fs.DirEntry, error) {
	f, err := root.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	return entries, nil
}

// linkNoReplace gives the file oldname the name newname and removes
// oldname, never replacing an existing newname (an error wrapping
// fs.ErrExist instead). Where the file system has no hard links it checks
// and renames, which callers make safe by serialising.
func linkNoReplace(root *os.Root, oldname, newname string) error {
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

// linkUnique links oldname into dir under name, or name.1, name.2, ...
// (the number before the extension) when taken, and returns the name
// used.
func linkUnique(root *os.Root, oldname, dir, name string) (string, error) {
	for i := range maxCollisions {
		target := numbered(name, i)
		err := linkNoReplace(root, oldname, path.Join(dir, target))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return target, nil
	}
	return "", fmt.Errorf("moving %s: %d names taken in %s", oldname, maxCollisions, dir)
}

// numbered returns name for i == 0 and name with ".i" before its
// extension otherwise: po.edi, po.1.edi, po.2.edi.
func numbered(name string, i int) string {
	if i == 0 {
		return name
	}
	ext := path.Ext(name)
	if ext == name {
		ext = ""
	}
	return fmt.Sprintf("%s.%d%s", strings.TrimSuffix(name, ext), i, ext)
}

// syncDir fsyncs dir of root so that links and removals in it survive a
// power loss.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("opening folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}

// writeSynced writes data to name in root (created or truncated) and
// fsyncs it.
func writeSynced(root *os.Root, name string, data []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", name, err)
	}
	return nil
}

// usage returns the bytes of the regular files directly in in/ and out/
// of root, leaving out the names in skip (uploads in progress, counted by
// their reservations). in/.error is not counted: it is the server's
// quarantine, which the user cannot clear.
func usage(root *os.Root, skip map[string]bool) (int64, error) {
	var total int64
	for _, dir := range []string{dirIn, dirOut} {
		entries, err := readDir(root, dir)
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || skip[dir+"/"+e.Name()] {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // removed since the listing
			}
			total += info.Size()
		}
	}
	return total, nil
}
