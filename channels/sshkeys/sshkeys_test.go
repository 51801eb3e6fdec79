package sshkeys_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/channels/sshkeys"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newKey(t *testing.T) (ssh.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, priv
}

var remote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}

func TestParseFingerprint(t *testing.T) {
	key, _ := newKey(t)
	fp := ssh.FingerprintSHA256(key)
	tests := []struct {
		in, want string
		ok       bool
	}{
		{fp, fp, true},
		{fp + "=", fp, true},
		{"MD5:16:27:ac:a5", "", false},
		{"SHA256:tooshort", "", false},
		{"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "", false},
	}
	for _, tt := range tests {
		got, err := sshkeys.ParseFingerprint(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNewPinNeedsAPin(t *testing.T) {
	if _, err := sshkeys.NewPin("", ""); !errors.Is(err, sshkeys.ErrNoPin) {
		t.Errorf("NewPin with nothing = %v, want ErrNoPin", err)
	}
	if _, err := sshkeys.NewPin(filepath.Join(t.TempDir(), "missing"), ""); err == nil {
		t.Error("NewPin with a missing known_hosts file succeeded")
	}
}

func TestFingerprintPin(t *testing.T) {
	good, _ := newKey(t)
	bad, _ := newKey(t)
	pin, err := sshkeys.NewPin("", ssh.FingerprintSHA256(good))
	if err != nil {
		t.Fatal(err)
	}
	cb := pin.HostKeyCallback()
	if err := cb("sftp.example.com:2222", remote, good); err != nil {
		t.Errorf("pinned key refused: %v", err)
	}
	err = cb("sftp.example.com:2222", remote, bad)
	var me *sshkeys.MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("other key = %v, want a MismatchError", err)
	}
	for _, want := range []string{"sftp.example.com:2222", ssh.FingerprintSHA256(bad), "ssh-keyscan -p 2222 sftp.example.com | ssh-keygen -lf -", "host_key_fingerprint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if got := pin.HostKeyAlgorithms("sftp.example.com:2222"); len(got) != 4 || got[0] != nil {
		t.Errorf("HostKeyAlgorithms for a fingerprint = %q, want the default then each family", got)
	}
}

func TestKnownHostsPin(t *testing.T) {
	known, _ := newKey(t)
	other, _ := newKey(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:2222")}, known) + "\n"
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	pin, err := sshkeys.NewPin(file, "")
	if err != nil {
		t.Fatal(err)
	}
	cb := pin.HostKeyCallback()
	if err := cb("127.0.0.1:2222", remote, known); err != nil {
		t.Errorf("known key refused: %v", err)
	}
	tests := []struct {
		name, host string
		key        ssh.PublicKey
		unknown    bool
	}{
		{"changed key", "127.0.0.1:2222", other, false},
		{"other port", "127.0.0.1:22", known, true},
	}
	for _, tt := range tests {
		err := cb(tt.host, remote, tt.key)
		var me *sshkeys.MismatchError
		if !errors.As(err, &me) {
			t.Errorf("%s: %v, want a MismatchError", tt.name, err)
			continue
		}
		if (len(me.Want) == 0) != tt.unknown {
			t.Errorf("%s: Want = %q, unknown host %v", tt.name, me.Want, tt.unknown)
		}
		_, port, _ := net.SplitHostPort(tt.host)
		for _, want := range []string{tt.host, ssh.FingerprintSHA256(tt.key), "ssh-keyscan -p " + port + " 127.0.0.1", file} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", tt.name, err, want)
			}
		}
	}
	got := pin.HostKeyAlgorithms("127.0.0.1:2222")
	if len(got) != 1 || !slices.Equal(got[0], []string{ssh.KeyAlgoED25519}) {
		t.Errorf("HostKeyAlgorithms = %q, want the known key's type", got)
	}
}

func TestAuth(t *testing.T) {
	_, priv := newKey(t)
	dir := t.TempDir()
	write := func(name string, block *pem.Block) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pass phrase"))
	if err != nil {
		t.Fatal(err)
	}
	plainFile, encFile := write("plain", plain), write("enc", enc)
	tests := []struct {
		name                      string
		key, passphrase, password string
		methods                   int
		errPart                   string
	}{
		{"key", plainFile, "", "", 1, ""},
		{"encrypted key", encFile, "pass phrase", "", 1, ""},
		{"key and password", plainFile, "", "pw", 3, ""},
		{"password", "", "", "pw", 2, ""},
		{"encrypted without passphrase", encFile, "", "", 0, "no passphrase"},
		{"wrong passphrase", encFile, "wrong", "", 0, "parsing private key"},
		{"missing file", filepath.Join(dir, "nope"), "", "", 0, "reading private key"},
		{"nothing", "", "", "", 0, "no credentials"},
	}
	for _, tt := range tests {
		m, err := sshkeys.Auth(tt.key, tt.passphrase, tt.password)
		if tt.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("%s: Auth = %v, want an error with %q", tt.name, err, tt.errPart)
			}
			continue
		}
		if err != nil || len(m) != tt.methods {
			t.Errorf("%s: Auth = %d methods, %v; want %d", tt.name, len(m), err, tt.methods)
		}
	}
}
