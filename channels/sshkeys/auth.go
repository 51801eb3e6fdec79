package sshkeys

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"
)

// ErrNoCredentials: neither a private key file nor a password was given.
var ErrNoCredentials = errors.New("no credentials: private_key_file or a password is required")

// Auth returns the authentication methods for a private key file (with
// its passphrase when encrypted) and/or a password, the key first. The
// password also answers keyboard-interactive password prompts.
func Auth(privateKeyFile, passphrase, password string) ([]ssh.AuthMethod, error) {
	var methods []ssh.AuthMethod
	if privateKeyFile != "" {
		signer, err := LoadSigner(privateKeyFile, passphrase)
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if password != "" {
		methods = append(methods, ssh.Password(password),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if echos[i] {
						return nil, errors.New("keyboard-interactive: only password prompts are answered")
					}
					answers[i] = password
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, ErrNoCredentials
	}
	return methods, nil
}

// LoadSigner reads a private key file, decrypting it with passphrase when
// it is encrypted.
func LoadSigner(file, passphrase string) (ssh.Signer, error) {
	pemBytes, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	var signer ssh.Signer
	if passphrase != "" {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(passphrase))
	} else {
		signer, err = ssh.ParsePrivateKey(pemBytes)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("private key %s is encrypted and no passphrase was given: %w", file, err)
	case err != nil:
		return nil, fmt.Errorf("parsing private key %s: %w", file, err)
	}
	return signer, nil
}
