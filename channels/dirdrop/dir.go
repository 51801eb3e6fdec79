package dirdrop

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/channels"
)

var _ channels.Source = (*Dir)(nil)

// maxCollisions bounds the numbered names tried in done/ and error/.
const maxCollisions = 10000

// errChanged: a file changed (or went) between its listing and the end of
// its read.
var errChanged = errors.New("file changed while being taken")

// Dir is a local inbox folder as a channels.Source.
type Dir struct {
	cfg   Config
	log   *slog.Logger
	spool channels.Spool

	mu   sync.Mutex
	conn *conn // nil while not connected

	// readVia, when set by a test, wraps the file being read.
	readVia func(*os.File) io.Reader
}

// conn is the state of one connection; a reconnect starts afresh, so
// documents in flight before are offered again.
type conn struct {
	tree     *os.Root // the nearest common directory of inbox, done and error
	inbox    *os.Root // the inbox; all reads go through it
	inboxRel string   // paths of the three folders inside tree
	doneRel  string
	errorRel string
	closed   chan struct{}

	seen     map[string]sighting // stability tracking, by file name
	inflight map[string]bool     // read and not yet acked
	queue    []candidate         // ready files of the last listing, oldest first
	warned   map[string]bool     // names refused, logged once
	scans    int                 // listings so far, for tests and logs
	stats    int                 // files looked at (lstat) so far, for tests
}

type sighting struct {
	size  int64
	mtime time.Time
	first time.Time // when this size and mtime were first seen
	// ready: found stable; later listings queue the file again without a
	// stat of their own (take checks the opened file against size and
	// mtime, so a change after this is still caught).
	ready bool
}

type candidate struct {
	name     string
	size     int64
	mtime    time.Time
	doneFile string // the done-file to remove on ack, in done-file mode
}

// New returns a Dir for cfg, not connected yet. It checks cfg and fills in
// the defaults; it does not touch the file system.
func New(cfg Config) (*Dir, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Dir{
		cfg:   cfg,
		log:   cfg.Logger.With("channel", cfg.Name),
		spool: channels.Spool{Dir: cfg.SpoolDir, MaxBytes: cfg.MaxFileBytes},
	}, nil
}

// Connect opens the inbox (which must exist) and creates the done and
// error folders. Calling it while connected does nothing.
func (d *Dir) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		return nil
	}
	c, err := d.open()
	if err != nil {
		return fmt.Errorf("connecting dirdrop %s: %w", d.cfg.Name, err)
	}
	d.conn = c
	return nil
}

func (d *Dir) open() (*conn, error) {
	var abs [3]string
	for i, p := range []string{d.cfg.Path, d.cfg.DoneDir, d.cfg.ErrorDir} {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", p, err)
		}
		abs[i] = a
	}
	base := commonDir(abs[:])
	var rel [3]string
	for i, a := range abs {
		r, err := filepath.Rel(base, a)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", a, err)
		}
		rel[i] = filepath.ToSlash(r)
	}
	if info, err := os.Stat(abs[0]); err != nil {
		return nil, fmt.Errorf("opening inbox: %w", err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("opening inbox %s: not a directory", abs[0])
	}
	tree, err := os.OpenRoot(base)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", base, err)
	}
	for _, dir := range rel[1:] {
		if err := tree.MkdirAll(dir, 0o750); err != nil {
			tree.Close()
			return nil, fmt.Errorf("creating %s: %w", filepath.Join(base, dir), err)
		}
	}
	inbox, err := tree.OpenRoot(rel[0])
	if err != nil {
		tree.Close()
		return nil, fmt.Errorf("opening inbox: %w", err)
	}
	return &conn{
		tree: tree, inbox: inbox,
		inboxRel: rel[0], doneRel: rel[1], errorRel: rel[2],
		closed:   make(chan struct{}),
		seen:     map[string]sighting{},
		inflight: map[string]bool{},
		warned:   map[string]bool{},
	}, nil
}

// commonDir returns the deepest directory containing all of the absolute,
// clean paths.
func commonDir(paths []string) string {
	base := paths[0]
	for _, p := range paths[1:] {
		for base != p && !strings.HasPrefix(p, strings.TrimSuffix(base, string(filepath.Separator))+string(filepath.Separator)) {
			parent := filepath.Dir(base)
			if parent == base {
				break
			}
			base = parent
		}
	}
	return base
}

