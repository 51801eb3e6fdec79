package sftpdrop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/sshkeys"
	"github.com/ordergate/ordergate/internal/testenv/sshd"
)

// Tests against a real OpenSSH sshd (internal/testenv/sshd); they skip
// when not root or sshd is missing.

func opensshConfig(srv *sshd.Server) Config {
	return Config{
		Name: "nord-sftp",
		Server: Endpoint{
			Host: srv.Host, Port: srv.Port, User: srv.User,
			PrivateKeyFile: srv.ClientKeyFile, KnownHostsFile: srv.KnownHostsFile,
			Timeout: 10 * time.Second,
		},
		Inbox: "/data/out", Archive: "/data/out/done", Outbox: "/data/in",
		Poll: 20 * time.Millisecond, MinAge: time.Millisecond,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
	}
}

func startOpenSSH(t testing.TB) *sshd.Server {
	srv := sshd.Start(t)
	srv.MkdirAll("/data/out")
	srv.MkdirAll("/data/in")
	return srv
}

func mustNew(t testing.TB, cfg Config) *Channel {
	t.Helper()
	ch, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close(context.Background()) })
	return ch
}

func readDoc(t testing.TB, ch *Channel) (channels.Document, channels.AckFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	doc, ack, err := ch.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return doc, ack
}

func hostFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestOpenSSHThousandFilesOnce(t *testing.T) {
	srv := startOpenSSH(t)
	const n = 1000
	want := map[[32]byte]string{}
	for i := range n {
		name := fmt.Sprintf("po-%04d.edi", i)
		body := fmt.Appendf(nil, "ISA*00*%04d~", i)
		want[sha256.Sum256(body)] = name
		srv.WriteFile("/data/out/"+name, body)
	}
	ch := mustNew(t, opensshConfig(srv))
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	hashes := map[[32]byte]bool{}
	for range n {
		doc, ack := readDoc(t, ch)
		if keys[doc.SourceKey] || hashes[doc.SHA256] {
			t.Fatalf("%s read twice", doc.Name)
		}
		keys[doc.SourceKey], hashes[doc.SHA256] = true, true
		if want[doc.SHA256] != doc.Name {
			t.Fatalf("%s: hash %x belongs to %q", doc.Name, doc.SHA256, want[doc.SHA256])
		}
		doc.Body.Close()
		if err := ack(t.Context(), channels.Committed()); err != nil {
			t.Fatalf("ack %s: %v", doc.Name, err)
		}
	}
	if got := len(hostFiles(t, srv.Path("/data/out/done"))); got != n {
		t.Errorf("archived %d files, want %d", got, n)
	}
	if got := hostFiles(t, srv.Path("/data/out")); len(got) != 0 {
		t.Errorf("%d files left in the inbox", len(got))
	}
}

