// Package sshd starts a real OpenSSH sshd on loopback for tests of the
// SFTP client code: an SFTP-only account chrooted into a fresh folder,
// key authentication, a pinned ed25519 host key.
//
// Start(t) needs root (it adds a user with useradd and chroots) and
// /usr/sbin/sshd; without them it skips the test with the reason. The
// server listens on 127.0.0.1 on a free port. Its jail is
// /srv/ordergate-test/<unique> (every component root-owned, as sshd's
// ChrootDirectory requires); inside it, Home ("/data") is the account's
// writable folder and its start directory. Server.Path maps a path as the
// SFTP user sees it to the host path, MkdirAll and WriteFile create
// folders and files there owned by the account.
//
// Stop ends sshd and its sessions with SIGTERM, Kill with SIGKILL (the
// listener and every session process it forked, so a running transfer
// dies too), Restart starts it again on the same port with the same host
// key, and SwapHostKey restarts it with a new host key while
// KnownHostsFile and HostKeyFingerprint keep describing the old one (what
// a client pinned to the old key must refuse). Everything (processes, the
// account, the folders) is removed in t.Cleanup; sshd's log is printed
// when the test failed.
//
// Tests that start several servers may run in parallel: each has its own
// account, port and jail.
package sshd
