package sftpdrop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ordergate/ordergate/channels/sshkeys"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Defaults of an Endpoint.
const (
	DefaultPort      = 22
	DefaultTimeout   = 30 * time.Second
	DefaultKeepAlive = 30 * time.Second
)

// Endpoint is an SFTP server and how to log in to it, with the secrets
// already resolved (the caller reads password_env, password_file and the
// passphrase variable).
type Endpoint struct {
	// Host and Port (default 22) of the server. Required: Host.
	Host string
	Port int
	// User is the login name. Required.
	User string
	// Password and/or PrivateKeyFile (with PrivateKeyPassphrase when the
	// key is encrypted) authenticate; one is required.
	Password             string
	PrivateKeyFile       string
	PrivateKeyPassphrase string
	// KnownHostsFile and/or HostKeyFingerprint ("SHA256:...") pin the
	// server's host key; one is required.
	KnownHostsFile     string
	HostKeyFingerprint string
	// Timeout bounds the TCP connect and the SSH handshake; default
	// DefaultTimeout.
	Timeout time.Duration
	// KeepAlive is the interval of keepalive requests; a server that does
	// not answer one within it is taken for dead. Default
	// DefaultKeepAlive; negative turns keepalives off.
	KeepAlive time.Duration
	// DialContext opens the transport; default a net.Dialer. Tests and
	// proxies set it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Addr returns "host:port".
func (e Endpoint) Addr() string {
	port := e.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(port))
}

// Validate reports every problem of the endpoint at once; it does not
// read the key or known_hosts files (New does).
func (e Endpoint) Validate() error {
	var errs []error
	if e.Host == "" {
		errs = append(errs, errors.New("host is required"))
	}
	if e.Port < 0 || e.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", e.Port))
	}
	if e.User == "" {
		errs = append(errs, errors.New("user is required"))
	}
	if e.Password == "" && e.PrivateKeyFile == "" {
		errs = append(errs, sshkeys.ErrNoCredentials)
	}
	if e.KnownHostsFile == "" && e.HostKeyFingerprint == "" {
		errs = append(errs, sshkeys.ErrNoPin)
	}
	if e.HostKeyFingerprint != "" {
		if _, err := sshkeys.ParseFingerprint(e.HostKeyFingerprint); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dialer opens sessions to one endpoint.
type dialer struct {
	ep   Endpoint
	addr string
	pin  *sshkeys.Pin
	auth []ssh.AuthMethod
	log  *slog.Logger
}

// newDialer checks ep and loads its key and known_hosts file.
func newDialer(ep Endpoint, log *slog.Logger) (*dialer, error) {
	if err := ep.Validate(); err != nil {
		return nil, err
	}
	pin, err := sshkeys.NewPin(ep.KnownHostsFile, ep.HostKeyFingerprint)
	if err != nil {
		return nil, err
	}
	auth, err := sshkeys.Auth(ep.PrivateKeyFile, ep.PrivateKeyPassphrase, ep.Password)
	if err != nil {
		return nil, err
	}
	if ep.Timeout <= 0 {
		ep.Timeout = DefaultTimeout
	}
	if ep.KeepAlive == 0 {
		ep.KeepAlive = DefaultKeepAlive
	}
	if ep.DialContext == nil {
		ep.DialContext = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return &dialer{ep: ep, addr: ep.Addr(), pin: pin, auth: auth, log: log}, nil
}

// session is one SSH connection with its SFTP client.
type session struct {
	ssh  *ssh.Client
	sftp *sftp.Client
	dead chan struct{} // closed when the connection has ended

	closeOnce sync.Once
}

// alive reports whether the connection is still up.
func (s *session) alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return true
	}
}

// lost reports whether err (from an operation on s) means the connection
// is gone, and then closes s so that it is redialed. The connection's end
// may be noticed by an operation before s.dead is closed.
func (s *session) lost(err error) bool {
	if !s.alive() {
		return true
	}
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &ne) {
		s.close()
		return true
	}
	return false
}

func (s *session) close() {
	s.closeOnce.Do(func() {
		s.sftp.Close()
		s.ssh.Close()
	})
}

// dial connects, checks the host key against the pin and logs in. With a
// fingerprint pin and a server of several host keys, it asks for each key
// type in turn until the server shows the pinned key.
func (d *dialer) dial(ctx context.Context) (*session, error) {
	var mismatch, other error
	var shown []string
	for _, algos := range d.pin.HostKeyAlgorithms(d.addr) {
		if skip := func() bool {
			for _, typ := range shown {
				if sshkeys.SameFamily(typ, algos) {
					return true
				}
			}
			return false
		}(); skip {
			continue
		}
		s, err := d.dialWith(ctx, algos)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var me *sshkeys.MismatchError
		switch {
		case errors.As(err, &me):
			if mismatch == nil {
				mismatch = err
			}
			shown = append(shown, me.KeyType)
		case algos == nil:
			return nil, err
		default:
			other = err
		}
	}
	if mismatch == nil {
		mismatch = other
	}
	return nil, mismatch
}

func (d *dialer) dialWith(ctx context.Context, algos []string) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, d.ep.Timeout)
	defer cancel()
	conn, err := d.ep.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", d.addr, err)
	}
	// The handshake and the SFTP start have no ctx of their own: closing
	// the connection ends them.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	cfg := &ssh.ClientConfig{
		User:              d.ep.User,
		Auth:              d.auth,
		HostKeyCallback:   d.pin.HostKeyCallback(),
		HostKeyAlgorithms: algos,
		Timeout:           d.ep.Timeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, d.addr, cfg)
	if err != nil {
		stop()
		conn.Close()
		var me *sshkeys.MismatchError
		if errors.As(err, &me) {
			return nil, me
		}
		return nil, fmt.Errorf("connecting to %s as %s: %w", d.addr, d.ep.User, ctxOr(ctx, err))
	}
	client := ssh.NewClient(c, chans, reqs)
	sc, err := sftp.NewClient(client, sftp.UseConcurrentReads(true), sftp.UseConcurrentWrites(true))
	if !stop() || err != nil {
		client.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("starting sftp on %s: %w", d.addr, ctxOr(ctx, err))
	}
	s := &session{ssh: client, sftp: sc, dead: make(chan struct{})}
	go func() {
		client.Wait()
		close(s.dead)
	}()
	if d.ep.KeepAlive > 0 {
		go s.keepAlive(d.ep.KeepAlive, d.log)
	}
	return s, nil
}

// keepAlive closes the connection when the server stops answering
// keepalive requests.
func (s *session) keepAlive(every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.dead:
			return
		case <-t.C:
		}
		answered := make(chan error, 1)
		go func() {
			_, _, err := s.ssh.SendRequest("keepalive@openssh.com", true, nil)
			answered <- err
		}()
		select {
		case <-s.dead:
			return
		case err := <-answered:
			if err != nil {
				s.close()
				return
			}
		case <-time.After(every):
			log.Warn("sftp server stopped answering keepalives; closing the connection")
			s.close()
			return
		}
	}
}
