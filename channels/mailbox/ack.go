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
	if ss.canMove {
		if _, err := ss.client.Move(set, target).Wait(); err != nil {
			return fmt.Errorf("moving to the %s mailbox: %w", target, err)
		}
		fl.moved = true
		return nil
	}
	if !fl.copied {
		if _, err := ss.client.Copy(set, target).Wait(); err != nil {
			return fmt.Errorf("copying to the %s mailbox: %w", target, err)
		}
		fl.copied = true
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
	fl.moved = true
	return nil
}