// Close disconnects: Reads blocked on the inbox return
// channels.ErrNotConnected, AckFuncs of documents read before fail with it,
// and those documents are offered again after the next Connect. It is
// idempotent.
func (d *Dir) Close(ctx context.Context) error {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c == nil {
		return nil
	}
	close(c.closed)
	if err := errors.Join(c.inbox.Close(), c.tree.Close()); err != nil {
		return fmt.Errorf("closing dirdrop %s: %w", d.cfg.Name, err)
	}
	return nil
}

// Read returns the oldest file of the inbox that is ready and not in
// flight, waiting Poll between listings while there is none.
func (d *Dir) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	for {
		if err := ctx.Err(); err != nil {
			return channels.Document{}, nil, err
		}
		d.mu.Lock()
		c := d.conn
		var (
			cand candidate
			ok   bool
		)
		if c != nil {
			cand, ok = d.next(c)
		}
		d.mu.Unlock()
		if c == nil {
			return channels.Document{}, nil, fmt.Errorf("reading dirdrop %s: %w", d.cfg.Name, channels.ErrNotConnected)
		}
		if !ok {
			t := time.NewTimer(d.cfg.Poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return channels.Document{}, nil, ctx.Err()
			case <-c.closed:
				t.Stop()
				return channels.Document{}, nil, fmt.Errorf("reading dirdrop %s: %w", d.cfg.Name, channels.ErrNotConnected)
			case <-t.C:
			}
			continue
		}
		doc, err := d.take(ctx, c, cand)
		if err == nil {
			return doc, d.ackFunc(c, cand), nil
		}
		d.mu.Lock()
		delete(c.inflight, cand.name)
		delete(c.seen, cand.name) // must be stable afresh
		d.mu.Unlock()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return channels.Document{}, nil, ctxErr
		}
		select {
		case <-c.closed:
			return channels.Document{}, nil, fmt.Errorf("reading dirdrop %s: %w", d.cfg.Name, channels.ErrNotConnected)
		default:
		}
		if errors.Is(err, errChanged) {
			d.log.Debug("file changed while being read; waiting for it to be stable", "file", cand.name)
		} else {
			d.log.Warn("reading file failed; will try again", "file", cand.name, "err", err)
		}
	}
}

// next pops the next ready candidate, listing the inbox when the queue is
// empty, and marks it in flight. d.mu is held.
func (d *Dir) next(c *conn) (candidate, bool) {
	if len(c.queue) == 0 {
		if err := d.scan(c); err != nil {
			d.log.Warn("listing inbox failed", "err", err)
			return candidate{}, false
		}
	}
	for len(c.queue) > 0 {
		cand := c.queue[0]
		c.queue = c.queue[1:]
		if c.inflight[cand.name] {
			continue
		}
		// Whether it is gone or changed since the listing, take finds out
		// on the opened file.
		c.inflight[cand.name] = true
		return cand, true
	}
	return candidate{}, false
}

// scan lists the inbox, updates the stability tracking and queues the
// files that are ready, oldest first. d.mu is held.
func (d *Dir) scan(c *conn) error {
	f, err := c.inbox.Open(".")
	if err != nil {
		return fmt.Errorf("opening inbox: %w", err)
	}
	// Names only: ReadDir on a folder opened in an os.Root lstats every
	// entry, those in flight too; fileInfo looks at the candidates.
	list, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("listing inbox: %w", err)
	}
	c.scans++
	now := d.cfg.Clock()
	names := make(map[string]bool, len(list))
	for _, name := range list {
		names[name] = true
	}
	var ready []candidate
	for _, name := range list {
		if !d.wanted(name) || c.inflight[name] {
			continue
		}
		if s := c.seen[name]; s.ready {
			// A backlog of ready files is listed again and again while it
			// drains: looking at each of them every time cost more than the
			// rest of the listing.
			ready = append(ready, candidate{name: name, size: s.size, mtime: s.mtime})
			continue
		}
		c.stats++
		info, ok := d.fileInfo(c, name)
		if !ok {
			continue
		}
		cand := candidate{name: name, size: info.Size(), mtime: info.ModTime()}
		if suffix := d.cfg.DoneFileSuffix; suffix != "" {
			if !names[name+suffix] {
				continue
			}
			cand.doneFile = name + suffix
			ready = append(ready, cand)
			continue
		}
		s, seen := c.seen[name]
		if !seen || s.size != cand.size || !s.mtime.Equal(cand.mtime) {
			c.seen[name] = sighting{size: cand.size, mtime: cand.mtime, first: now}
			continue
		}
		if now.Sub(s.first) >= d.cfg.MinAge {
			s.ready = true
			c.seen[name] = s
			ready = append(ready, cand)
		}
	}
	for name := range c.seen {
		if !names[name] {
			delete(c.seen, name)
		}
	}
	for name := range c.warned {
		if !names[name] {
			delete(c.warned, name)
		}
	}
	slices.SortFunc(ready, func(a, b candidate) int {
		return cmp.Or(a.mtime.Compare(b.mtime), strings.Compare(a.name, b.name))
	})
	c.queue = ready
	return nil
}

