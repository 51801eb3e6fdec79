package sftpdrop

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/pkg/sftp"
)

var (
	_ channels.Source   = (*Channel)(nil)
	_ channels.Outbound = (*Channel)(nil)
)

// Errors of a transfer that make the channel try the file again later;
// they never become a Document.
var (
	errChanged   = errors.New("file changed while being taken")
	errShortRead = errors.New("short read: the server sent fewer bytes than the file's size")
)

// maxWarned bounds the names whose refusal is remembered (logged once).
const maxWarned = 1000

// readBuffer is how much one read asks pkg/sftp for (split into concurrent
// requests).
const readBuffer = 256 << 10

// Channel is a partner's SFTP inbox as a channels.Source and their
// inbound folder as a channels.Outbound.
type Channel struct {
	cfg   Config
	log   *slog.Logger
	dial  *dialer
	spool channels.Spool
	out   *Remote

	mu   sync.Mutex
	conn *conn

	// readHook, when set by a test, is called after each chunk read with
	// the file's name and the offset reached.
	readHook func(name string, off int64)
}

// conn is the state of one Connect; a reconnect by the caller starts
// afresh, so documents in flight before are offered again. The SSH
// connection under it is redialed by the poller when it drops.
type conn struct {
	ch     *Channel
	ctx    context.Context
	cancel context.CancelFunc
	closed chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	sess     *session
	list     *lister
	seen     map[string]sighting
	forgot   map[string]bool // released with forget during a listing
	inflight map[string]bool
	warned   map[string]bool
	made     map[string]*session // folders created, by the session that did it
	head     *slot               // a slot a cancelled Read was waiting on
	drained  bool

	slots   chan *slot    // transfers in listing order
	readTok chan struct{} // one Read waits for the head slot at a time
	wake    chan struct{} // list again now (a Retry ack)
	errs    chan error    // the latest failure to reconnect, for Read
}

type sighting struct {
	size  int64
	mtime time.Time
	first time.Time
}

type candidate struct {
	name     string
	size     int64
	mtime    time.Time
	doneFile string
}

// slot is one transfer; done is closed when doc or err is set.
type slot struct {
	cand candidate
	done chan struct{}
	doc  channels.Document
	err  error
}

// New checks cfg, reads the private key and the known_hosts file, and
// returns a Channel that is not connected yet. It fails when no host key
// is pinned. A nil log discards.
func New(cfg Config, log *slog.Logger) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("channel", cfg.Name)
	d, err := newDialer(cfg.Server, log)
	if err != nil {
		return nil, fmt.Errorf("sftpdrop %s: %w", cfg.Name, err)
	}
	return &Channel{
		cfg:   cfg,
		log:   log,
		dial:  d,
		spool: channels.Spool{Dir: cfg.SpoolDir, MaxBytes: cfg.MaxFileBytes},
		out:   &Remote{d: d, log: log, dialTok: make(chan struct{}, 1)},
	}, nil
}

// Connect connects to the server (checking its host key) and starts
// listing the inbox in the background. Calling it while connected does
// nothing.
func (ch *Channel) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.conn != nil {
		return nil
	}
	s, err := ch.dial.dial(ctx)
	if err != nil {
		return fmt.Errorf("connecting sftpdrop %s: %w", ch.cfg.Name, err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		ch: ch, ctx: cctx, cancel: cancel,
		closed:   make(chan struct{}),
		sess:     s,
		seen:     map[string]sighting{},
		forgot:   map[string]bool{},
		inflight: map[string]bool{},
		warned:   map[string]bool{},
		made:     map[string]*session{},
		slots:    make(chan *slot, ch.cfg.MaxConcurrent),
		readTok:  make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
		errs:     make(chan error, 1),
	}
	ch.conn = c
	c.wg.Add(1)
	go c.poll()
	ch.log.Info("connected", "server", ch.dial.addr, "inbox", ch.cfg.Inbox)
	return nil
}

// Close disconnects: a blocked Read returns channels.ErrNotConnected,
// AckFuncs of documents read before fail with it, and those documents are
// offered again after the next Connect. It also closes the connection
// Send uses (Send dials again when called). It is idempotent.
func (ch *Channel) Close(ctx context.Context) error {
	ch.mu.Lock()
	c := ch.conn
	ch.conn = nil
	ch.mu.Unlock()
	ch.out.Close()
	if c == nil {
		return nil
	}
	close(c.closed)
	c.cancel()
	c.mu.Lock()
	s, l := c.sess, c.list
	c.sess, c.list = nil, nil
	c.mu.Unlock()
	if l != nil {
		l.close()
	}
	if s != nil {
		s.close()
	}
	stopped := make(chan struct{})
	go func() {
		c.wg.Wait()
		c.drain()
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing sftpdrop %s: %w", ch.cfg.Name, ctx.Err())
	}
}