func TestOpenSSHSlowWriterAndPartFiles(t *testing.T) {
	srv := startOpenSSH(t)
	cfg := opensshConfig(srv)
	cfg.MinAge = 1500 * time.Millisecond // far above the writer's pauses, also on a busy machine
	cfg.Poll = 50 * time.Millisecond
	ch := mustNew(t, cfg)
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.WriteFile("/data/out/upload.edi.part", []byte("half an upload"))
	srv.WriteFile("/data/out/upload.edi.tmp", []byte("half an upload"))

	// A partner writes a file slowly under its final name.
	slow := srv.Path("/data/out/slow.edi")
	f, err := os.OpenFile(slow, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	os.Chown(slow, srv.UID, srv.GID)
	var full []byte
	var finished atomic.Int64
	go func() {
		defer f.Close()
		for i := range 6 {
			chunk := bytes.Repeat([]byte{byte('a' + i)}, 1000)
			f.Write(chunk)
			full = append(full, chunk...)
			time.Sleep(200 * time.Millisecond)
		}
		finished.Store(time.Now().UnixNano())
	}()
	doc, ack := readDoc(t, ch)
	defer doc.Body.Close()
	if doc.Name != "slow.edi" {
		t.Fatalf("read %q, want slow.edi (never a .part or .tmp)", doc.Name)
	}
	if finished.Load() == 0 {
		t.Fatal("slow.edi taken while it was still being written")
	}
	got, _ := doc.Body.Bytes()
	if !bytes.Equal(got, full) {
		t.Fatalf("slow.edi: got %d bytes, want the whole %d", len(got), len(full))
	}
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	// The .part and .tmp files are never taken: a later file comes next.
	srv.WriteFile("/data/out/zz-sentinel.edi", []byte("z"))
	if doc, _ := readDoc(t, ch); doc.Name != "zz-sentinel.edi" {
		t.Errorf("read %q, want the sentinel", doc.Name)
	}
	if got := hostFiles(t, srv.Path("/data/out")); !slices.Contains(got, "upload.edi.part") || !slices.Contains(got, "upload.edi.tmp") {
		t.Errorf("inbox = %q, want the .part and .tmp files left alone", got)
	}
}

func TestOpenSSHHostKeySwapped(t *testing.T) {
	srv := startOpenSSH(t)
	srv.WriteFile("/data/out/a.edi", []byte("a"))
	ch := mustNew(t, opensshConfig(srv))
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	doc, ack := readDoc(t, ch)
	doc.Body.Close()
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}

	// The key changes under a running channel: it reconnects, is refused,
	// and says why; nothing is fetched.
	srv.WriteFile("/data/out/b.edi", []byte("b"))
	srv.SwapHostKey()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var me *sshkeys.MismatchError
	var err error
	for !errors.As(err, &me) { // connection refused while sshd restarts
		var doc channels.Document
		doc, _, err = ch.Read(ctx)
		if err == nil {
			t.Fatalf("read %q from a server with a swapped host key", doc.Name)
		}
		if ctx.Err() != nil {
			t.Fatalf("Read after the key swap = %v, want a host key mismatch", err)
		}
	}
	wantHost := fmt.Sprintf("127.0.0.1:%d", srv.Port)
	for _, want := range []string{wantHost, "SHA256:", "ssh-keygen -lf -", srv.KnownHostsFile} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if me.Fingerprint == srv.HostKeyFingerprint {
		t.Errorf("mismatch reports the pinned fingerprint %s as presented", me.Fingerprint)
	}

	// A new channel refuses to start, with a known_hosts or a fingerprint pin.
	for _, pin := range []struct{ knownHosts, fingerprint string }{
		{srv.KnownHostsFile, ""}, {"", srv.HostKeyFingerprint},
	} {
		cfg := opensshConfig(srv)
		cfg.Server.KnownHostsFile, cfg.Server.HostKeyFingerprint = pin.knownHosts, pin.fingerprint
		fresh := mustNew(t, cfg)
		if err := fresh.Connect(t.Context()); !errors.As(err, &me) {
			t.Errorf("Connect with pin %+v = %v, want a host key mismatch", pin, err)
		}
	}
	if got := hostFiles(t, srv.Path("/data/out")); !slices.Equal(got, []string{"b.edi"}) {
		t.Errorf("inbox = %q, want b.edi untouched", got)
	}
}

