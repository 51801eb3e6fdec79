package sftpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/fixtures"
)

// sftpBin returns the OpenSSH sftp client, or skips the test.
func sftpBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sftp")
	if err != nil {
		t.Skip("OpenSSH sftp client not installed (apt-get install openssh-client)")
	}
	return bin
}

// opensshClient runs the real OpenSSH sftp client against a server.
type opensshClient struct {
	bin, port, user string
	keyFile, khFile string
	extra           []string
}

func (f *fixture) openssh(t *testing.T, srv *Server, user string) *opensshClient {
	t.Helper()
	bin := sftpBin(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, f.keys[user].pem, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	khFile := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(host, port))}, srv.HostKey())
	if err := os.WriteFile(khFile, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &opensshClient{bin: bin, port: port, user: user, keyFile: keyFile, khFile: khFile}
}

// cmd returns the client running batch (sftp -b: it stops at the first
// failing command and exits non-zero).
func (c *opensshClient) cmd(ctx context.Context, t *testing.T, batch string) *exec.Cmd {
	t.Helper()
	batchFile := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batchFile, []byte(batch+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-F", "/dev/null", "-b", batchFile, "-i", c.keyFile, "-P", c.port,
		"-o", "UserKnownHostsFile=" + c.khFile, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
	}
	args = append(args, c.extra...)
	args = append(args, c.user+"@127.0.0.1")
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = t.TempDir()
	return cmd
}

// run runs batch and returns its combined output and error.
func (c *opensshClient) run(t *testing.T, batch string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.cmd(ctx, t, batch).CombinedOutput()
	return string(out), err
}

func (c *opensshClient) mustRun(t *testing.T, batch string) string {
	t.Helper()
	out, err := c.run(t, batch)
	if err != nil {
		t.Fatalf("sftp %q: %v\n%s", batch, err, out)
	}
	return out
}

func (c *opensshClient) mustFail(t *testing.T, batch string) string {
	t.Helper()
	out, err := c.run(t, batch)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Errorf("sftp %q succeeded (err %v), want a failure\n%s", batch, err, out)
	}
	return out
}

