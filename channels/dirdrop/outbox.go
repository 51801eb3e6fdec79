package dirdrop

import (
	"context"
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
	"io/fs"
	"os"
	"sync"

	"github.com/ordergate/ordergate/channels"
)

var _ channels.Outbound = (*Outbox)(nil)

// ErrConflict: a different file already exists under the name being sent.
var ErrConflict = errors.New("a different file already exists under that name")

// Outbox is a local folder files for a partner are written to, as a
// channels.Outbound. Each file is written as <name>.part, fsynced, given
// its name without replacing anything, and the folder fsynced, so a reader
// never sees a partial file and a crash leaves at most a stale .part. Use
// it by pointer; the zero value with Dir set is ready to use.
//
// Writes of the same name are serialised within the process; the folder
// must not be shared with another writer of the same names.
type Outbox struct {
	// Dir is the folder written to. It must exist.
	Dir string

	mu   sync.Mutex
	busy map[string]chan struct{}
}

// Send writes body under name. Sending the same name again with the same
// body does nothing; with a different body it fails with ErrConflict and
// leaves the existing file.
func (o *Outbox) Send(ctx context.Context, name string, body []byte) error {
	_, err := o.Write(ctx, name, body)
	return err
}

// Write is Send that also reports whether it created the file (false: the
// same content was already there).
func (o *Outbox) Write(ctx context.Context, name string, body []byte) (created bool, err error) {
	if err := channels.CheckName(name); err != nil {
		return false, fmt.Errorf("writing to outbox: %w", err)
	}
	unlock, err := o.lock(ctx, name)
	if err != nil {
		return false, fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	defer unlock()
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return false, fmt.Errorf("opening outbox: %w", err)
	}
	defer root.Close()

	if existed, err := existing(root, name, body); err != nil || existed {
		return false, err
	}
	part := name + ".part"
	if err := rootfs.WriteSynced(root, part, body); err != nil {
		return false, fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	if err := rootfs.LinkNoReplace(root, part, name); errors.Is(err, fs.ErrExist) {
		// Another writer won the race; the file is theirs.
		root.Remove(part)
		_, err := existing(root, name, body)
		return false, err
	} else if err != nil {
		root.Remove(part)
		return false, fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	if err := rootfs.SyncDir(root, "."); err != nil {
		return true, fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	return true, nil
}

// existing reports whether name exists with body, and fails with
// ErrConflict when it exists with other content.
func existing(root *os.Root, name string, body []byte) (bool, error) {
	if _, err := root.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("checking %s in outbox: %w", name, err)
	}
	same, err := rootfs.SameContent(root, name, body)
	if err != nil {
		return false, fmt.Errorf("comparing %s in outbox: %w", name, err)
	}
	if !same {
		return false, fmt.Errorf("writing %s to outbox: %w", name, ErrConflict)
	}
	return true, nil
}

// lock serialises writes of one name, giving up when ctx ends.
func (o *Outbox) lock(ctx context.Context, name string) (func(), error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o.mu.Lock()
		wait, held := o.busy[name]
		if !held {
			if o.busy == nil {
				o.busy = map[string]chan struct{}{}
			}
			ch := make(chan struct{})
			o.busy[name] = ch
			o.mu.Unlock()
			return func() {
				o.mu.Lock()
				delete(o.busy, name)
				o.mu.Unlock()
				close(ch)
			}, nil
		}
		o.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
