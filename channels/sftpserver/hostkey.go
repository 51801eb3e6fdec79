package sftpserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// loadHostKey reads the host key from file, or generates an ed25519 key
// there (mode 0600) when the file does not exist. It logs the key's
// SHA256 fingerprint, never the key.
func loadHostKey(file string, log *slog.Logger) (ssh.Signer, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return generateHostKey(file, log)
	}
	if err != nil {
		return nil, fmt.Errorf("reading host key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("reading host key %s: it is passphrase-protected, which is not supported", file)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing host key %s: %w", file, err)
	}
	if info, err := os.Stat(file); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("host key file is readable by others than its owner", "file", file, "mode", info.Mode().Perm().String())
	}
	log.Info("loaded host key", "file", file, "type", signer.PublicKey().Type(),
		"fingerprint", ssh.FingerprintSHA256(signer.PublicKey()))
	return signer, nil
}

func generateHostKey(file string, log *slog.Logger) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, fmt.Errorf("encoding host key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("creating host key folder: %w", err)
	}
	// Written under a temporary name and linked, so a crash never leaves a
	// half-written key and two processes starting at once agree on one.
	tmp, err := os.CreateTemp(filepath.Dir(file), ".hostkey-*")
	if err != nil {
		return nil, fmt.Errorf("writing host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing host key: %w", err)
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing host key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing host key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing host key: %w", err)
	}
	if err := os.Link(tmp.Name(), file); errors.Is(err, fs.ErrExist) {
		// Another process generated one first: use it.
		return loadHostKey(file, log)
	} else if err != nil {
		return nil, fmt.Errorf("writing host key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(file)); err == nil {
		d.Sync()
		d.Close()
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("using host key: %w", err)
	}
	log.Info("generated host key", "file", file, "type", signer.PublicKey().Type(),
		"fingerprint", ssh.FingerprintSHA256(signer.PublicKey()))
	return signer, nil
}
