package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ordergate/ordergate/internal/fixtures"
)

const hostedConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match: {x12: [{qualifier: ZZ, id: BAUMARKTNORD}]}
    acks: {functional: "997", via: partner-drop}
channels:
  - name: partner-drop
    type: sftpserver
    listen: 127.0.0.1:%d
    host_key_file: ./host_key
    root_dir: ./sftp
    users:
      - {name: nord, partner: baumarkt-nord, public_keys: ["%s"]}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
`

// TestHostedSFTPEndToEnd: a partner with the real OpenSSH sftp client
// uploads an 850 to the gateway's own SFTP server and downloads its 997
// from out/.
func TestHostedSFTPEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("sftp"); err != nil {
		t.Skipf("needs the OpenSSH sftp client: %v", err)
	}
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "client_key")
	if err := os.WriteFile(key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	ports := freePorts(t, 2)
	port, sftpPort := ports[0], ports[1]
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fmt.Sprintf(hostedConfig, port, sftpPort, authorized)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	g := start(t, dir, port)
	// Pin the host key the gateway generated on its first start.
	hostKey, err := os.ReadFile(filepath.Join(dir, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(dir, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", sftpPort, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))))
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "po.x12"), fixtures.X12850(901, "PO-HOSTED", 2), 0o644); err != nil {
		t.Fatal(err)
	}
	sftpBatch := func(cmds string) (string, error) {
		batch := filepath.Join(dir, "batch")
		if err := os.WriteFile(batch, []byte(cmds), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sftp", "-b", batch, "-i", key, "-P", fmt.Sprint(sftpPort),
			"-o", "UserKnownHostsFile="+kh, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "nord@127.0.0.1")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := sftpBatch("put po.x12 /in/po.x12\n"); err != nil {
		t.Fatalf("sftp put: %v\n%s\n%s", err, out, g.log)
	}
	g.orderByPO("PO-HOSTED", "delivered")
	var listing string
	waitFor(t, 30*time.Second, "the 997 in out/", func() bool {
		out, err := sftpBatch("ls /out\n")
		listing = out
		return err == nil && strings.Contains(out, ".997.x12")
	})
	name := ""
	for _, f := range strings.Fields(listing) {
		if strings.HasSuffix(f, ".997.x12") {
			name = f
		}
	}
	if out, err := sftpBatch(fmt.Sprintf("get %s ack.x12\n", name)); err != nil {
		t.Fatalf("sftp get: %v\n%s", err, out)
	}
	ack, err := os.ReadFile(filepath.Join(dir, "ack.x12"))
	if err != nil || !strings.Contains(string(ack), "ST*997*") || !strings.Contains(string(ack), "AK5*A") {
		t.Errorf("downloaded 997: %q, %v", ack, err)
	}
}
