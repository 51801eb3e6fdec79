// Package sshkeys pins SSH host keys and builds client authentication for
// the SFTP channels and backends.
//
// # Host keys
//
// A host key is pinned either by a known_hosts file (OpenSSH format, read
// with golang.org/x/crypto/ssh/knownhosts; a port other than 22 is written
// "[host]:port" there, as ssh-keyscan -p writes it) or by one or more
// "SHA256:..." fingerprints as ssh-keygen -lf prints them. With both, the
// key must satisfy both. With neither, NewPin fails with ErrNoPin: a
// channel refuses to start rather than trust whatever key it is shown.
//
// A key that does not match is refused with a *MismatchError naming the
// host, the presented key's type and SHA-256 fingerprint, where the pin
// came from, and the commands that show the server's real fingerprints
// (ssh-keyscan -p PORT HOST | ssh-keygen -lf -), to be checked with the
// partner out of band before the pin is changed.
//
// Pin.Algorithms tells the dialer which host key algorithms to ask for, so
// that a server with several host keys presents the pinned one.
//
// # Authentication
//
// Auth returns the ssh.AuthMethods for a private key file (OpenSSH, PKCS#1
// or PKCS#8 PEM, optionally encrypted with a passphrase) and/or a
// password; the key is offered first.
//
// # What it does not do
//
// It never trusts an unknown key (there is no "accept new" mode and no
// callback that accepts any key), does not write known_hosts files, and does
// not talk to an SSH agent.
package sshkeys
