//go:build !linux

package rootfs

import (
	"errors"
	"fmt"
	"os"
)

// OpenFSSync fails with errors.ErrUnsupported: only Linux has syncfs(2).
// Callers fsync each file instead.
func OpenFSSync(*os.Root) (*FSSync, error) {
	return nil, fmt.Errorf("syncfs: %w", errors.ErrUnsupported)
}

// Sync is never reached: OpenFSSync returns no FSSync here.
func (s *FSSync) Sync() error { return fmt.Errorf("syncfs: %w", errors.ErrUnsupported) }
