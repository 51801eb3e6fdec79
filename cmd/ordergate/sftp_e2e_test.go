package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/testenv/sshd"
)

// sftpConfig pulls from a partner's real OpenSSH server: key auth, the
// host key pinned from known_hosts, files archived remotely after the
// commit, the 997s uploaded into the partner's out folder.
const sftpConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match: {x12: [{qualifier: ZZ, id: BAUMARKTNORD}]}
    acks: {functional: "997", via: nord-sftp}
channels:
  - name: nord-sftp
    type: sftp
    host: 127.0.0.1
    port: %d
    user: %s
    private_key_file: %s
    known_hosts: %s
    inbox: /data/in
    archive: /data/archive
    outbox: /data/out
    poll: 50ms
    min_age: 10ms
    max_files_per_poll: 500
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
`

func newSFTPGateway(t *testing.T, srv *sshd.Server) (dir string, port int) {
	t.Helper()
	dir = t.TempDir()
	port = freePort(t)
	cfg := fmt.Sprintf(sftpConfig, port, srv.Port, srv.User, srv.ClientKeyFile, srv.KnownHostsFile)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"in", "archive", "out"} {
		srv.MkdirAll(d)
	}
	return dir, port
}

// remoteFiles lists a folder of the SFTP account.
func remoteFiles(t *testing.T, srv *sshd.Server, remote string) []string {
	t.Helper()
	return files(t, srv.Path(remote))
}

// TestSFTPPullCrash pulls 2,000 files from real OpenSSH, kills the gateway
// with SIGKILL a third of the way and starts it again: every file becomes
// exactly one order and is archived remotely, every 997 is uploaded.
func TestSFTPPullCrash(t *testing.T) {
	srv := sshd.Start(t)
	dir, port := newSFTPGateway(t, srv)
	const n = 2000
	for i := range n {
		srv.WriteFile(fmt.Sprintf("in/po-%04d.x12", i), fixtures.X12850(i+1, fmt.Sprintf("PO-%04d", i), 2))
	}
	g := start(t, dir, port)
	waitFor(t, 2*time.Minute, "a third of the files archived", func() bool {
		return len(remoteFiles(t, srv, "archive")) >= n/3
	})
	g.kill()
	g = start(t, dir, port)
	waitFor(t, 4*time.Minute, "every file archived", func() bool {
		return len(remoteFiles(t, srv, "archive")) == n && len(remoteFiles(t, srv, "in")) == 0
	})
	waitFor(t, 2*time.Minute, "every order delivered", func() bool {
		return len(files(t, filepath.Join(dir, "outbound"))) >= n
	})
	orders := g.orders("")
	seen := map[string]int{}
	for _, o := range orders {
		seen[o.PONumber]++
	}
	dups := 0
	for _, c := range seen {
		if c > 1 {
			dups++
		}
	}
	if len(seen) != n || dups != 0 || len(orders) != n {
		t.Errorf("%d orders of %d POs, %d POs more than once; want %d, each once", len(orders), len(seen), dups, n)
	}
	if got := len(files(t, filepath.Join(dir, "outbound"))); got != n {
		t.Errorf("%d orders delivered, want %d", got, n)
	}
	waitFor(t, time.Minute, "every 997 uploaded", func() bool {
		acks := remoteFiles(t, srv, "out")
		return len(acks) == n
	})
	for _, name := range remoteFiles(t, srv, "out") {
		if !strings.HasSuffix(name, ".997.x12") {
			t.Errorf("unexpected file in out/: %s", name)
			break
		}
	}
}

// TestSFTPHostKeySwapped: the partner's server presents another host key:
// no file is fetched, and the gateway says why.
func TestSFTPHostKeySwapped(t *testing.T) {
	srv := sshd.Start(t)
	dir, port := newSFTPGateway(t, srv)
	srv.WriteFile("in/po.x12", fixtures.X12850(1, "PO-1", 1))
	srv.SwapHostKey()
	g := start(t, dir, port)
	waitFor(t, 30*time.Second, "the host key error in the log", func() bool {
		return strings.Contains(g.log.String(), "SHA256:") && strings.Contains(strings.ToLower(g.log.String()), "host key")
	})
	time.Sleep(500 * time.Millisecond)
	if got := g.orders(""); len(got) != 0 {
		t.Errorf("%d orders from a server with a wrong host key", len(got))
	}
	if left := remoteFiles(t, srv, "in"); len(left) != 1 {
		t.Errorf("inbox = %v, want the file untouched", left)
	}
}

// BenchmarkSFTPIntake measures files/s pulled from real OpenSSH on
// loopback into the store, end to end through the binary: 10,000 small
// 850 files (SFTP_BENCH_FILES to change), from the gateway's start until
// every document is stored and its file archived remotely.
func BenchmarkSFTPIntake(b *testing.B) {
	n := 10000
	if v := os.Getenv("SFTP_BENCH_FILES"); v != "" {
		fmt.Sscan(v, &n)
	}
	for range b.N {
		b.StopTimer()
		srv := sshd.Start(b)
		dir := b.TempDir()
		port := freePort(b)
		cfg := fmt.Sprintf(sftpConfig, port, srv.Port, srv.User, srv.ClientKeyFile, srv.KnownHostsFile)
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
			b.Fatal(err)
		}
		for _, d := range []string{"in", "archive", "out"} {
			srv.MkdirAll(d)
		}
		for i := range n {
			srv.WriteFile(fmt.Sprintf("in/po-%05d.x12", i), fixtures.X12850(i+1, fmt.Sprintf("PO-%05d", i), 2))
		}
		b.StartTimer()
		began := time.Now()
		var env []string
		if p := os.Getenv("SFTP_BENCH_CPUPROFILE"); p != "" {
			env = append(env, "ORDERGATE_CPUPROFILE="+p)
		}
		g := start(b, dir, port, env...)
		for len(files(b, srv.Path("archive"))) < n {
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(began)
		b.StopTimer()
		if err := g.stop(time.Minute); err != nil {
			b.Error(err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "files/s")
	}
}
