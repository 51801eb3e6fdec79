package dirdrop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
	"golang.org/x/sync/errgroup"
)

var (
	_ channels.Outbound      = (*Outbox)(nil)
	_ channels.BatchOutbound = (*Outbox)(nil)
)

// ErrConflict: a different file already exists under the name being sent.
var ErrConflict = errors.New("a different file already exists under that name")

// batchSyncs bounds the files of one batch fsynced at once.
const batchSyncs = 8

// fsBatch is the number of new files in a batch from which WriteBatch
// makes them durable with one sync of the file system (syncfs(2), Linux
// 5.8 and later) instead of an fsync each: at a few hundred files a batch
// that halves the time an order's file takes (docs/benchmarks.md).
const fsBatch = 8

// Outbox is a local folder files for a partner are written to, as a
// channels.Outbound. Each file is written as <name>.part, fsynced (a
// batch of fsBatch files or more: all with one syncfs of the file system,
// on Linux), given its name without replacing anything, and the folder
// fsynced, so a reader never sees a partial file and a crash leaves at
// most a stale .part. Use it by pointer; the zero value with Dir set is
// ready to use.
//
// Writes of the same name are serialised within the process; the folder
// must not be shared with another writer of the same names.
type Outbox struct {
	// Dir is the folder written to. It must exist.
	Dir string

	mu   sync.Mutex
	busy map[string]chan struct{}

	// failPart, when set by a test, fails the write of a .part file.
	failPart func(name string) error
	// fsBatch, when set by a test, replaces the constant fsBatch.
	fsBatch int
	// syncFS, when set by a test, is called for the sync of the file
	// system with the real one.
	syncFS func(sync func() error) error
}

// WriteResult is the outcome of one file of WriteBatch: whether the file
// was created (false: the same content was there already), or why not.
type WriteResult struct {
	Created bool
	Err     error
}

// Send writes body under name. Sending the same name again with the same
// body does nothing; with a different body it fails with ErrConflict and
// leaves the existing file.
func (o *Outbox) Send(ctx context.Context, name string, body []byte) error {
	_, err := o.Write(ctx, name, body)
	return err
}

// SendBatch is Send for several files at once (see WriteBatch).
func (o *Outbox) SendBatch(ctx context.Context, files []channels.OutFile) []error {
	res := o.WriteBatch(ctx, files)
	errs := make([]error, len(res))
	for i, r := range res {
		errs[i] = r.Err
	}
	return errs
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
	return o.writeLocked(root, name, body)
}

// writeLocked writes one file whose name is locked, and fsyncs the folder.
func (o *Outbox) writeLocked(root *os.Root, name string, body []byte) (created bool, err error) {
	existed, err := existing(root, name, body)
	if err != nil {
		return false, err
	}
	if !existed {
		if err := o.writePart(root, name, body); err != nil {
			return false, err
		}
		if created, err = link(root, name, body); err != nil {
			return false, err
		}
	}
	// Also when the file existed: a crash after the link and before the
	// folder's fsync leaves a file whose name is not durable yet.
	if err := rootfs.SyncDir(root, "."); err != nil {
		return created, fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	return created, nil
}

// WriteBatch writes several files as Write does, with the folder fsynced
// once for all of them: every new file is written as <name>.part and
// fsynced, then given its name without replacing anything, then the
// folder is fsynced, and only then does WriteBatch return. The result of
// files[i] is at index i; one file failing leaves the others written. A
// name given twice is written once and the second one compared with it.
func (o *Outbox) WriteBatch(ctx context.Context, files []channels.OutFile) []WriteResult {
	res := make([]WriteResult, len(files))
	first := make(map[string]int, len(files)) // name -> index of its first file
	var names []string
	var dups []int
	for i, f := range files {
		if err := channels.CheckName(f.Name); err != nil {
			res[i].Err = fmt.Errorf("writing to outbox: %w", err)
			continue
		}
		if _, seen := first[f.Name]; seen {
			dups = append(dups, i)
			continue
		}
		first[f.Name] = i
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return res
	}
	failAll := func(err error) []WriteResult {
		for _, i := range first {
			res[i].Err = err
		}
		for _, i := range dups {
			res[i].Err = err
		}
		return res
	}
	slices.Sort(names) // locks in one order: two batches never deadlock
	unlock, err := o.lockAll(ctx, names)
	if err != nil {
		return failAll(fmt.Errorf("writing %d files to outbox: %w", len(names), err))
	}
	defer unlock()
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return failAll(fmt.Errorf("opening outbox: %w", err))
	}
	defer root.Close()

	var todo []int // new files, by index
	for _, name := range names {
		i := first[name]
		existed, err := existing(root, name, files[i].Body)
		switch {
		case err != nil:
			res[i].Err = err
		case !existed:
			todo = append(todo, i)
		}
	}
	// A large batch is made durable with one sync of the file system,
	// opened before the files are written so that it reports their
	// write-back errors; where there is none, each file is fsynced.
	var fsSync *rootfs.FSSync
	if len(todo) >= o.fsBatchSize() {
		if s, err := rootfs.OpenFSSync(root); err == nil {
			fsSync = s
			defer s.Close()
		}
	}
	// All .part files written first, then made durable together: fsyncs
	// that run together share the file system's journal commits.
	parts := make([]*os.File, len(files))
	for _, i := range todo {
		parts[i], res[i].Err = o.createPart(root, files[i].Name, files[i].Body)
	}
	if fsSync != nil {
		o.syncParts(root, fsSync, todo, parts, files, res)
	} else {
		var syncs errgroup.Group
		syncs.SetLimit(batchSyncs)
		for _, i := range todo {
			if parts[i] != nil {
				syncs.Go(func() error {
					res[i].Err = o.syncPart(root, parts[i], files[i].Name)
					return nil
				})
			}
		}
		_ = syncs.Wait() // each file's error is in res
	}
	for _, i := range todo {
		if res[i].Err == nil {
			res[i].Created, res[i].Err = link(root, files[i].Name, files[i].Body)
		}
	}
	var ok []int // files there now, created or found, by index
	for _, name := range names {
		if i := first[name]; res[i].Err == nil {
			ok = append(ok, i)
		}
	}
	// Found files too: a crash after a link and before the folder's fsync
	// leaves a file whose name is not durable yet.
	if len(ok) > 0 {
		if err := rootfs.SyncDir(root, "."); err != nil {
			err = fmt.Errorf("writing %d files to outbox: %w", len(ok), err)
			for _, i := range ok {
				res[i].Err = err
			}
		}
	}
	for _, i := range dups {
		f := files[i]
		if err := res[first[f.Name]].Err; err != nil {
			res[i].Err = err
			continue
		}
		_, res[i].Err = existing(root, f.Name, f.Body)
	}
	return res
}

