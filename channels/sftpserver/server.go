package sftpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/ordergate/ordergate/channels"
)

var _ channels.Source = (*Server)(nil)

// ErrUnknownUser: no user of that name (or partner) is configured.
var ErrUnknownUser = errors.New("unknown sftp user")

// Server is the SFTP server partners push to, as a channels.Source of
// their uploads; Outbound gives the channels.Outbound of each user's out/.
type Server struct {
	cfg    Config
	log    *slog.Logger
	spool  channels.Spool
	signer ssh.Signer
	users  map[string]*user
	order  []*user // in configuration order
	ssh    *ssh.ServerConfig
	auth   *authLog

	mu   sync.Mutex
	conn *conn // nil while not connected

	outMu   sync.Mutex
	outBusy map[fileKey]chan struct{} // Outbox writes in progress
}

// user is one configured account and its run-time state.
type user struct {
	name    string
	partner string
	keys    [][]byte // marshalled public keys

	mu      sync.Mutex
	used    int64              // bytes in in/ and out/, kept by uploads
	uploads map[*upload]string // in progress: their temporary names
}

// conn is the state of one Connect: the listener, the sessions and the
// documents in flight. A reconnect starts afresh, so documents read
// before are offered again.
type conn struct {
	ln     net.Listener
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	closed chan struct{}
	roots  map[string]*os.Root // per user: <RootDir>/<user>
	wg     sync.WaitGroup      // the accept loop and the connections

	netMu    sync.Mutex
	netConns map[net.Conn]struct{}

	// Guarded by Server.mu.
	inflight map[fileKey]bool
	queue    []candidate
	wake     chan struct{} // closed and replaced when an upload completes
}

// New returns a Server for cfg, not listening yet. It checks cfg, parses
// the users' keys and loads the host key, generating it when the file
// does not exist. log may be nil (discard).
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("channel", cfg.Name)
	s := &Server{
		cfg:   cfg,
		log:   log,
		spool: channels.Spool{Dir: cfg.SpoolDir, MaxBytes: cfg.MaxFileBytes},
		users: map[string]*user{},
		auth:  newAuthLog(cfg.AuthLogInterval),
	}
	for _, uc := range cfg.Users {
		keys, err := parseKeys(uc.PublicKeys)
		if err != nil {
			return nil, fmt.Errorf("sftpserver %s: user %s: %w", cfg.Name, uc.Name, err)
		}
		u := &user{name: uc.Name, partner: uc.Partner, uploads: map[*upload]string{}}
		for _, k := range keys {
			u.keys = append(u.keys, k.Marshal())
		}
		s.users[u.name] = u
		s.order = append(s.order, u)
	}
	signer, err := loadHostKey(cfg.HostKeyFile, log)
	if err != nil {
		return nil, fmt.Errorf("sftpserver %s: %w", cfg.Name, err)
	}
	s.signer = signer
	s.ssh = &ssh.ServerConfig{
		PublicKeyCallback: s.checkKey,
		AuthLogCallback:   s.logAuth,
		ServerVersion:     "SSH-2.0-ordergate",
		MaxAuthTries:      6,
	}
	s.ssh.AddHostKey(signer)
	return s, nil
}

// HostKey returns the server's public host key (for known_hosts files).
func (s *Server) HostKey() ssh.PublicKey { return s.signer.PublicKey() }

// Addr returns the address the server listens on, or nil while it is not
// connected.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	return s.conn.ln.Addr()
}

// Connect creates the users' folders, removes uploads left incomplete by
// an earlier process and starts listening. Calling it while connected
// does nothing.
func (s *Server) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return nil
	}
	roots, err := s.openRoots()
	if err != nil {
		return fmt.Errorf("connecting sftpserver %s: %w", s.cfg.Name, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		closeRoots(roots)
		return fmt.Errorf("connecting sftpserver %s: %w", s.cfg.Name, err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		ln: ln, ctx: cctx, cancel: cancel,
		closed:   make(chan struct{}),
		roots:    roots,
		netConns: map[net.Conn]struct{}{},
		inflight: map[fileKey]bool{},
		wake:     make(chan struct{}),
	}
	s.conn = c
	c.wg.Go(func() { s.accept(c) })
	s.log.Info("sftp server listening", "addr", ln.Addr().String(), "users", len(s.order))
	return nil
}

// openRoots creates <RootDir>/<user>/{in,out,in/.error}, removes stale
// in/.upload-* files and opens an os.Root on each user's folder.
func (s *Server) openRoots() (map[string]*os.Root, error) {
	if err := os.MkdirAll(s.cfg.RootDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating root_dir: %w", err)
	}
	base, err := os.OpenRoot(s.cfg.RootDir)
	if err != nil {
		return nil, fmt.Errorf("opening root_dir: %w", err)
	}
	defer base.Close()
	roots := map[string]*os.Root{}
	for _, u := range s.order {
		for _, dir := range []string{u.name, filepath.Join(u.name, dirIn), filepath.Join(u.name, dirOut), filepath.Join(u.name, dirIn, errorDir)} {
			if err := base.Mkdir(dir, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
				closeRoots(roots)
				return nil, fmt.Errorf("creating %s: %w", filepath.Join(s.cfg.RootDir, dir), err)
			}
		}
		root, err := base.OpenRoot(u.name)
		if err != nil {
			closeRoots(roots)
			return nil, fmt.Errorf("opening %s: %w", filepath.Join(s.cfg.RootDir, u.name), err)
		}
		roots[u.name] = root
		s.removeStaleUploads(u, root)
	}
	return roots, nil
}

// removeStaleUploads removes in/.upload-* files: uploads a crashed process
// never completed. Several servers must not share a root_dir.
func (s *Server) removeStaleUploads(u *user, root *os.Root) {
	entries, err := readDir(root, dirIn)
	if err != nil {
		s.log.Warn("listing in/ failed", "sftp_user", u.name, "err", err)
		return
	}
	for _, e := range entries {
		if isUploadTemp(e.Name()) {
			if err := root.Remove(dirIn + "/" + e.Name()); err != nil {
				s.log.Warn("removing an incomplete upload failed", "sftp_user", u.name, "file", e.Name(), "err", err)
				continue
			}
			s.log.Info("removed an incomplete upload of an earlier run", "sftp_user", u.name, "file", e.Name())
		}
	}
}

func closeRoots(roots map[string]*os.Root) {
	for _, r := range roots {
		r.Close()
	}
}

// Close stops listening, closes every session (uploads in progress are
// discarded), waits for them to end, and unblocks Read. AckFuncs of
// documents read before fail with channels.ErrNotConnected and those
// documents are offered again after the next Connect. It is idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	close(c.closed)
	c.cancel()
	err := c.ln.Close()
	c.netMu.Lock()
	for nc := range c.netConns {
		nc.Close()
	}
	c.netMu.Unlock()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// The sessions still end (their connections are closed); the
		// roots are closed when they have.
		go func() {
			<-done
			closeRoots(c.roots)
		}()
		return fmt.Errorf("closing sftpserver %s: waiting for sessions: %w", s.cfg.Name, ctx.Err())
	}
	closeRoots(c.roots)
	s.log.Info("sftp server stopped")
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("closing sftpserver %s: %w", s.cfg.Name, err)
	}
	return nil
}

