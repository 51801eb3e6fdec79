package sftpserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ordergate/ordergate/channels"
)

// Defaults of a Config.
const (
	DefaultListen           = "127.0.0.1:2222"
	DefaultPoll             = 5 * time.Second
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultAuthLogInterval  = time.Minute
)

// Config configures a Server. Keys are read by the caller: the server
// never reads authorized_keys files itself.
type Config struct {
	// Name is the channel name (Document.Channel, log attribute). Required.
	Name string
	// Listen is the host:port the server listens on; default
	// DefaultListen. Port 0 picks a free port (see Server.Addr).
	Listen string
	// HostKeyFile is the server's private host key (OpenSSH or PEM format,
	// unencrypted). It is generated (ed25519, mode 0600) when absent.
	// Required.
	HostKeyFile string
	// RootDir holds every user's tree <RootDir>/<user>/{in,out}. It is
	// created on Connect. Required.
	RootDir string
	// MaxFileBytes is the largest upload taken; a write beyond it fails and
	// the upload is discarded. Default channels.DefaultMaxBytes.
	MaxFileBytes int64
	// QuotaBytes is the most a user may keep in in/ and out/ together
	// (uploads in progress included, in/.error excluded); a write beyond it
	// fails and the upload is discarded. 0 is no quota.
	QuotaBytes int64
	// Users are the partner accounts; at least one.
	Users []User
	// SpoolDir is where document bodies larger than 1 MiB are spooled by
	// Read; default os.TempDir().
	SpoolDir string
	// Poll is how often Read looks at the in/ folders while no upload
	// wakes it (files put there by other means); default DefaultPoll.
	Poll time.Duration
	// HandshakeTimeout bounds the SSH handshake and authentication of a
	// connection; default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// AuthLogInterval is the shortest time between two logged
	// authentication failures from one remote host; the ones in between
	// are counted and reported with the next. Default
	// DefaultAuthLogInterval.
	AuthLogInterval time.Duration
}

// User is one partner account.
type User struct {
	// Name is the login and the name of the user's folder under RootDir:
	// letters, digits, '.', '_' and '-', not starting with '.'.
	Name string
	// Partner is the partner id the user belongs to (Meta "partner").
	Partner string
	// PublicKeys are the user's keys as authorized_keys text: each entry
	// is one line or a whole file's content (blank lines and # comments
	// are skipped). Options are refused except restrict, no-pty,
	// no-port-forwarding, no-agent-forwarding, no-X11-forwarding and
	// no-user-rc, which an SFTP-only server honours anyway.
	PublicKeys []string
}

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

// harmlessOptions are authorized_keys options that change nothing for a
// server offering only SFTP.
var harmlessOptions = map[string]bool{
	"restrict": true, "no-pty": true, "no-port-forwarding": true,
	"no-agent-forwarding": true, "no-x11-forwarding": true, "no-user-rc": true,
}

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = channels.DefaultMaxBytes
	}
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.AuthLogInterval == 0 {
		c.AuthLogInterval = DefaultAuthLogInterval
	}
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sftpserver %s: "+format, append([]any{c.Name}, args...)...))
	}
	if c.Name == "" {
		bad("name is required")
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			bad("listen %q is not host:port", c.Listen)
		}
	}
	if c.HostKeyFile == "" {
		bad("host_key_file is required")
	}
	if c.RootDir == "" {
		bad("root_dir is required")
	}
	if c.MaxFileBytes < 0 {
		bad("max_file_bytes %d is negative", c.MaxFileBytes)
	}
	if c.QuotaBytes < 0 {
		bad("quota_bytes %d is negative", c.QuotaBytes)
	}
	if c.Poll < 0 || c.HandshakeTimeout < 0 || c.AuthLogInterval < 0 {
		bad("poll, handshake timeout and auth log interval must not be negative")
	}
	if len(c.Users) == 0 {
		bad("at least one user is required")
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		if !userNameRE.MatchString(u.Name) {
			bad("users[%d]: name %q must be letters, digits, '.', '_' and '-', not starting with '.'", i, u.Name)
		}
		if seen[u.Name] {
			bad("users[%d]: name %q is used twice", i, u.Name)
		}
		seen[u.Name] = true
		if u.Partner == "" {
			bad("users[%d] (%s): partner is required", i, u.Name)
		}
		keys, err := parseKeys(u.PublicKeys)
		if err != nil {
			bad("users[%d] (%s): %w", i, u.Name, err)
		} else if len(keys) == 0 {
			bad("users[%d] (%s): no public key", i, u.Name)
		}
	}
	return errors.Join(errs...)
}

// parseKeys parses authorized_keys text into public keys.
func parseKeys(entries []string) ([]ssh.PublicKey, error) {
	var (
		keys []ssh.PublicKey
		errs []error
	)
	for i, entry := range entries {
		sc := bufio.NewScanner(strings.NewReader(entry))
		sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
		line := 0
		for sc.Scan() {
			line++
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(text))
			if err != nil {
				errs = append(errs, fmt.Errorf("public_keys[%d] line %d: not an authorized_keys line: %w", i, line, err))
				continue
			}
			for _, opt := range options {
				if !harmlessOptions[strings.ToLower(opt)] {
					name, _, _ := strings.Cut(opt, "=")
					errs = append(errs, fmt.Errorf("public_keys[%d] line %d: option %q is not supported", i, line, name))
				}
			}
			keys = append(keys, key)
		}
		if err := sc.Err(); err != nil {
			errs = append(errs, fmt.Errorf("public_keys[%d]: %w", i, err))
		}
	}
	return keys, errors.Join(errs...)
}