// drain closes the bodies of transfers nobody will read. The poller and
// its transfers have ended.
func (c *conn) drain() {
	c.mu.Lock()
	c.drained = true
	head := c.head
	c.head = nil
	c.mu.Unlock()
	if head != nil {
		head.doc.Body.Close()
	}
	for {
		select {
		case sl := <-c.slots:
			<-sl.done
			sl.doc.Body.Close()
		default:
			return
		}
	}
}

// Send writes body to the remote Outbox as name (see Remote.Put). A
// different file already there under name fails with ErrConflict.
func (ch *Channel) Send(ctx context.Context, name string, body []byte) error {
	if err := channels.CheckName(name); err != nil {
		return fmt.Errorf("sftpdrop %s: sending: %w", ch.cfg.Name, err)
	}
	if ch.cfg.Outbox == "" {
		return fmt.Errorf("sftpdrop %s: sending %s: no outbox configured", ch.cfg.Name, name)
	}
	if _, err := ch.out.Put(ctx, ch.cfg.Outbox, name, body); err != nil {
		return fmt.Errorf("sftpdrop %s: sending: %w", ch.cfg.Name, err)
	}
	return nil
}

func (ch *Channel) current() *conn {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.conn
}

func (ch *Channel) notConnected() error {
	return fmt.Errorf("reading sftpdrop %s: %w", ch.cfg.Name, channels.ErrNotConnected)
}

// Read returns the next file taken from the inbox, oldest first within a
// listing. While the connection is down and reconnecting fails, it
// returns that failure (the caller backs off and reads again).
func (ch *Channel) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	if err := ctx.Err(); err != nil {
		return channels.Document{}, nil, err
	}
	c := ch.current()
	if c == nil {
		return channels.Document{}, nil, ch.notConnected()
	}
	select {
	case c.readTok <- struct{}{}:
	case <-ctx.Done():
		return channels.Document{}, nil, ctx.Err()
	case <-c.closed:
		return channels.Document{}, nil, ch.notConnected()
	}
	defer func() { <-c.readTok }()
	for {
		c.mu.Lock()
		sl := c.head
		c.head = nil
		c.mu.Unlock()
		if sl == nil {
			select {
			case sl = <-c.slots:
			case err := <-c.errs:
				return channels.Document{}, nil, fmt.Errorf("reading sftpdrop %s: connection lost, reconnecting: %w", ch.cfg.Name, err)
			case <-ctx.Done():
				return channels.Document{}, nil, ctx.Err()
			case <-c.closed:
				return channels.Document{}, nil, ch.notConnected()
			}
		}
		select {
		case <-sl.done:
		case <-ctx.Done():
			c.putBack(sl)
			return channels.Document{}, nil, ctx.Err()
		case <-c.closed:
			c.putBack(sl)
			return channels.Document{}, nil, ch.notConnected()
		}
		if sl.err != nil {
			continue // logged by the transfer; the file is tried again later
		}
		return sl.doc, c.ackFunc(sl.cand), nil
	}
}

// putBack keeps a slot for the next Read, or discards it after Close.
func (c *conn) putBack(sl *slot) {
	c.mu.Lock()
	drained := c.drained
	if !drained {
		c.head = sl
	}
	c.mu.Unlock()
	if drained {
		go func() {
			<-sl.done
			sl.doc.Body.Close()
		}()
	}
}

// live returns the current session and lister, or nil while the
// connection is down.
func (c *conn) live() (*session, *lister) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil && !c.sess.alive() {
		c.dropLocked()
	}
	return c.sess, c.list
}

func (c *conn) dropLocked() {
	if c.list != nil {
		c.list.close()
	}
	if c.sess != nil {
		c.sess.close()
	}
	c.sess, c.list = nil, nil
}