// accept runs until the listener is closed.
func (s *Server) accept(c *conn) {
	for {
		nc, err := c.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("accepting a connection failed", "err", err)
				select {
				case <-c.closed:
					return
				case <-time.After(100 * time.Millisecond):
					continue
				}
			}
			return
		}
		c.netMu.Lock()
		select {
		case <-c.closed:
			c.netMu.Unlock()
			nc.Close()
			return
		default:
		}
		c.netConns[nc] = struct{}{}
		c.netMu.Unlock()
		c.wg.Go(func() {
			defer func() {
				c.netMu.Lock()
				delete(c.netConns, nc)
				c.netMu.Unlock()
				nc.Close()
			}()
			s.serveConn(c, nc)
		})
	}
}

// serveConn runs the SSH protocol on one connection: authentication, then
// "session" channels whose only accepted request is the sftp subsystem.
func (s *Server) serveConn(c *conn, nc net.Conn) {
	remote := nc.RemoteAddr().String()
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(nc, s.ssh)
	if err != nil {
		s.log.Debug("ssh handshake failed", "remote", remote, "err", err)
		return
	}
	defer sconn.Close()
	nc.SetDeadline(time.Time{})
	u := s.users[sconn.Permissions.Extensions[extUser]]
	if u == nil { // cannot happen: checkKey admitted a configured user
		return
	}
	root := c.roots[u.name]
	log := s.log.With("sftp_user", u.name, "partner", u.partner, "remote", remote)
	log.Info("sftp login", "key", sconn.Permissions.Extensions[extKey])
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only sftp sessions are offered")
			continue
		}
		ch, requests, err := nch.Accept()
		if err != nil {
			log.Debug("accepting a channel failed", "err", err)
			continue
		}
		wg.Go(func() {
			defer ch.Close()
			s.serveSession(c, u, root, log, ch, requests)
		})
	}
	log.Debug("sftp logout")
}

// serveSession answers the session's requests until the sftp subsystem is
// asked for, then serves SFTP on it until the client goes.
func (s *Server) serveSession(c *conn, u *user, root *os.Root, log *slog.Logger, ch ssh.Channel, requests <-chan *ssh.Request) {
	for req := range requests {
		var sub struct{ Name string }
		if req.Type != "subsystem" || ssh.Unmarshal(req.Payload, &sub) != nil || sub.Name != "sftp" {
			if req.WantReply {
				req.Reply(false, nil)
			}
			continue
		}
		if req.WantReply {
			req.Reply(true, nil)
		}
		go ssh.DiscardRequests(requests)
		h := &handlers{s: s, c: c, u: u, root: root, log: log}
		rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}, sftp.WithStartDirectory("/"))
		if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
			log.Debug("sftp session ended", "err", err)
		}
		rs.Close()
		h.endSession()
		return
	}
}

// Extensions of ssh.Permissions set by checkKey.
const (
	extUser = "ordergate-user"
	extKey  = "ordergate-key"
)

// checkKey admits a configured user with one of its keys.
func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	u := s.users[meta.User()]
	if u != nil {
		k := key.Marshal()
		if slices.ContainsFunc(u.keys, func(b []byte) bool { return bytes.Equal(b, k) }) {
			return &ssh.Permissions{Extensions: map[string]string{
				extUser: u.name,
				extKey:  ssh.FingerprintSHA256(key),
			}}, nil
		}
	}
	return nil, errors.New("unknown user or key")
}

// logAuth logs failed public-key attempts, throttled per remote host.
func (s *Server) logAuth(meta ssh.ConnMetadata, method string, err error) {
	if err == nil || method == "none" {
		return
	}
	host := meta.RemoteAddr().String()
	if h, _, splitErr := net.SplitHostPort(host); splitErr == nil {
		host = h
	}
	suppressed, ok := s.auth.allow(host, time.Now())
	if !ok {
		return
	}
	name := meta.User()
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	s.log.Warn("sftp authentication failed", "sftp_user", name, "remote", meta.RemoteAddr().String(),
		"method", method, "suppressed_before", suppressed)
}