func writeLocal(t *testing.T, name string, body []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readDoc reads one document from srv within 20 s.
func readDoc(t *testing.T, srv *Server) (channels.Document, channels.AckFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	doc, ack, err := srv.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	t.Cleanup(func() { doc.Body.Close() })
	return doc, ack
}

// expectNext uploads a sentinel as user and checks it is the next
// document read: nothing else was left to read.
func (f *fixture) expectNext(t *testing.T, srv *Server, c *opensshClient, sentinel string) {
	t.Helper()
	local := writeLocal(t, sentinel, []byte(sentinel))
	c.mustRun(t, "put "+local+" /in/"+sentinel)
	doc, ack := readDoc(t, srv)
	if doc.Name != sentinel {
		t.Fatalf("read %q (err %v), want only the sentinel %q", doc.Name, doc.Err, sentinel)
	}
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSSHUploadAndDownload(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	nord := f.openssh(t, srv, "nord")

	po := fixtures.X12850(4711, "4500012345", 3)
	local := writeLocal(t, "po_4711.x12", po)
	out := nord.mustRun(t, "cd in\nput "+local+"\nls -l")
	if !strings.Contains(out, "po_4711.x12") {
		t.Errorf("ls after put does not show the upload:\n%s", out)
	}
	doc, ack := readDoc(t, srv)
	if doc.Name != "po_4711.x12" || doc.Channel != "partner-drop" || doc.Err != nil {
		t.Errorf("doc = %q on %q (err %v), want po_4711.x12 on partner-drop", doc.Name, doc.Channel, doc.Err)
	}
	if got := readAll(t, doc.Body.Reader()); !bytes.Equal(got, po) {
		t.Errorf("body = %q, want the 850 uploaded", got)
	}
	for k, want := range map[string]string{"sftp_user": "nord", "partner": "baumarkt-nord", "remote_path": "/in/po_4711.x12"} {
		if doc.Meta[k] != want {
			t.Errorf("Meta[%s] = %q, want %q", k, doc.Meta[k], want)
		}
	}
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if got := allFiles(t, f.dir("nord", "in")); !slices.Equal(got, []string{".error"}) {
		t.Errorf("in/ after the commit = %q, want only .error", got)
	}

	// Our 997 goes out through the Outbox and the partner fetches it.
	ack997 := []byte("ISA*00*          *00*          *ZZ*TOOLSUPPLY     *ZZ*BAUMARKTNORD   *261127*1201*U*00401*000000001*0*P*>~\n" +
		"GS*FA*TOOLSUPPLY*BAUMARKTNORD*20261127*1201*1*X*004010~\nST*997*0001~\nAK1*PO*4711~\nAK9*A*1*1*1~\nSE*4*0001~\nGE*1*1~\nIEA*1*000000001~\n")
	ob, err := srv.Outbound("nord")
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(context.Background(), "997_000004711.x12", ack997); err != nil {
		t.Fatal(err)
	}
	dl := filepath.Join(t.TempDir(), "got.x12")
	out = nord.mustRun(t, "ls /out\nget /out/997_000004711.x12 "+dl+"\nrm /out/997_000004711.x12")
	if !strings.Contains(out, "997_000004711.x12") {
		t.Errorf("ls /out does not show the 997:\n%s", out)
	}
	got, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ack997) {
		t.Errorf("downloaded %q, want the 997 sent", got)
	}
	if left := allFiles(t, f.dir("nord", "out")); len(left) != 0 {
		t.Errorf("out/ after the partner's rm = %q, want empty", left)
	}
	f.expectNext(t, srv, nord, "sentinel.txt")
}

func TestOpenSSHPartnersIsolated(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	nord, sued := f.openssh(t, srv, "nord"), f.openssh(t, srv, "sued")

	nord.mustRun(t, "put "+writeLocal(t, "nord-po.x12", []byte("nord's order"))+" /in/nord-po.x12")
	ob, err := srv.Outbound("nord")
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(context.Background(), "nord-997.x12", []byte("nord's ack")); err != nil {
		t.Fatal(err)
	}

	out := sued.mustRun(t, "ls -la /in\nls -la /out\nls -la /")
	for _, secret := range []string{"nord-po.x12", "nord-997.x12", "nord"} {
		if strings.Contains(out, secret) {
			t.Errorf("sued's listings show %q:\n%s", secret, out)
		}
	}
	dl := filepath.Join(t.TempDir(), "stolen")
	for _, batch := range []string{
		"get /out/nord-997.x12 " + dl,
		"get /in/nord-po.x12 " + dl,
		"get ../nord/out/nord-997.x12 " + dl,
		"get ../../nord/in/nord-po.x12 " + dl,
		"get /nord/out/nord-997.x12 " + dl,
		"ls /nord",
		"ls ../nord/in",
		"cd ../nord/out",
		"rm ../nord/out/nord-997.x12",
		"rm /out/nord-997.x12",
	} {
		sued.mustFail(t, batch)
	}
	if _, err := os.Stat(dl); err == nil {
		t.Error("sued downloaded one of nord's files")
	}
	// nord's files are untouched, and nord cannot read its uploads back.
	nord.mustFail(t, "get /in/nord-po.x12 "+dl)
	if got := visibleFiles(t, f.dir("nord", "in")); !slices.Equal(got, []string{"nord-po.x12"}) {
		t.Errorf("nord's in/ = %q", got)
	}
	if got := visibleFiles(t, f.dir("nord", "out")); !slices.Equal(got, []string{"nord-997.x12"}) {
		t.Errorf("nord's out/ = %q", got)
	}
}

func TestOpenSSHEscapesRefused(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	nord := f.openssh(t, srv, "nord")
	ob, err := srv.Outbound("sued")
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(context.Background(), "sued-ack.x12", []byte("sued's ack")); err != nil {
		t.Fatal(err)
	}
	nord.mustRun(t, "put "+writeLocal(t, "po.x12", []byte("order"))+" /in/po.x12")
	// Links an operator (or an attacker with local access) planted.
	out := f.dir("nord", "out")
	for name, target := range map[string]string{
		"abs-link":   "/etc/passwd",
		"other-link": "../../sued/out/sued-ack.x12",
		"in-link":    "../in/po.x12",
		"dir-link":   "../../sued",
	} {
		if err := os.Symlink(target, filepath.Join(out, name)); err != nil {
			t.Fatal(err)
		}
	}
	x := writeLocal(t, "x", []byte("payload"))
	dl := filepath.Join(t.TempDir(), "got")
	const denied, notFound = "Permission denied", "not found"
	tests := []struct{ batch, want string }{
		{"put " + x + " ../../etc/y", denied},
		{"put " + x + " /etc/y", denied},
		{"put " + x + " /y", denied},
		{"put " + x + " /out/y", denied},
		{"put " + x + " /in/../../y", denied},
		{"put " + x + " /in/.error/y", denied},
		{"get /etc/passwd " + dl, notFound},
		{"get ../../../../etc/passwd " + dl, notFound},
		{"get /out/abs-link " + dl, notFound},
		{"get /out/other-link " + dl, notFound},
		{"get /out/in-link " + dl, notFound},
		{"get /out/dir-link/out/sued-ack.x12 " + dl, notFound},
		{"get /in/.error " + dl, notFound},
		{"get /in/po.x12 " + dl, denied},
		{"ls /out/dir-link", notFound},
		{"symlink /etc/passwd /in/link", denied},
		{"symlink /in/po.x12 /out/link", denied},
		{"ln /in/po.x12 /in/hard", denied},
		{"rename /in/po.x12 /in/other.x12", denied},
		{"rename /in/po.x12 /out/po.x12", denied},
		{"mkdir /in/sub", denied},
		{"rmdir /in", denied},
		{"rm /in/po.x12", denied},
	}
	for _, tt := range tests {
		t.Run(tt.batch, func(t *testing.T) {
			if out := nord.mustFail(t, tt.batch); !strings.Contains(out, tt.want) {
				t.Errorf("client output = %q, want %q", out, tt.want)
			}
		})
	}
	if _, err := os.Stat(dl); err == nil {
		t.Error("a download through an escape succeeded")
	}
	// Nothing was written outside nord's in/ (the put x /in/... are all
	// refused), and the links are not listed.
	if got := visibleFiles(t, f.dir("nord", "in")); !slices.Equal(got, []string{"po.x12"}) {
		t.Errorf("nord's in/ = %q, want only po.x12", got)
	}
	for _, p := range []string{filepath.Join(f.cfg.RootDir, "y"), filepath.Join(filepath.Dir(f.cfg.RootDir), "y"), "/etc/y", "/y"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	ls := nord.mustRun(t, "ls -la /out")
	if strings.Contains(ls, "link") {
		t.Errorf("ls /out shows planted links:\n%s", ls)
	}
}

func TestOpenSSHLimits(t *testing.T) {
	tests := []struct {
		name     string
		maxFile  int64
		quota    int64
		outBytes int // already in out/, waiting for download
		upload   int
	}{
		{name: "max_file_bytes", maxFile: 64 << 10, upload: 100 << 10},
		{name: "quota", maxFile: 1 << 20, quota: 150 << 10, outBytes: 100 << 10, upload: 80 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.MaxFileBytes, f.cfg.QuotaBytes = tt.maxFile, tt.quota
			srv := f.start(t)
			nord := f.openssh(t, srv, "nord")
			if tt.outBytes > 0 {
				ob, err := srv.Outbound("nord")
				if err != nil {
					t.Fatal(err)
				}
				if err := ob.Send(context.Background(), "855_1.x12", bytes.Repeat([]byte("x"), tt.outBytes)); err != nil {
					t.Fatal(err)
				}
			}
			big := writeLocal(t, "big.x12", bytes.Repeat([]byte("ISA*"), tt.upload/4))
			if out := nord.mustFail(t, "put "+big+" /in/big.x12"); !strings.Contains(out, "Failure") {
				t.Errorf("client output = %q, want an SFTP Failure status", out)
			}
			if got := allFiles(t, f.dir("nord", "in")); !slices.Equal(got, []string{".error"}) {
				t.Errorf("in/ after the refused upload = %q, want only .error", got)
			}
			// A small upload still goes through, and is the only document.
			f.expectNext(t, srv, nord, "small.x12")
		})
	}
}

func TestOpenSSHClientKilledMidUpload(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	nord := f.openssh(t, srv, "nord")
	big := writeLocal(t, "big.x12", bytes.Repeat([]byte("0123456789abcdef"), 1<<16)) // 1 MiB
	slow := *nord
	slow.extra = []string{"-l", "400"} // Kbit/s: 20 s for the file
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := slow.cmd(ctx, t, "put "+big+" /in/big.x12")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := f.dir("nord", "in")
	// Wait until the upload has bytes on the server, then kill the client.
	started := waitFor(t, 20*time.Second, func() bool {
		for _, name := range allFiles(t, in) {
			if isUploadTemp(name) {
				if info, err := os.Stat(filepath.Join(in, name)); err == nil && info.Size() > 0 {
					return true
				}
			}
		}
		return false
	})
	if !started {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the upload never started")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	gone := waitFor(t, 20*time.Second, func() bool {
		return slices.Equal(allFiles(t, in), []string{".error"})
	})
	if !gone {
		t.Fatalf("in/ after the client was killed = %q, want only .error", allFiles(t, in))
	}
	f.expectNext(t, srv, nord, "after-kill.x12")
	if !strings.Contains(f.log.String(), "upload interrupted") {
		t.Errorf("log does not tell of the interrupted upload:\n%s", f.log.String())
	}
}

