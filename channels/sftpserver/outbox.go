package sftpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/channels/internal/rootfs"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/ordergate/ordergate/channels"
)

// ErrConflict: a different file already exists in out/ under the name
// being sent.
var ErrConflict = errors.New("a different file already exists under that name")

// Outbox is one user's out/ folder as a channels.Outbound: the
// acknowledgements and order responses the partner downloads. It works
// whether or not the server is connected.
type Outbox struct {
	s *Server
	u *user
}

var _ channels.Outbound = (*Outbox)(nil)

// Outbound returns the Outbox of the user named name.
func (s *Server) Outbound(name string) (*Outbox, error) {
	u := s.users[name]
	if u == nil {
		return nil, fmt.Errorf("sftpserver %s: user %q: %w", s.cfg.Name, name, ErrUnknownUser)
	}
	return &Outbox{s: s, u: u}, nil
}

// PartnerOutbound returns the Outbox of the one user of partner. It fails
// with ErrUnknownUser when the partner has no user, and when it has more
// than one (use Outbound with the user name then).
func (s *Server) PartnerOutbound(partner string) (*Outbox, error) {
	var found *user
	for _, u := range s.order {
		if u.partner != partner {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("sftpserver %s: partner %q has several users (%s, %s): %w", s.cfg.Name, partner, found.name, u.name, ErrUnknownUser)
		}
		found = u
	}
	if found == nil {
		return nil, fmt.Errorf("sftpserver %s: partner %q has no user: %w", s.cfg.Name, partner, ErrUnknownUser)
	}
	return &Outbox{s: s, u: found}, nil
}

// User returns the name of the user the Outbox writes for.
func (o *Outbox) User() string { return o.u.name }

// Send writes body to out/<name>: as out/<name>.part (hidden from the
// user while written), fsynced, then linked to its name without replacing
// anything, and the folder fsynced. Sending a name that exists with the
// same bytes does nothing; with other bytes it fails with ErrConflict. A
// name the user already downloaded and removed is written again.
func (o *Outbox) Send(ctx context.Context, name string, body []byte) error {
	if err := channels.CheckName(name); err != nil {
		return fmt.Errorf("sending to sftp user %s: %w", o.u.name, err)
	}
	unlock, err := o.s.lockOut(ctx, fileKey{o.u.name, name})
	if err != nil {
		return fmt.Errorf("sending %s to sftp user %s: %w", name, o.u.name, err)
	}
	defer unlock()
	if err := o.write(name, body); err != nil {
		return fmt.Errorf("sending %s to sftp user %s: %w", name, o.u.name, err)
	}
	return nil
}

func (o *Outbox) write(name string, body []byte) error {
	dir := filepath.Join(o.s.cfg.RootDir, o.u.name)
	if err := os.MkdirAll(filepath.Join(dir, dirOut), 0o750); err != nil {
		return fmt.Errorf("creating out/: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("opening the user's folder: %w", err)
	}
	defer root.Close()
	final := path.Join(dirOut, name)
	if existed, err := existing(root, final, body); err != nil || existed {
		return err
	}
	part := final + ".part"
	if err := rootfs.WriteSynced(root, part, body); err != nil {
		root.Remove(part)
		return err
	}
	if err := rootfs.LinkNoReplace(root, part, final); errors.Is(err, fs.ErrExist) {
		root.Remove(part)
		_, err := existing(root, final, body)
		return err
	} else if err != nil {
		root.Remove(part)
		return err
	}
	if err := rootfs.SyncDir(root, dirOut); err != nil {
		return err
	}
	o.s.log.Info("file placed in out/", "sftp_user", o.u.name, "partner", o.u.partner, "file", name, "bytes", len(body))
	return nil
}

// existing reports whether name exists with body, and fails with
// ErrConflict when it exists with other content.
func existing(root *os.Root, name string, body []byte) (bool, error) {
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	got, err := io.ReadAll(io.LimitReader(f, int64(len(body))+1))
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", name, err)
	}
	if !bytes.Equal(got, body) {
		return false, ErrConflict
	}
	return true, nil
}

// lockOut serialises writes of one name in one out/, giving up when ctx
// ends.
func (s *Server) lockOut(ctx context.Context, key fileKey) (func(), error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.outMu.Lock()
		wait, held := s.outBusy[key]
		if !held {
			if s.outBusy == nil {
				s.outBusy = map[fileKey]chan struct{}{}
			}
			ch := make(chan struct{})
			s.outBusy[key] = ch
			s.outMu.Unlock()
			return func() {
				s.outMu.Lock()
				delete(s.outBusy, key)
				s.outMu.Unlock()
				close(ch)
			}, nil
		}
		s.outMu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
