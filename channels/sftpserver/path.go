package sftpserver

import (
	"path"
	"strings"

	"github.com/pkg/sftp"
)

// The folders of a user's virtual tree.
const (
	dirIn  = "in"
	dirOut = "out"
)

// maxPathBytes bounds the request paths resolved.
const maxPathBytes = 4096

// Errors of path resolution, sent to the client as SFTP statuses.
var (
	errNoSuchFile = sftp.ErrSSHFxNoSuchFile
	errDenied     = sftp.ErrSSHFxPermissionDenied
)

// vpath is a resolved request path: the virtual root (dir and name
// empty), one of the folders in/ and out/ (name empty), or a file name
// directly in one of them.
type vpath struct {
	dir  string // "", dirIn or dirOut
	name string // one path element, not a dot-file; "" for a folder
}

// rel returns the path inside the user's folder: ".", "in", "out",
// "in/<name>" or "out/<name>".
func (v vpath) rel() string {
	switch {
	case v.dir == "":
		return "."
	case v.name == "":
		return v.dir
	}
	return v.dir + "/" + v.name
}

// virtual returns the path as the client sees it.
func (v vpath) virtual() string { return "/" + strings.TrimPrefix(v.rel(), ".") }

func (v vpath) isFile() bool { return v.name != "" }

// resolve maps a request path to the user's virtual tree. The tree is
// "/", "/in", "/out" and the files directly in the two folders; a relative
// path is relative to "/". A path with a ".." element or a NUL byte is
// refused outright (pkg/sftp cleans paths before they get here, so ".."
// can only come from a direct caller); any other path outside the tree,
// and any dot-file (the server's own uploads in progress and its .error
// folder), does not exist. The result's rel() is always a local path
// below the user's folder.
func resolve(p string) (vpath, error) {
	if len(p) > maxPathBytes || strings.IndexByte(p, 0) >= 0 {
		return vpath{}, errDenied
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." {
			return vpath{}, errDenied
		}
	}
	clean := path.Clean("/" + p)
	if clean == "/" {
		return vpath{}, nil
	}
	elems := strings.Split(clean[1:], "/")
	if elems[0] != dirIn && elems[0] != dirOut {
		return vpath{}, errNoSuchFile
	}
	switch len(elems) {
	case 1:
		return vpath{dir: elems[0]}, nil
	case 2:
		name := elems[1]
		if strings.HasPrefix(name, ".") || strings.ContainsRune(name, '\\') {
			return vpath{}, errNoSuchFile
		}
		return vpath{dir: elems[0], name: name}, nil
	}
	return vpath{}, errNoSuchFile
}