func TestOpenSSHKilledMidTransfer(t *testing.T) {
	srv := startOpenSSH(t)
	big := make([]byte, 48<<20)
	for i := range big {
		big[i] = byte(i * 31 >> 7)
	}
	srv.WriteFile("/data/out/big.edi", big)
	ch := mustNew(t, opensshConfig(srv))
	var killed sync.Once
	var wasKilled atomic.Bool
	ch.readHook = func(name string, off int64) {
		if off > 4<<20 {
			killed.Do(func() {
				srv.Kill()
				wasKilled.Store(true)
			})
		}
	}
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	// While sshd is down, Read reports the failing reconnect; the file is
	// neither handed out nor moved.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	doc, _, err := ch.Read(ctx)
	if err == nil {
		doc.Body.Close()
		t.Fatalf("read %q (%d bytes) across a killed server", doc.Name, doc.Size())
	}
	if !wasKilled.Load() {
		t.Fatalf("Read = %v before the transfer reached the kill", err)
	}
	if got := hostFiles(t, srv.Path("/data/out/done")); len(got) != 0 {
		t.Fatalf("archive = %q after a failed transfer", got)
	}
	srv.Restart()
	for {
		doc, ack, err := ch.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("no document after the restart: %v", err)
			}
			continue // reconnect failures until the poller sees the server again
		}
		got, _ := doc.Body.Bytes()
		if doc.Name != "big.edi" || !bytes.Equal(got, big) || doc.SHA256 != sha256.Sum256(big) {
			t.Fatalf("read %q, %d bytes; want big.edi whole (%d bytes)", doc.Name, len(got), len(big))
		}
		doc.Body.Close()
		if err := ack(t.Context(), channels.Committed()); err != nil {
			t.Fatal(err)
		}
		break
	}
	if got := hostFiles(t, srv.Path("/data/out/done")); !slices.Equal(got, []string{"big.edi"}) {
		t.Errorf("archive = %q, want big.edi once", got)
	}
}

func TestOpenSSHCraftedNames(t *testing.T) {
	srv := startOpenSSH(t)
	good := []string{"a..b.edi", "-rf.edi", "with space.edi", "Bestellung März 注文.edi"}
	for _, name := range good {
		srv.WriteFile("/data/out/"+name, []byte(name))
	}
	srv.WriteFile("/data/out/..hidden.edi", []byte("a dot-file: ignored"))
	srv.WriteFile(`/data/out/back\slash.edi`, []byte("backslash"))
	srv.WriteFile("/data/secret.edi", []byte("outside the inbox"))
	srv.WriteFile("/data/out/target.txt", []byte("inside"))
	for link, target := range map[string]string{
		"link-abs.edi": "/etc/passwd", "link-up.edi": "../secret.edi", "link-in.edi": "target.txt",
	} {
		p := srv.Path("/data/out/" + link)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		os.Lchown(p, srv.UID, srv.GID)
	}
	cfg := opensshConfig(srv)
	cfg.Patterns = []string{"*.edi"}
	ch := mustNew(t, cfg)
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for range good {
		doc, ack := readDoc(t, ch)
		if b, _ := doc.Body.Bytes(); "/data/out/"+string(b) != doc.Meta["path"] {
			t.Errorf("%s: body %q, want the file's own name", doc.Meta["path"], b)
		}
		if strings.ContainsAny(doc.Name, "/\\") || strings.HasPrefix(doc.Name, ".") {
			t.Errorf("Name %q is not one safe path element", doc.Name)
		}
		names = append(names, strings.TrimPrefix(doc.Meta["path"], "/data/out/"))
		doc.Body.Close()
		if err := ack(t.Context(), channels.Committed()); err != nil {
			t.Fatal(err)
		}
	}
	srv.WriteFile("/data/out/zz-sentinel.edi", []byte("z"))
	if doc, _ := readDoc(t, ch); doc.Name != "zz-sentinel.edi" {
		t.Errorf("read %q (%s), want the sentinel: symlinks and backslash names are never taken", doc.Name, doc.Meta["path"])
	}
	slices.Sort(names)
	wantNames := slices.Clone(good)
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("taken %q, want %q", names, wantNames)
	}
	if got := hostFiles(t, srv.Path("/data/out/done")); !slices.Equal(got, wantNames) {
		t.Errorf("archive = %q, want %q", got, wantNames)
	}
	if b, err := os.ReadFile(srv.Path("/data/secret.edi")); err != nil || string(b) != "outside the inbox" {
		t.Errorf("secret.edi = %q, %v; want it untouched", b, err)
	}
	if got := hostFiles(t, srv.Path("/data")); !slices.Equal(got, []string{"secret.edi"}) {
		t.Errorf("/data = %q, want only secret.edi (nothing moved out of the inbox)", got)
	}
	for _, link := range []string{"link-abs.edi", "link-up.edi", "link-in.edi", `back\slash.edi`, "..hidden.edi"} {
		if _, err := os.Lstat(srv.Path("/data/out/" + link)); err != nil {
			t.Errorf("%s: %v, want it left in the inbox", link, err)
		}
	}
}