// waitFor polls cond until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

func TestOpenSSHWrongKeyRefused(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	// nord's client with sued's key.
	c := f.openssh(t, srv, "sued")
	c.user = "nord"
	out := c.mustFail(t, "ls /in")
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("client output = %q, want Permission denied", out)
	}
	if !strings.Contains(f.log.String(), fmt.Sprintf("sftp_user=%s", "nord")) || !strings.Contains(f.log.String(), "sftp authentication failed") {
		t.Errorf("log does not record the failure:\n%s", f.log.String())
	}
}

// TestOpenSSHTemporaryNameThenRename: the way WinSCP ("transfer to
// temporary filename") and FileZilla-style clients upload: under
// name.filepart, then a rename to the real name. The file is no document
// until the rename and then one under the real name; a temporary upload
// the session never renames is discarded with its quota; renaming
// anything else stays refused.
func TestOpenSSHTemporaryNameThenRename(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	nord := f.openssh(t, srv, "nord")
	po := fixtures.X12850(4712, "4500012346", 2)
	local := writeLocal(t, "po.x12", po)

	out := nord.mustRun(t, "put "+local+" /in/po_4712.x12.filepart\nls -l /in/po_4712.x12.filepart\nrename /in/po_4712.x12.filepart /in/po_4712.x12")
	if !strings.Contains(out, fmt.Sprint(len(po))) {
		t.Errorf("ls -l of the held upload does not show its size %d:\n%s", len(po), out)
	}
	doc, ack := readDoc(t, srv)
	if doc.Name != "po_4712.x12" || doc.Err != nil || !bytes.Equal(readAll(t, doc.Body.Reader()), po) {
		t.Errorf("doc %q (err %v), want po_4712.x12 with the bytes uploaded", doc.Name, doc.Err)
	}
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}

	// Uploaded under a temporary name and never renamed: gone when the
	// session ends, nothing offered, no bytes left behind.
	nord.mustRun(t, "put "+local+" /in/abandoned.x12.part")
	if !waitFor(t, 5*time.Second, func() bool { return len(allFiles(t, f.dir("nord", "in"))) == 1 }) {
		t.Errorf("in/ after an abandoned temporary upload = %q, want only .error", allFiles(t, f.dir("nord", "in")))
	}
	// A completed upload under its real name cannot be renamed: it may be
	// a document already.
	nord.mustRun(t, "put "+local+" /in/final.x12")
	nord.mustFail(t, "rename /in/final.x12 /in/other.x12")
	doc, ack = readDoc(t, srv)
	if doc.Name != "final.x12" {
		t.Errorf("read %q, want final.x12 (the abandoned upload must not be offered)", doc.Name)
	}
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	f.expectNext(t, srv, nord, "sentinel.txt")
}