// wanted reports whether a name is a document candidate at all.
func (d *Dir) wanted(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") {
		return false
	}
	if s := d.cfg.DoneFileSuffix; s != "" && strings.HasSuffix(name, s) {
		return false
	}
	for _, p := range d.cfg.Patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// fileInfo returns the info of a regular file of the inbox, following a
// symlink only inside the inbox (os.Root refuses the others; they are
// logged once). A folder is not a regular file.
func (d *Dir) fileInfo(c *conn, name string) (fs.FileInfo, bool) {
	info, err := c.inbox.Lstat(name)
	if err == nil && info.Mode()&fs.ModeSymlink != 0 {
		info, err = c.inbox.Stat(name)
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !c.warned[name] {
			c.warned[name] = true
			d.log.Warn("refusing file", "file", name, "err", err)
		}
		return nil, false
	}
	return info, info.Mode().IsRegular()
}

// take reads a candidate whole through the inbox root into a spooled body,
// checking that it did not change on the way.
func (d *Dir) take(ctx context.Context, c *conn, cand candidate) (channels.Document, error) {
	doc := channels.Document{
		Channel:  d.cfg.Name,
		Name:     channels.SanitizeName(cand.name),
		Received: d.cfg.Clock(),
		Meta: map[string]string{
			"path":  strings.ToValidUTF8(cand.name, "\uFFFD"),
			"size":  strconv.FormatInt(cand.size, 10),
			"mtime": cand.mtime.UTC().Format(time.RFC3339Nano),
		},
	}
	if cand.doneFile != "" {
		doc.Meta["done_file"] = strings.ToValidUTF8(cand.doneFile, "\uFFFD")
	}
	if cand.size > d.cfg.MaxFileBytes {
		if info, err := c.inbox.Stat(cand.name); err != nil || info.Size() != cand.size || !info.ModTime().Equal(cand.mtime) {
			return doc, errChanged // gone or changed since the listing
		}
		doc.SourceKey = fmt.Sprintf("size=%d mtime=%d path=%q", cand.size, cand.mtime.UnixNano(), cand.name)
		doc.Body = channels.BytesBody(nil)
		doc.Err = fmt.Errorf("taking %s: %d bytes, limit %d: %w", cand.name, cand.size, d.cfg.MaxFileBytes, channels.ErrTooLarge)
		return doc, nil
	}
	f, err := c.inbox.Open(cand.name)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, errChanged // gone since the listing
	}
	if err != nil {
		return doc, fmt.Errorf("opening %s: %w", cand.name, err)
	}
	defer f.Close()
	if !d.unchanged(f, cand) {
		return doc, errChanged
	}
	var r io.Reader = f
	if d.readVia != nil {
		r = d.readVia(f)
	}
	body, sum, err := d.spool.Take(ctx, r)
	if errors.Is(err, channels.ErrTooLarge) {
		return doc, errChanged // grew past the limit after the listing
	}
	if err != nil {
		return doc, fmt.Errorf("reading %s: %w", cand.name, err)
	}
	// A short or long read, or a write during the read, shows in the size
	// or mtime: never hand over a partial file.
	if body.Size() != cand.size || !d.unchanged(f, cand) {
		body.Close()
		return doc, errChanged
	}
	doc.Body, doc.SHA256 = body, sum
	doc.SourceKey = fmt.Sprintf("size=%d mtime=%d sha256=%x path=%q", cand.size, cand.mtime.UnixNano(), sum, cand.name)
	d.log.Debug("took file", "file", cand.name, "size", cand.size)
	return doc, nil
}

func (d *Dir) unchanged(f *os.File, cand candidate) bool {
	info, err := f.Stat()
	return err == nil && info.Size() == cand.size && info.ModTime().Equal(cand.mtime)
}
