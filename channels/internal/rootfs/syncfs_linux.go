package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// OpenFSSync opens root's folder for FSSync.Sync. Open it before writing
// the files it is to make durable: syncfs(2) reports the write-back
// errors of the file system since the descriptor was opened. It fails
// with errors.ErrUnsupported on a kernel older than 5.8, whose syncfs
// does not report them.
func OpenFSSync(root *os.Root) (*FSSync, error) {
	if !syncfsReportsErrors() {
		return nil, fmt.Errorf("syncfs on Linux %s: %w", kernelRelease(), errors.ErrUnsupported)
	}
	d, err := root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("opening the folder to sync its file system: %w", err)
	}
	return &FSSync{dir: d}, nil
}

// Sync writes back everything written to the file system of the folder
// and its metadata, with one syncfs(2), and reports a write-back error
// of that file system since OpenFSSync (or the last Sync).
func (s *FSSync) Sync() error {
	c, err := s.dir.SyscallConn()
	if err != nil {
		return fmt.Errorf("syncing the file system: %w", err)
	}
	var serr error
	if err := c.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return fmt.Errorf("syncing the file system: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("syncing the file system: %w", serr)
	}
	return nil
}

var (
	kernelOnce sync.Once
	kernelRel  string
	kernelOK   bool
)

// syncfsReportsErrors tells whether the running kernel's syncfs reports
// write-back errors (Linux 5.8 and later).
func syncfsReportsErrors() bool {
	kernelOnce.Do(func() {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return
		}
		kernelRel = string(bytes.TrimRight(u.Release[:], "\x00"))
		kernelOK = releaseAtLeast(kernelRel, 5, 8)
	})
	return kernelOK
}

func kernelRelease() string {
	syncfsReportsErrors()
	return kernelRel
}

// releaseAtLeast reports whether a kernel release such as "6.1.0-18-amd64"
// is major.minor or later; false when it cannot be read.
func releaseAtLeast(release string, major, minor int) bool {
	var maj, min int
	if _, err := fmt.Sscanf(release, "%d.%d", &maj, &min); err != nil {
		return false
	}
	return maj > major || maj == major && min >= minor
}
