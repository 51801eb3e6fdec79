package mailbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/ordergate/ordergate/channels"
)

// errGone: the mail was expunged by someone else since the search.
var errGone = errors.New("mail gone from the mailbox")

// session is one IMAP connection with the mailbox selected, and the
// channel's view of the mailbox through it.
type session struct {
	src    *Source
	client *imapclient.Client

	uidValidity   uint32
	uidNext       imap.UID
	canMove       bool
	canUIDExpunge bool
	canIdle       bool

	// sem admits one command sequence at a time (IDLE included).
	sem chan struct{}
	// wake: the server reported new mail. interrupt: someone needs the
	// connection or a mail was released for a retry.
	wake, interrupt chan struct{}
	gone            chan struct{}
	goneOnce        sync.Once

	mu         sync.Mutex
	queue      []imap.UID // found by the last search, not handed out
	inflight   map[imap.UID]bool
	start      imap.UID // searches cover start:*
	highest    imap.UID // the highest UID a search returned
	searched   bool     // a search ran on this session
	needSearch bool

	saveMu sync.Mutex
	saved  imap.UID // the checkpoint last saved or loaded
}

func newSession(s *Source) *session {
	return &session{
		src:        s,
		sem:        make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		interrupt:  make(chan struct{}, 1),
		gone:       make(chan struct{}),
		inflight:   map[imap.UID]bool{},
		start:      1,
		needSearch: true,
	}
}

func (ss *session) shutdown() {
	ss.goneOnce.Do(func() {
		close(ss.gone)
		if ss.client != nil {
			ss.client.Close()
		}
	})
}

func (ss *session) dead() bool {
	select {
	case <-ss.gone:
		return true
	case <-ss.client.Closed():
		return true
	default:
		return false
	}
}

// acquire takes the connection for a command sequence.
func (ss *session) acquire(ctx context.Context, c *conn) error {
	select {
	case ss.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return channels.ErrNotConnected
	case <-ss.gone:
		return fmt.Errorf("connection lost: %w", channels.ErrNotConnected)
	}
	if ss.dead() {
		<-ss.sem
		return fmt.Errorf("connection lost: %w", channels.ErrNotConnected)
	}
	return nil
}

func (ss *session) releaseSem() { <-ss.sem }

// take hands out the lowest queued UID.
func (ss *session) take() (imap.UID, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.queue) == 0 {
		return 0, false
	}
	uid := ss.queue[0]
	ss.queue = ss.queue[1:]
	ss.inflight[uid] = true
	return uid, true
}

// release puts a UID handed out back into the queue.
func (ss *session) release(uid imap.UID) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.inflight, uid)
	if i, found := slices.BinarySearch(ss.queue, uid); !found {
		ss.queue = slices.Insert(ss.queue, i, uid)
	}
}

// forget drops a UID that is disposed of (acked or gone).
func (ss *session) forget(ctx context.Context, uid imap.UID) {
	ss.mu.Lock()
	delete(ss.inflight, uid)
	ss.mu.Unlock()
	ss.advance(ctx)
}

func (ss *session) needsSearch() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.needSearch
}

// search lists the mails not disposed of from start on.
func (ss *session) search(ctx context.Context, c *conn) error {
	ss.mu.Lock()
	start, first := ss.start, !ss.searched
	ss.mu.Unlock()
	if first {
		if err := ss.finishMoves(ctx, c, start); err != nil {
			return err
		}
	}
	if err := ss.acquire(ctx, c); err != nil {
		return err
	}
	criteria := &imap.SearchCriteria{
		UID:     []imap.UIDSet{{imap.UIDRange{Start: start, Stop: 0}}},
		NotFlag: []imap.Flag{KeywordDone, KeywordRejected, imap.FlagDeleted},
	}
	data, err := ss.client.UIDSearch(criteria, nil).Wait()
	ss.releaseSem()
	if err != nil {
		return fmt.Errorf("searching the mailbox: %w", err)
	}
	uids := data.AllUIDs()
	ss.mu.Lock()
	ss.queue = ss.queue[:0]
	for _, uid := range uids {
		// "n:*" matches the last mail even when its UID is below n.
		if uid >= start && !ss.inflight[uid] {
			ss.queue = append(ss.queue, uid)
		}
		ss.highest = max(ss.highest, uid)
	}
	slices.Sort(ss.queue)
	ss.queue = slices.Compact(ss.queue)
	ss.searched = true
	ss.needSearch = false
	ss.mu.Unlock()
	ss.advance(ctx)
	return nil
}

// wait blocks until new mail is reported, Poll passes, a mail is released
// or the connection is needed, with IDLE where the server has it.
func (ss *session) wait(ctx context.Context, c *conn) error {
	if err := ss.acquire(ctx, c); err != nil {
		return err
	}
	defer ss.releaseSem()
	defer func() {
		ss.mu.Lock()
		ss.needSearch = true
		ss.mu.Unlock()
	}()
	select {
	case <-ss.interrupt:
		return nil
	case <-ss.wake:
		return nil
	default:
	}
	var idle *imapclient.IdleCommand
	if ss.canIdle && !ss.src.cfg.PollOnly {
		var err error
		if idle, err = ss.client.Idle(); err != nil {
			return fmt.Errorf("starting IDLE: %w", err)
		}
	}
	t := time.NewTimer(ss.src.cfg.Poll)
	defer t.Stop()
	var werr error
	select {
	case <-ctx.Done():
		werr = ctx.Err()
	case <-c.closed:
		werr = channels.ErrNotConnected
	case <-ss.gone:
		werr = fmt.Errorf("connection lost: %w", channels.ErrNotConnected)
	case <-ss.client.Closed():
		werr = errors.New("connection closed by the server")
	case <-ss.wake:
	case <-ss.interrupt:
	case <-t.C:
	}
	if idle != nil {
		err := idle.Close()
		if err == nil {
			err = idle.Wait()
		}
		if err != nil && werr == nil {
			werr = fmt.Errorf("ending IDLE: %w", err)
		}
	}
	return werr
}