// poll lists the inbox and starts transfers until Close, redialing with
// capped exponential backoff while the connection is down.
func (c *conn) poll() {
	defer c.wg.Done()
	cfg := c.ch.cfg
	backoff := cfg.ReconnectMin
	for c.ctx.Err() == nil {
		s, l := c.live()
		if s == nil {
			var err error
			s, err = c.ch.dial.dial(c.ctx)
			if err != nil {
				if c.ctx.Err() != nil {
					return
				}
				c.ch.log.Error("reconnecting failed", "server", c.ch.dial.addr, "err", err, "retry_in", backoff)
				select { // the latest failure, for Read
				case <-c.errs:
				default:
				}
				c.errs <- err
				if !c.sleep(backoff, false) {
					return
				}
				backoff = min(backoff*2, cfg.ReconnectMax)
				continue
			}
			c.ch.log.Info("reconnected", "server", c.ch.dial.addr)
			c.mu.Lock()
			c.sess = s
			c.mu.Unlock()
			select {
			case <-c.errs:
			default:
			}
		}
		backoff = cfg.ReconnectMin
		if l == nil {
			var err error
			if l, err = newLister(s.ssh); err != nil {
				c.failed(s, "starting a listing session", err)
				continue
			}
			c.mu.Lock()
			if c.sess == s {
				c.list = l
			} else {
				l.close()
				l = nil
			}
			c.mu.Unlock()
			if l == nil {
				continue
			}
		}
		ready, err := c.scan(s, l)
		if err != nil {
			c.mu.Lock()
			if c.list == l {
				c.list = nil
			}
			c.mu.Unlock()
			l.close()
			c.failed(s, "listing inbox", err)
			continue
		}
		if len(ready) == 0 {
			if !c.sleep(cfg.Poll, true) {
				return
			}
			continue
		}
		c.transfer(s, ready)
	}
}

// failed logs a failure of the session s; a dead session is dropped at
// once (the next round redials), otherwise the poller waits Poll.
func (c *conn) failed(s *session, what string, err error) {
	if c.ctx.Err() != nil {
		return
	}
	if s.lost(err) {
		c.ch.log.Warn("connection lost", "server", c.ch.dial.addr, "while", what, "err", err)
		return
	}
	c.ch.log.Warn(what+" failed", "err", err, "retry_in", c.ch.cfg.Poll)
	c.sleep(c.ch.cfg.Poll, true)
}

// sleep waits d, until Close, or (when wakeable) until a Retry ack asks
// for a new listing; false after Close.
func (c *conn) sleep(d time.Duration, wakeable bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	var wake chan struct{}
	if wakeable {
		wake = c.wake
	}
	select {
	case <-t.C:
	case <-wake:
	case <-c.ctx.Done():
		return false
	}
	return true
}

// transfer downloads the ready files, at most MaxConcurrent at once, and
// queues them for Read in listing order. It returns when all are done.
func (c *conn) transfer(s *session, ready []candidate) {
	sem := make(chan struct{}, c.ch.cfg.MaxConcurrent)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, cand := range ready {
		sl := &slot{cand: cand, done: make(chan struct{})}
		select {
		case sem <- struct{}{}:
		case <-c.ctx.Done():
			c.release(ready[i:], true)
			return
		}
		select {
		case c.slots <- sl:
		case <-c.ctx.Done():
			<-sem
			c.release(ready[i:], true)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			doc, err := c.take(s, cand)
			if err != nil {
				c.release([]candidate{cand}, true)
				if c.ctx.Err() == nil {
					switch {
					case errors.Is(err, errChanged):
						c.ch.log.Info("file changed while being read; waiting for it to be stable", "file", cand.name)
					case s.lost(err):
						c.ch.log.Warn("connection lost during a transfer; the file is taken again later", "file", cand.name, "err", err)
					default:
						c.ch.log.Warn("taking file failed; trying again later", "file", cand.name, "err", err)
					}
				}
			}
			sl.doc, sl.err = doc, err
			close(sl.done)
		}()
	}
}

// release takes files out of flight; forget makes them wait to be stable
// again.
func (c *conn) release(cands []candidate, forget bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cand := range cands {
		delete(c.inflight, cand.name)
		if forget {
			delete(c.seen, cand.name)
			c.forgot[cand.name] = true
		}
	}
}

