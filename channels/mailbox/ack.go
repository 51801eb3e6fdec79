package mailbox

import (
	"context"
	"fmt"
	"sync"

	"github.com/emersion/go-imap/v2"

	"github.com/ordergate/ordergate/channels"
)

// flight is the progress of one mail's ack, so that a call after a
// partial failure finishes the job instead of redoing it.
type flight struct {
	mu      sync.Mutex
	done    bool
	flagged bool
	copied  bool
	moved   bool
}

func (ss *session) isCurrent(c *conn) bool {
	if ss.src.current() != c || c.isClosed() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess == ss && !ss.dead()
}

func (ss *session) ackFunc(c *conn, uid imap.UID, doc channels.Document) channels.AckFunc {
	fl := &flight{}
	s := ss.src
	log := s.log.With("uid", uid, "from_domain", domainOf(doc.Meta["from"]))
	return func(ctx context.Context, r channels.Result) error {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("acking UID %d: %w", uid, err)
		}
		fl.mu.Lock()
		defer fl.mu.Unlock()
		if fl.done {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("acking UID %d: %w", uid, err)
		}
		if !ss.isCurrent(c) {
			return fmt.Errorf("acking UID %d: source closed or reconnected since the read: %w", uid, channels.ErrNotConnected)
		}
		var err error
		switch r.Outcome {
		case channels.OutcomeRetry:
			ss.release(uid)
			signal(ss.interrupt)
			fl.done = true
			log.Debug("mail released for a retry")
			return nil
		case channels.OutcomeCommitted:
			target := ""
			if s.cfg.AfterIngest == AfterIngestMove {
				target = s.cfg.DoneMailbox
			}
			err = ss.dispose(ctx, c, uid, fl, KeywordDone, target)
		case channels.OutcomeRejected:
			err = ss.dispose(ctx, c, uid, fl, KeywordRejected, s.cfg.ErrorMailbox)
		}
		if err != nil {
			if !ss.isCurrent(c) {
				return fmt.Errorf("acking UID %d %v: %w (%v)", uid, r.Outcome, channels.ErrNotConnected, err)
			}
			return fmt.Errorf("acking UID %d %v: %w", uid, r.Outcome, err)
		}
		fl.done = true
		ss.forget(ctx, uid)
		log.Info("mail disposed of", "outcome", r.Outcome.String(), "reason", r.Reason)
		return nil
	}
}

// dispose flags the mail with keyword (and \Seen) and moves it to target
// when set. The flag comes first: a mail flagged and not yet moved is
// never read again.
func (ss *session) dispose(ctx context.Context, c *conn, uid imap.UID, fl *flight, keyword imap.Flag, target string) error {
	signal(ss.interrupt) // end a running IDLE
	if err := ss.acquire(ctx, c); err != nil {
		return err
	}
	defer ss.releaseSem()
	set := imap.UIDSetNum(uid)
	if !fl.flagged {
		flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, keyword}}
		if err := ss.client.Store(set, flags, nil).Close(); err != nil {
			return fmt.Errorf("flagging: %w", err)
		}
		fl.flagged = true
	}
	if target == "" || fl.moved {
		return nil
	}
	if err := ss.move(set, target, !fl.copied, func() { fl.copied = true }); err != nil {
		return err
	}
	fl.moved = true
	return nil
}

// move moves the mails of set to target: MOVE where the server has it,
// else COPY (when copy is set), \Deleted and EXPUNGE. copied is called
// once the copy is made. The caller holds the connection.
func (ss *session) move(set imap.UIDSet, target string, copy bool, copied func()) error {
	if ss.canMove {
		if _, err := ss.client.Move(set, target).Wait(); err != nil {
			return fmt.Errorf("moving to the %s mailbox: %w", target, err)
		}
		return nil
	}
	if copy {
		if _, err := ss.client.Copy(set, target).Wait(); err != nil {
			return fmt.Errorf("copying to the %s mailbox: %w", target, err)
		}
		copied()
	}
	del := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := ss.client.Store(set, del, nil).Close(); err != nil {
		return fmt.Errorf("marking deleted: %w", err)
	}
	var err error
	if ss.canUIDExpunge {
		err = ss.client.UIDExpunge(set).Close()
	} else {
		err = ss.client.Expunge().Close()
	}
	if err != nil {
		return fmt.Errorf("expunging: %w", err)
	}
	return nil
}

// finishMoves completes the moves an earlier connection left undone: a
// mail is flagged before it is moved, so a connection lost in between
// leaves a flagged mail in the mailbox that no search offers again.
// Mails from start on that carry the done keyword (when done mails are
// moved) or the rejected keyword (when an error mailbox is set) are moved
// now. It runs before the first search of each session.
func (ss *session) finishMoves(ctx context.Context, c *conn, start imap.UID) error {
	cfg := ss.src.cfg
	targets := map[imap.Flag]string{}
	if cfg.AfterIngest == AfterIngestMove && cfg.DoneMailbox != "" {
		targets[KeywordDone] = cfg.DoneMailbox
	}
	if cfg.ErrorMailbox != "" {
		targets[KeywordRejected] = cfg.ErrorMailbox
	}
	for _, keyword := range []imap.Flag{KeywordDone, KeywordRejected} {
		target, ok := targets[keyword]
		if !ok {
			continue
		}
		if err := ss.acquire(ctx, c); err != nil {
			return err
		}
		err := ss.finishMovesOf(keyword, target, start)
		ss.releaseSem()
		if err != nil {
			return err
		}
	}
	return nil
}

func (ss *session) finishMovesOf(keyword imap.Flag, target string, start imap.UID) error {
	criteria := &imap.SearchCriteria{
		UID:     []imap.UIDSet{{imap.UIDRange{Start: start, Stop: 0}}},
		Flag:    []imap.Flag{keyword},
		NotFlag: []imap.Flag{imap.FlagDeleted},
	}
	data, err := ss.client.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return fmt.Errorf("searching for %s mails left unmoved: %w", keyword, err)
	}
	var set imap.UIDSet
	for _, uid := range data.AllUIDs() {
		if uid >= start { // "n:*" matches the last mail even below n
			set.AddNum(uid)
		}
	}
	if len(set) == 0 {
		return nil
	}
	if err := ss.move(set, target, true, func() {}); err != nil {
		return fmt.Errorf("finishing the move of %s mails left by a lost connection: %w", keyword, err)
	}
	ss.src.log.Info("finished moves a lost connection left undone", "keyword", string(keyword), "mailbox", target, "uids", set.String())
	return nil
}