// fetch reads one mail into a Document.
func (ss *session) fetch(ctx context.Context, c *conn, uid imap.UID) (channels.Document, error) {
	if err := ss.acquire(ctx, c); err != nil {
		return channels.Document{}, err
	}
	defer ss.releaseSem()
	s := ss.src
	set := imap.UIDSetNum(uid)
	msgs, err := ss.client.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, Envelope: true, InternalDate: true}).Collect()
	if err != nil {
		return channels.Document{}, fmt.Errorf("fetching UID %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return channels.Document{}, errGone
	}
	m := msgs[0]
	md := meta(m.Envelope, uid, ss.uidValidity, m.InternalDate, m.RFC822Size)
	doc := channels.Document{
		Channel:  s.cfg.Name,
		Name:     mailName(md["subject"]),
		Meta:     md,
		Received: time.Now(),
	}
	log := s.log.With("uid", uid, "from_domain", domainOf(md["from"]), "size", m.RFC822Size)
	tooLarge := func(err error) (channels.Document, error) {
		doc.Err = err
		doc.SourceKey = s.oversizeKey(md["message_id"], m.RFC822Size, m.InternalDate)
		log.Warn("mail too large; handed over without its bytes", "max", s.cfg.MaxMessageBytes)
		return doc, nil
	}
	if m.RFC822Size > s.cfg.MaxMessageBytes {
		return tooLarge(fmt.Errorf("mail of %d bytes exceeds max_message_bytes %d: %w", m.RFC822Size, s.cfg.MaxMessageBytes, channels.ErrTooLarge))
	}

	cmd := ss.client.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	var (
		body *channels.Body
		sum  [32]byte
		took bool
		terr error
	)
	if msg := cmd.Next(); msg != nil {
		for item := msg.Next(); item != nil; item = msg.Next() {
			bs, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || took || bs.Literal == nil {
				continue
			}
			took = true
			body, sum, terr = s.spool.Take(ctx, bs.Literal)
			if terr != nil && ctx.Err() != nil {
				// Mid-literal: the connection cannot be used any more.
				ss.shutdown()
				return channels.Document{}, terr
			}
		}
	}
	if err := cmd.Close(); err != nil {
		body.Close()
		return channels.Document{}, fmt.Errorf("fetching UID %d: %w", uid, err)
	}
	switch {
	case !took:
		return channels.Document{}, errGone
	case errors.Is(terr, channels.ErrTooLarge):
		return tooLarge(fmt.Errorf("mail larger than max_message_bytes %d: %w", s.cfg.MaxMessageBytes, terr))
	case terr != nil:
		return channels.Document{}, fmt.Errorf("reading UID %d: %w", uid, terr)
	}
	doc.Body, doc.SHA256, doc.SourceKey = body, sum, s.sourceKey(sum)
	log.Debug("read mail")
	return doc, nil
}

// checkpointKey names this mailbox's checkpoint.
func (ss *session) checkpointKey() string {
	cfg := ss.src.cfg
	return "imap:" + cfg.Name + ":" + cfg.User + "@" + cfg.Host + "/" + cfg.Mailbox
}

// loadCheckpoint sets start from the stored checkpoint when UIDVALIDITY
// is unchanged.
func (ss *session) loadCheckpoint(ctx context.Context) error {
	cp := ss.src.cfg.Checkpoints
	if cp == nil {
		return nil
	}
	v, err := cp.Load(ctx, ss.checkpointKey())
	if err != nil || v == "" {
		return err
	}
	validity, uid, err := parseCheckpoint(v)
	if err != nil {
		return err
	}
	if validity != ss.uidValidity {
		ss.src.log.Warn("UIDVALIDITY changed; searching the whole mailbox again",
			"old_uidvalidity", validity, "uidvalidity", ss.uidValidity)
		return nil
	}
	ss.start, ss.saved = uid+1, uid
	return nil
}

func parseCheckpoint(v string) (uint32, imap.UID, error) {
	a, b, ok := strings.Cut(v, ":")
	validity, err1 := strconv.ParseUint(a, 10, 32)
	uid, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("checkpoint %q is not UIDVALIDITY:UID", v)
	}
	return uint32(validity), imap.UID(uid), nil
}

// advance saves the highest UID below which every mail is disposed of.
func (ss *session) advance(ctx context.Context) {
	cp := ss.src.cfg.Checkpoints
	if cp == nil {
		return
	}
	ss.saveMu.Lock()
	defer ss.saveMu.Unlock()
	ss.mu.Lock()
	if !ss.searched {
		ss.mu.Unlock()
		return
	}
	low := max(ss.highest, ss.start-1)
	if ss.uidNext > 0 {
		// Every mail below UIDNEXT at SELECT was covered by the first
		// search.
		low = max(low, ss.uidNext-1)
	}
	for uid := range ss.inflight {
		low = min(low, uid-1)
	}
	if len(ss.queue) > 0 {
		low = min(low, ss.queue[0]-1)
	}
	ss.mu.Unlock()
	if low <= ss.saved {
		return
	}
	v := strconv.FormatUint(uint64(ss.uidValidity), 10) + ":" + strconv.FormatUint(uint64(low), 10)
	if err := cp.Save(ctx, ss.checkpointKey(), v); err != nil {
		ss.src.log.Warn("saving the checkpoint failed", "err", err)
		return
	}
	ss.saved = low
}