func TestOpenSSHSend(t *testing.T) {
	srv := startOpenSSH(t)
	ch := mustNew(t, opensshConfig(srv))
	body := bytes.Repeat([]byte("ISA*00*997~"), 800_000) // 8.8 MB
	final := srv.Path("/data/in/997_4711.x12")

	// A reader polling the folder never sees a partial file.
	stop := make(chan struct{})
	var partial atomic.Int64
	var watcher sync.WaitGroup
	watcher.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b, err := os.ReadFile(final); err == nil && !bytes.Equal(b, body) {
				partial.Store(int64(len(b)))
			}
			time.Sleep(time.Millisecond)
		}
	})
	err := ch.Send(t.Context(), "997_4711.x12", body)
	close(stop)
	watcher.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n := partial.Load(); n != 0 {
		t.Errorf("a reader saw a partial 997_4711.x12 of %d bytes", n)
	}
	if got := hostFiles(t, srv.Path("/data/in")); !slices.Equal(got, []string{"997_4711.x12"}) {
		t.Errorf("outbox = %q, want only the file (no .part)", got)
	}
	if err := ch.Send(t.Context(), "997_4711.x12", body); err != nil {
		t.Errorf("second Send: %v", err)
	}
	if err := ch.Send(t.Context(), "997_4711.x12", []byte("other")); !errors.Is(err, ErrConflict) {
		t.Errorf("Send with other bytes = %v, want ErrConflict", err)
	}
	if err := ch.Send(t.Context(), "../escape.x12", body); !errors.Is(err, channels.ErrInvalidName) {
		t.Errorf("Send ../escape.x12 = %v, want ErrInvalidName", err)
	}
}

// BenchmarkPullOpenSSH measures files pulled per second from a real
// OpenSSH server on loopback: list, download, hash, ack (archive), for 850
// small X12 files per iteration.
func BenchmarkPullOpenSSH(b *testing.B) {
	srv := startOpenSSH(b)
	const n = 850
	body := bytes.Repeat([]byte("ISA*00*          *00*          *ZZ*BAUMARKTNORD   *ZZ*TOOLSUPPLY     ~"), 12)
	var step atomic.Int64
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		dir := fmt.Sprintf("/data/run%d", i)
		srv.MkdirAll(dir)
		for j := range n {
			srv.WriteFile(fmt.Sprintf("%s/po-%04d.edi", dir, j), body)
		}
		cfg := opensshConfig(srv)
		cfg.Inbox, cfg.Archive = dir, dir+"/done"
		cfg.Poll = time.Millisecond
		cfg.Clock = func() time.Time { return time.Unix(step.Add(3600), 0) }
		ch := mustNew(b, cfg)
		b.StartTimer()
		start := time.Now()
		if err := ch.Connect(b.Context()); err != nil {
			b.Fatal(err)
		}
		// Acks run apart from Read, as intake's ack loop runs them.
		acks := make(chan channels.AckFunc, n)
		var ackers sync.WaitGroup
		for range 4 {
			ackers.Go(func() {
				for ack := range acks {
					if err := ack(context.Background(), channels.Committed()); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for range n {
			doc, ack := readDoc(b, ch)
			doc.Body.Close()
			acks <- ack
		}
		close(acks)
		ackers.Wait()
		total += time.Since(start)
		b.StopTimer()
		ch.Close(b.Context())
		if got := len(hostFiles(b, srv.Path(dir+"/done"))); got != n {
			b.Fatalf("archived %d, want %d", got, n)
		}
		os.RemoveAll(srv.Path(dir))
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "files/s")
}