// scan lists the inbox page by page, updates the stability tracking and
// returns the files ready to take (marked in flight), oldest first. It
// stops reading the folder when it has MaxFilesPerPoll ready files or
// tracks trackLimit files, so a huge folder costs bounded memory and time
// per listing; the rest is seen by later listings as files leave.
func (c *conn) scan(s *session, l *lister) ([]candidate, error) {
	cfg := c.ch.cfg
	h, err := l.openDir(c.ctx, cfg.Inbox)
	if err != nil {
		return nil, err
	}
	defer l.closeHandle(c.ctx, h)
	trackLimit := max(4*cfg.MaxFilesPerPoll, cfg.PageSize)
	now := cfg.Clock()

	c.mu.Lock()
	seen, inflight := c.seen, maps(c.inflight)
	c.seen = map[string]sighting{} // scan reads its own snapshot
	clear(c.forgot)
	c.mu.Unlock()
	next := map[string]sighting{}
	doneFiles := map[string]bool{}
	var ready, waiting []candidate
	tracked, page := 0, 0
	for {
		entries, err := l.readDir(c.ctx, h)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !c.wanted(e.name) {
				continue
			}
			if suffix := cfg.DoneFileSuffix; suffix != "" && strings.HasSuffix(e.name, suffix) {
				doneFiles[e.name] = true
				tracked++
				continue
			}
			if !matches(cfg.Patterns, e.name) {
				continue
			}
			if !e.complete() {
				info, err := s.sftp.Lstat(path.Join(cfg.Inbox, e.name))
				if err != nil {
					continue
				}
				e = entryOf(e.name, info)
			}
			if e.mode&modeType != modeRegular {
				if e.mode&modeType == modeSymlink {
					c.warnOnce(e.name, "symbolic link in the inbox not followed")
				}
				continue
			}
			tracked++
			if inflight[e.name] {
				if v, ok := seen[e.name]; ok {
					next[e.name] = v
				}
				continue
			}
			cand := candidate{name: e.name, size: e.size, mtime: e.mtime}
			if cfg.DoneFileSuffix != "" {
				waiting = append(waiting, cand)
				continue
			}
			v, ok := seen[e.name]
			if !ok || v.size != cand.size || !v.mtime.Equal(cand.mtime) {
				next[e.name] = sighting{size: cand.size, mtime: cand.mtime, first: now}
				continue
			}
			next[e.name] = v
			if now.Sub(v.first) >= cfg.MinAge {
				ready = append(ready, cand)
			}
		}
		page += len(entries)
		if page >= cfg.PageSize {
			page = 0
			if len(ready) >= cfg.MaxFilesPerPoll || tracked >= trackLimit {
				break
			}
		}
	}
	for _, cand := range waiting {
		if doneFiles[cand.name+cfg.DoneFileSuffix] {
			cand.doneFile = cand.name + cfg.DoneFileSuffix
			ready = append(ready, cand)
		}
	}
	slices.SortFunc(ready, func(a, b candidate) int {
		return cmp.Or(a.mtime.Compare(b.mtime), strings.Compare(a.name, b.name))
	})
	if len(ready) > cfg.MaxFilesPerPoll {
		ready = ready[:cfg.MaxFilesPerPoll]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.forgot {
		delete(next, name)
	}
	c.seen = next
	out := ready[:0]
	for _, cand := range ready {
		if !c.inflight[cand.name] && !c.forgot[cand.name] { // an ack may have raced with the listing
			c.inflight[cand.name] = true
			out = append(out, cand)
		}
	}
	return out, nil
}

func maps(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// wanted reports whether a listed name may be a document at all: a name
// that is not one plain path element (a server may send anything) is
// refused and logged once; dot-files and .part/.tmp files are ignored.
func (c *conn) wanted(name string) bool {
	if !plainName(name) {
		c.warnOnce(name, "refusing a listed name that is not one plain file name")
		return false
	}
	return !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, ".part") && !strings.HasSuffix(name, ".tmp")
}

// plainName reports whether name is one path element that cannot leave
// its folder: not empty, not "." or "..", without '/', '\\' or NUL.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

