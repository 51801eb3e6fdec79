package sshkeys

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrNoPin: neither a known_hosts file nor a fingerprint was given.
var ErrNoPin = errors.New("no host key pin: known_hosts or host_key_fingerprint is required")

// Pin is a pinned set of host keys. Its zero value pins nothing; make one
// with NewPin.
type Pin struct {
	knownHostsFile string
	knownHosts     ssh.HostKeyCallback
	fingerprints   []string // "SHA256:<unpadded base64>"
}

// NewPin returns the pin for a known_hosts file and/or fingerprints
// ("SHA256:..." as ssh-keygen -lf prints them; several separated by
// commas). It reads and checks the file now, so a channel with a broken pin
// fails at start-up.
func NewPin(knownHostsFile, fingerprints string) (*Pin, error) {
	p := &Pin{knownHostsFile: knownHostsFile}
	for f := range strings.SplitSeq(fingerprints, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		norm, err := ParseFingerprint(f)
		if err != nil {
			return nil, err
		}
		p.fingerprints = append(p.fingerprints, norm)
	}
	if knownHostsFile != "" {
		cb, err := knownhosts.New(knownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("reading known_hosts file %s: %w", knownHostsFile, err)
		}
		p.knownHosts = cb
	}
	if p.knownHosts == nil && len(p.fingerprints) == 0 {
		return nil, ErrNoPin
	}
	return p, nil
}

// ParseFingerprint checks a "SHA256:..." fingerprint and returns it in the
// form ssh.FingerprintSHA256 gives (unpadded base64).
func ParseFingerprint(s string) (string, error) {
	b64, ok := strings.CutPrefix(s, "SHA256:")
	if !ok {
		return "", fmt.Errorf("host key fingerprint %q: want SHA256:<base64> as printed by ssh-keygen -lf", s)
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil || len(raw) != 32 {
		return "", fmt.Errorf("host key fingerprint %q: not 32 bytes of base64", s)
	}
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(raw), nil
}

// MismatchError is a host key the pin refuses.
type MismatchError struct {
	// Host is the address dialed, "host:port".
	Host string
	// KeyType and Fingerprint describe the key the server presented.
	KeyType     string
	Fingerprint string
	// PinnedBy says where the pin came from: "known_hosts file <path>" or
	// "host_key_fingerprint".
	PinnedBy string
	// Want lists the pinned keys for this host ("<type> SHA256:..." or a
	// bare fingerprint); empty when the host is not in known_hosts.
	Want []string
	// Revoked: known_hosts marks the key @revoked.
	Revoked bool
	// Err is the underlying knownhosts error, if any.
	Err error
}

func (e *MismatchError) Error() string {
	host, port := splitHostPort(e.Host)
	fix := fmt.Sprintf("ssh-keyscan -p %s %s | ssh-keygen -lf -", port, host)
	presented := fmt.Sprintf("%s key %s", e.KeyType, e.Fingerprint)
	switch {
	case e.Revoked:
		return fmt.Sprintf("host key of %s refused: the server presented %s, which %s marks @revoked", e.Host, presented, e.PinnedBy)
	case len(e.Want) == 0:
		return fmt.Sprintf("host key of %s unknown: %s has no key for this host (the server presented %s); "+
			"check the fingerprint with the partner, then add it: %s", e.Host, e.PinnedBy, presented, fix)
	}
	return fmt.Sprintf("host key mismatch for %s: the server presented %s, but %s pins %s; "+
		"if the partner really changed the key, check the new fingerprint with them (%s) and update the pin",
		e.Host, presented, e.PinnedBy, strings.Join(e.Want, ", "), fix)
}

func (e *MismatchError) Unwrap() error { return e.Err }

func splitHostPort(hostport string) (host, port string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport, "22"
	}
	return host, port
}

// HostKeyCallback returns the callback that accepts only pinned keys. The
// hostname it is called with must carry the port ("host:port"), as
// ssh.Dial and ssh.NewClientConn pass the address dialed.
func (p *Pin) HostKeyCallback() ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		fp := ssh.FingerprintSHA256(key)
		if len(p.fingerprints) > 0 && !slices.Contains(p.fingerprints, fp) {
			return &MismatchError{Host: hostname, KeyType: key.Type(), Fingerprint: fp,
				PinnedBy: "host_key_fingerprint", Want: p.fingerprints}
		}
		if p.knownHosts == nil {
			return nil
		}
		err := p.knownHosts(hostname, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke):
			me := &MismatchError{Host: hostname, KeyType: key.Type(), Fingerprint: fp,
				PinnedBy: "known_hosts file " + p.knownHostsFile, Err: err}
			for _, w := range ke.Want {
				me.Want = append(me.Want, w.Key.Type()+" "+ssh.FingerprintSHA256(w.Key))
			}
			return me
		case errors.As(err, &re):
			return &MismatchError{Host: hostname, KeyType: key.Type(), Fingerprint: fp,
				PinnedBy: "known_hosts file " + p.knownHostsFile, Revoked: true, Err: err}
		}
		return fmt.Errorf("checking host key of %s: %w", hostname, err)
	}
}

// probeKey is a key no known_hosts file lists: checking it makes
// knownhosts report the keys it has for a host.
var probeKey = func() ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		panic(err)
	}
	return k
}()

// Algorithm families a server may have one host key of each.
var families = [][]string{
	{ssh.KeyAlgoED25519},
	{ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521},
	{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA},
}

func familyOf(keyType string) int {
	for i, f := range families {
		if slices.Contains(f, keyType) || (keyType == ssh.KeyAlgoRSA && i == 2) {
			return i
		}
	}
	return -1
}

// HostKeyAlgorithms returns the host key algorithm lists a dialer should
// try in turn for hostport, so that a server with several host keys shows
// the pinned one: for known_hosts, the algorithms of the keys it lists for
// the host; for fingerprints, first the default negotiation (nil), then
// each algorithm family alone. except is the key type a failed attempt was
// shown; its family is left out.
func (p *Pin) HostKeyAlgorithms(hostport string) [][]string {
	if p.knownHosts != nil {
		var ke *knownhosts.KeyError
		if err := p.knownHosts(hostport, &net.TCPAddr{}, probeKey); errors.As(err, &ke) && len(ke.Want) > 0 {
			var algos []string
			for _, w := range ke.Want {
				if i := familyOf(w.Key.Type()); i >= 0 {
					for _, a := range families[i] {
						if !slices.Contains(algos, a) {
							algos = append(algos, a)
						}
					}
				}
			}
			return [][]string{algos}
		}
		return [][]string{nil}
	}
	return append([][]string{nil}, families...)
}

// SameFamily reports whether a key of type keyType could be presented
// when algos are asked for (nil asks for all).
func SameFamily(keyType string, algos []string) bool {
	if algos == nil {
		return true
	}
	i := familyOf(keyType)
	return i >= 0 && slices.Contains(algos, families[i][0])
}
