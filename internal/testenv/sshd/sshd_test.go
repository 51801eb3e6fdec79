package sshd_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/testenv/sshd"
)

// sftpBatch runs the OpenSSH sftp client against s with commands.
func sftpBatch(t *testing.T, s *sshd.Server, knownHosts, commands string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("sftp"); err != nil {
		t.Skip("sftp client missing (install openssh-client)")
	}
	cmd := exec.Command("sftp", "-b", "-", "-P", fmt.Sprint(s.Port), "-i", s.ClientKeyFile,
		"-o", "UserKnownHostsFile="+knownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		s.User+"@"+s.Host)
	cmd.Stdin = strings.NewReader(commands)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestServer(t *testing.T) {
	s := sshd.Start(t)
	s.MkdirAll("inbox")
	s.WriteFile("inbox/a.edi", []byte("hello"))

	out, err := sftpBatch(t, s, s.KnownHostsFile, "pwd\nls -1 inbox\nrename inbox/a.edi inbox/b.edi\n")
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	if !strings.Contains(out, "/data") || !strings.Contains(out, "a.edi") {
		t.Errorf("sftp output = %q, want the start directory /data and a.edi", out)
	}
	if b, err := os.ReadFile(s.Path("/data/inbox/b.edi")); err != nil || !bytes.Equal(b, []byte("hello")) {
		t.Errorf("renamed file = %q, %v", b, err)
	}

	// Restart keeps the host key; SwapHostKey does not.
	s.Restart()
	if out, err := sftpBatch(t, s, s.KnownHostsFile, "ls\n"); err != nil {
		t.Fatalf("sftp after Restart: %v\n%s", err, out)
	}
	s.SwapHostKey()
	out, err = sftpBatch(t, s, s.KnownHostsFile, "ls\n")
	if err == nil || !strings.Contains(out, "HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("sftp after SwapHostKey: err %v, output %q; want a host key change refused", err, out)
	}

	s.Kill()
	if out, err := sftpBatch(t, s, s.KnownHostsFile, "ls\n"); err == nil {
		t.Errorf("sftp after Kill succeeded: %s", out)
	}
}

func TestJailIsRootOwned(t *testing.T) {
	s := sshd.Start(t)
	info, err := os.Stat(s.Root)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o022 != 0 {
		t.Errorf("jail %s mode %v is group or world writable", s.Root, info.Mode())
	}
	if !strings.HasPrefix(s.Root, "/srv/ordergate-test/") {
		t.Errorf("Root = %q, want under /srv/ordergate-test", s.Root)
	}
}