func matches(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func (c *conn) warnOnce(name, msg string) {
	c.mu.Lock()
	if c.warned[name] {
		c.mu.Unlock()
		return
	}
	if len(c.warned) >= maxWarned {
		clear(c.warned)
	}
	c.warned[name] = true
	c.mu.Unlock()
	c.ch.log.Warn(msg, "file", strconv.QuoteToASCII(name))
}

// entryOf turns a stat result into a dirEntry.
func entryOf(name string, info interface {
	Size() int64
	ModTime() time.Time
}) dirEntry {
	e := dirEntry{name: name, size: info.Size(), mtime: info.ModTime(), hasSize: true, hasMtime: true, hasMode: true}
	if st, ok := info.(interface{ Sys() any }); ok {
		if fs, ok := st.Sys().(*sftp.FileStat); ok {
			e.mode = fs.Mode
		}
	}
	return e
}

// sourceKey identifies a remote file version: server, path, size, mtime
// (seconds, what SFTP v3 carries) and, once read, the content hash.
func (ch *Channel) sourceKey(cand candidate) string {
	return fmt.Sprintf("sftp://%s path=%q size=%d mtime=%d", ch.dial.addr,
		path.Join(ch.cfg.Inbox, cand.name), cand.size, cand.mtime.Unix())
}

// take reads a candidate whole into a spooled body, checking that exactly
// its size came and that it did not change on the way.
func (c *conn) take(s *session, cand candidate) (channels.Document, error) {
	ch := c.ch
	full := path.Join(ch.cfg.Inbox, cand.name)
	doc := channels.Document{
		Channel:  ch.cfg.Name,
		Name:     channels.SanitizeName(cand.name),
		Received: ch.cfg.Clock(),
		Meta: map[string]string{
			"server": ch.dial.addr,
			"path":   strings.ToValidUTF8(full, "\uFFFD"),
			"size":   strconv.FormatInt(cand.size, 10),
			"mtime":  cand.mtime.UTC().Format(time.RFC3339),
		},
	}
	if cand.doneFile != "" {
		doc.Meta["done_file"] = strings.ToValidUTF8(cand.doneFile, "\uFFFD")
	}
	if cand.size > ch.cfg.MaxFileBytes {
		doc.SourceKey = ch.sourceKey(cand)
		doc.Body = channels.BytesBody(nil)
		doc.Err = fmt.Errorf("taking %s: %d bytes, limit %d: %w", full, cand.size, ch.cfg.MaxFileBytes, channels.ErrTooLarge)
		return doc, nil
	}
	f, err := s.sftp.Open(full)
	if err != nil {
		return doc, fmt.Errorf("opening %s: %w", full, err)
	}
	defer f.Close()
	r := &exactReader{f: f, size: cand.size}
	if ch.readHook != nil {
		r.hook = func(off int64) { ch.readHook(cand.name, off) }
	}
	body, sum, err := ch.spool.Take(c.ctx, bufio.NewReaderSize(r, readBuffer))
	if errors.Is(err, channels.ErrTooLarge) {
		return doc, errChanged // grew past the limit after the listing
	}
	if err != nil {
		return doc, fmt.Errorf("reading %s: %w", full, err)
	}
	if body.Size() != cand.size {
		body.Close()
		return doc, fmt.Errorf("reading %s: %d bytes of %d: %w", full, body.Size(), cand.size, errShortRead)
	}
	if err := unchanged(f, cand); err != nil {
		body.Close()
		return doc, err
	}
	doc.Body, doc.SHA256 = body, sum
	doc.SourceKey = fmt.Sprintf("%s sha256=%x", ch.sourceKey(cand), sum)
	return doc, nil
}

// unchanged checks an open file against its listing.
func unchanged(f *sftp.File, cand candidate) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("checking %s: %w", f.Name(), err)
	}
	if info.Size() != cand.size || info.ModTime().Unix() != cand.mtime.Unix() {
		return errChanged
	}
	return nil
}

// exactReader reads a remote file of a known size: exactly size bytes,
// whatever the server's chunking. A short chunk is asked for again from
// where it ended; an end of file before size is errShortRead; a byte after
// size is errChanged.
type exactReader struct {
	f         *sftp.File
	off, size int64
	hook      func(off int64)
}

func (r *exactReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		var one [1]byte
		n, err := r.f.ReadAt(one[:], r.off)
		switch {
		case n > 0:
			return 0, errChanged
		case errors.Is(err, io.EOF):
			return 0, io.EOF
		case err != nil:
			return 0, err
		}
		return 0, errChanged
	}
	if rest := r.size - r.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if r.hook != nil {
		r.hook(r.off)
	}
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && n > 0:
		return n, nil // short: the next Read asks from here
	case errors.Is(err, io.EOF):
		return 0, fmt.Errorf("end of file after %d of %d bytes: %w", r.off, r.size, errShortRead)
	}
	return n, err
}