// writePart writes body to name.part, fsynced, removing it on failure.
func (o *Outbox) writePart(root *os.Root, name string, body []byte) error {
	f, err := o.createPart(root, name, body)
	if err != nil {
		return err
	}
	return o.syncPart(root, f, name)
}

// createPart writes body to name.part, not fsynced yet, removing it on
// failure.
func (o *Outbox) createPart(root *os.Root, name string, body []byte) (*os.File, error) {
	part := name + ".part"
	f, err := rootfs.Write(root, part, body)
	if err != nil {
		root.Remove(part)
		return nil, fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	return f, nil
}

// syncPart fsyncs and closes the file of name.part, removing it on failure.
func (o *Outbox) syncPart(root *os.Root, f *os.File, name string) error {
	part := name + ".part"
	err := rootfs.SyncClose(f, part)
	if err == nil && o.failPart != nil {
		err = o.failPart(name)
	}
	if err != nil {
		root.Remove(part)
		return fmt.Errorf("writing %s to outbox: %w", name, err)
	}
	return nil
}

// fsBatchSize is the batch from which WriteBatch syncs the file system.
func (o *Outbox) fsBatchSize() int {
	if o.fsBatch > 0 {
		return o.fsBatch
	}
	return fsBatch
}

// syncParts closes the .part files of todo written to parts and makes
// them durable with one sync of the file system; a file that fails (or
// all, when the sync does) gets its error in res and its .part removed.
func (o *Outbox) syncParts(root *os.Root, fsSync *rootfs.FSSync, todo []int, parts []*os.File, files []channels.OutFile, res []WriteResult) {
	fail := func(i int, err error) {
		root.Remove(files[i].Name + ".part")
		res[i].Err = fmt.Errorf("writing %s to outbox: %w", files[i].Name, err)
	}
	var synced []int
	for _, i := range todo {
		if parts[i] == nil {
			continue
		}
		if err := parts[i].Close(); err != nil {
			fail(i, fmt.Errorf("closing %s.part: %w", files[i].Name, err))
			continue
		}
		synced = append(synced, i)
	}
	if len(synced) == 0 {
		return
	}
	flush := fsSync.Sync
	if o.syncFS != nil {
		flush = func() error { return o.syncFS(fsSync.Sync) }
	}
	if err := flush(); err != nil {
		for _, i := range synced {
			fail(i, err)
		}
		return
	}
	if o.failPart != nil {
		for _, i := range synced {
			if err := o.failPart(files[i].Name); err != nil {
				fail(i, err)
			}
		}
	}
}

// link gives name.part the name name without replacing anything. When
// name appeared meanwhile, the .part is removed and name compared with
// body.
func link(root *os.Root, name string, body []byte) (created bool, err error) {
	part := name + ".part"
	if err := rootfs.LinkNoReplace(root, part, name); errors.Is(err, fs.ErrExist) {
		// Another writer won the race; the file is theirs.
		root.Remove(part)
		_, err := existing(root, name, body)
		return false, err
	} else if err != nil {
		root.Remove(part)
		return false, fmt.Errorf("writing %s to outbox: %w", name, err)
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

// lockAll locks every name (sorted, distinct), giving up when ctx ends.
func (o *Outbox) lockAll(ctx context.Context, names []string) (func(), error) {
	unlocks := make([]func(), 0, len(names))
	release := func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	for _, name := range names {
		u, err := o.lock(ctx, name)
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
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
