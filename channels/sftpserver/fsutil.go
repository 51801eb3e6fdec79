package sftpserver

import (
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
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

// tempSuffixes mark the names clients upload under before renaming the
// file to its real name (WinSCP .filepart, FileZilla and others .part,
// .partial, .tmp, .temp).
var tempSuffixes = []string{".filepart", ".part", ".partial", ".tmp", ".temp"}

// isTempName reports whether an upload's name is a temporary one: the
// file is held until the client renames it.
func isTempName(name string) bool {
	lower := strings.ToLower(name)
	for _, s := range tempSuffixes {
		if strings.HasSuffix(lower, s) && len(lower) > len(s) {
			return true
		}
	}
	return false
}

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

// linkUnique links oldname into dir under name, or name.1, name.2, ...
// (the number before the extension) when taken, and returns the name
// used.
func linkUnique(root *os.Root, oldname, dir, name string) (string, error) {
	for i := range maxCollisions {
		target := rootfs.Numbered(name, i)
		err := rootfs.LinkNoReplace(root, oldname, path.Join(dir, target))
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
