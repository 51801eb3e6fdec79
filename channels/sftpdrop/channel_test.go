package sftpdrop_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/sftpdrop"
	"github.com/ordergate/ordergate/channels/sftpdrop/sftptest"
	"github.com/ordergate/ordergate/channels/sshkeys"
)

// logSink is a slog handler that hands every record's message and
// attributes to a channel, for tests that wait for something to be
// logged.
type logSink struct{ lines chan string }

func newLogSink() *logSink { return &logSink{lines: make(chan string, 1024)} }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	select {
	case s.lines <- b.String():
	default:
	}
	return nil
}
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

// waitLog waits until a record containing all of parts is logged.
func (s *logSink) waitLog(t *testing.T, parts ...string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-s.lines:
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return line
			}
		case <-timeout:
			t.Fatalf("no log record with %q", parts)
		}
	}
}

func connect(t *testing.T, cfg sftpdrop.Config, log *slog.Logger) *sftpdrop.Channel {
	t.Helper()
	ch, err := sftpdrop.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close(context.Background()) })
	return ch
}

func read(t *testing.T, ch *sftpdrop.Channel) (channels.Document, channels.AckFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	doc, ack, err := ch.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	t.Cleanup(func() { doc.Body.Close() })
	return doc, ack
}

func inboxOf(t *testing.T, srv *sftptest.Server) string {
	t.Helper()
	dir := filepath.Join(srv.Dir, "inbox")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

func bodyOf(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func TestEarlyEOFIsNeverADocument(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	want := bodyOf(300_000, 1)
	srv.SetFaults(sftptest.Faults{EOFAt: 100_000})
	putFile(t, inbox, "a-po.edi", want)
	sink := newLogSink()
	ch := connect(t, testConfig(srv), slog.New(sink))

	sink.waitLog(t, "taking file failed", "a-po.edi", "short read")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if doc, _, err := ch.Read(ctx); err == nil {
		t.Fatalf("read %q (%d bytes) from a server cutting files short", doc.Name, doc.Size())
	}
	if got := regularFiles(t, inbox); !slices.Equal(got, []string{"a-po.edi"}) {
		t.Errorf("inbox = %q, want the file left in place", got)
	}

	srv.SetFaults(sftptest.Faults{})
	doc, ack := read(t, ch)
	got, _ := doc.Body.Bytes()
	if !bytes.Equal(got, want) || doc.SHA256 != sha256.Sum256(want) {
		t.Fatalf("document after the fault: %d bytes, want %d whole", len(got), len(want))
	}
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
}

func TestCraftedListingNamesStayInside(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	crafted := map[string]string{
		"evil1.edi": "../evil1.edi",
		"evil2.edi": "/etc/passwd",
		"evil3.edi": "a/b.edi",
		"evil4.edi": "x\x00y.edi",
		"evil5.edi": "..",
		"evil6.edi": `..\..\evil6.edi`,
	}
	for name := range crafted {
		putFile(t, inbox, name, []byte(name))
	}
	putFile(t, inbox, "good.edi", []byte("good"))
	srv.SetFaults(sftptest.Faults{Names: crafted})
	sink := newLogSink()
	ch := connect(t, testConfig(srv), slog.New(sink))

	doc, ack := read(t, ch)
	if doc.Name != "good.edi" {
		t.Fatalf("read %q, want only good.edi", doc.Name)
	}
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	sink.waitLog(t, "not one plain file name")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if doc, _, err := ch.Read(ctx); err == nil {
		t.Fatalf("read %q from a crafted name", doc.Meta["path"])
	}
	if got := regularFiles(t, filepath.Join(srv.Dir, "inbox", "archive")); !slices.Equal(got, []string{"good.edi"}) {
		t.Errorf("archive = %q, want only good.edi", got)
	}
	if got := len(regularFiles(t, inbox)); got != len(crafted) {
		t.Errorf("inbox has %d files, want the %d crafted ones untouched", got, len(crafted))
	}
	if got := regularFiles(t, srv.Dir); len(got) != 0 {
		t.Errorf("files appeared outside the inbox: %q", got)
	}
}

func TestPasswordAuthAndFingerprintPin(t *testing.T) {
	srv := sftptest.Start(t)
	putFile(t, inboxOf(t, srv), "a.edi", []byte("x"))
	cfg := testConfig(srv)
	cfg.Server.PrivateKeyFile, cfg.Server.KnownHostsFile = "", ""
	cfg.Server.Password, cfg.Server.HostKeyFingerprint = srv.Password, srv.HostKeyFingerprint
	ch := connect(t, cfg, nil)
	if doc, _ := read(t, ch); doc.Name != "a.edi" {
		t.Errorf("read %q, want a.edi", doc.Name)
	}
}

func TestHostKeyRefused(t *testing.T) {
	srv := sftptest.Start(t)
	cfg := testConfig(srv)
	cfg.Server.KnownHostsFile = ""
	cfg.Server.HostKeyFingerprint = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
	ch, err := sftpdrop.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Connect(t.Context())
	var me *sshkeys.MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Connect = %v, want a host key mismatch", err)
	}
	for _, want := range []string{sftptest.Host + ":22", srv.HostKeyFingerprint, "ssh-keyscan -p 22 " + sftptest.Host + " | ssh-keygen -lf -"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, _, err := ch.Read(t.Context()); !errors.Is(err, channels.ErrNotConnected) {
		t.Errorf("Read after a refused Connect = %v, want ErrNotConnected", err)
	}
}

func TestNew(t *testing.T) {
	srv := sftptest.Start(t)
	tests := []struct {
		name   string
		change func(c *sftpdrop.Config)
		want   string
	}{
		{"no pin", func(c *sftpdrop.Config) { c.Server.KnownHostsFile = "" }, "no host key pin"},
		{"bad fingerprint", func(c *sftpdrop.Config) { c.Server.HostKeyFingerprint = "MD5:aa:bb" }, "SHA256:"},
		{"missing known_hosts", func(c *sftpdrop.Config) { c.Server.KnownHostsFile = "/nonexistent/known_hosts" }, "known_hosts"},
		{"no credentials", func(c *sftpdrop.Config) { c.Server.PrivateKeyFile = "" }, "no credentials"},
		{"no inbox", func(c *sftpdrop.Config) { c.Inbox = "" }, "inbox is required"},
		{"no archive", func(c *sftpdrop.Config) { c.Archive = "" }, "archive or delete_after_ingest"},
		{"both", func(c *sftpdrop.Config) { c.DeleteAfterIngest = true }, "exclude each other"},
		{"archive is inbox", func(c *sftpdrop.Config) { c.Archive = "." }, "archive is the inbox"},
		{"bad pattern", func(c *sftpdrop.Config) { c.Patterns = []string{"a/*"} }, "not a file name glob"},
		{"negative", func(c *sftpdrop.Config) { c.MaxConcurrent = -1 }, "max_concurrent -1"},
		{"negative min_age", func(c *sftpdrop.Config) { c.MinAge = -2 }, "min_age -2ns is negative"},
		{"no host", func(c *sftpdrop.Config) { c.Server.Host = "" }, "host is required"},
	}
	t.Run("no min age is valid", func(t *testing.T) {
		cfg := testConfig(srv)
		cfg.MinAge = sftpdrop.NoMinAge
		if _, err := sftpdrop.New(cfg, nil); err != nil {
			t.Errorf("New with NoMinAge = %v", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(srv)
			tt.change(&cfg)
			_, err := sftpdrop.New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := sftpdrop.New(testConfig(srv), nil); err != nil {
		t.Errorf("New with a good config: %v", err)
	}
}

func TestTooLargeIsRejectedWithReason(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	putFile(t, inbox, "big.edi", bodyOf(100, 2))
	cfg := testConfig(srv)
	cfg.MaxFileBytes = 10
	ch := connect(t, cfg, nil)
	doc, ack := read(t, ch)
	if !errors.Is(doc.Err, channels.ErrTooLarge) || doc.Size() != 0 || doc.SourceKey == "" {
		t.Fatalf("doc Err %v, size %d, key %q; want ErrTooLarge, no body, a key", doc.Err, doc.Size(), doc.SourceKey)
	}
	if err := ack(t.Context(), channels.Rejected("larger than 10 bytes")); err != nil {
		t.Fatal(err)
	}
	errDir := filepath.Join(inbox, "error") // Archive/../error, Archive being inbox/archive
	if got := regularFiles(t, errDir); !slices.Equal(got, []string{"big.edi", "big.edi.error.txt"}) {
		t.Errorf("error folder = %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(errDir, "big.edi.error.txt")); !strings.Contains(string(b), "larger than 10 bytes") {
		t.Errorf("sidecar = %q", b)
	}
}

func TestDoneFileMode(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	putFile(t, inbox, "a-waiting.edi", []byte("no done file"))
	putFile(t, inbox, "b-ready.edi", []byte("ready"))
	putFile(t, inbox, "b-ready.edi.ok", nil)
	cfg := testConfig(srv)
	cfg.DoneFileSuffix = ".ok"
	ch := connect(t, cfg, nil)
	doc, ack := read(t, ch)
	if doc.Name != "b-ready.edi" {
		t.Fatalf("read %q, want b-ready.edi (a-waiting.edi has no done-file)", doc.Name)
	}
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if got := regularFiles(t, filepath.Join(inbox, "archive")); !slices.Equal(got, []string{"b-ready.edi", "b-ready.edi.ok"}) {
		t.Errorf("archive = %q, want the file and its done-file", got)
	}
	putFile(t, inbox, "a-waiting.edi.ok", nil)
	if doc, _ := read(t, ch); doc.Name != "a-waiting.edi" {
		t.Errorf("read %q, want a-waiting.edi once its done-file came", doc.Name)
	}
}

func TestDeleteAfterIngest(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	putFile(t, inbox, "a.edi", []byte("x"))
	cfg := testConfig(srv)
	cfg.Archive, cfg.DeleteAfterIngest = "", true
	ch := connect(t, cfg, nil)
	_, ack := read(t, ch)
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if got := regularFiles(t, inbox); len(got) != 0 {
		t.Errorf("inbox = %q, want empty", got)
	}
	if _, err := os.Stat(filepath.Join(inbox, "archive")); !os.IsNotExist(err) {
		t.Errorf("archive folder made in delete mode: %v", err)
	}
}

func TestArchiveNameCollision(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	archive := filepath.Join(inbox, "archive")
	if err := os.Mkdir(archive, 0o750); err != nil {
		t.Fatal(err)
	}
	putFile(t, archive, "po.edi", []byte("yesterday"))
	putFile(t, inbox, "po.edi", []byte("today"))
	ch := connect(t, testConfig(srv), nil)
	_, ack := read(t, ch)
	if err := ack(t.Context(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	got := regularFiles(t, archive)
	if len(got) != 2 || !slices.Contains(got, "po.edi") {
		t.Fatalf("archive = %q, want po.edi and a suffixed one", got)
	}
	if b, _ := os.ReadFile(filepath.Join(archive, "po.edi")); string(b) != "yesterday" {
		t.Errorf("the archived po.edi was replaced: %q", b)
	}
	other := got[0]
	if other == "po.edi" {
		other = got[1]
	}
	if !strings.HasPrefix(other, "po.") || !strings.HasSuffix(other, ".edi") {
		t.Errorf("collision name %q, want po.<stamp>.edi", other)
	}
}

func TestReconnectsAfterConnectionDrop(t *testing.T) {
	srv := sftptest.Start(t)
	inbox := inboxOf(t, srv)
	putFile(t, inbox, "a.edi", []byte("a"))
	ch := connect(t, testConfig(srv), nil)
	doc, ack := read(t, ch)
	if doc.Name != "a.edi" {
		t.Fatalf("read %q", doc.Name)
	}
	srv.DropConnections()
	putFile(t, inbox, "b.edi", []byte("b"))
	// The ack of a document read before the drop either works on the new
	// connection or fails with ErrNotConnected (and the file comes again).
	err := ack(t.Context(), channels.Committed())
	if err != nil && !errors.Is(err, channels.ErrNotConnected) {
		t.Fatalf("ack across a drop = %v", err)
	}
	seen := map[string]bool{}
	for !seen["b.edi"] {
		doc, ack := read(t, ch)
		seen[doc.Name] = true
		if err := ack(t.Context(), channels.Committed()); err != nil {
			t.Fatal(err)
		}
	}
	if srv.Dials() < 2 {
		t.Errorf("dials = %d, want a reconnect", srv.Dials())
	}
	if got := regularFiles(t, inbox); len(got) != 0 {
		t.Errorf("inbox = %q, want empty", got)
	}
}

func TestSendConflict(t *testing.T) {
	srv := sftptest.Start(t)
	ch, err := sftpdrop.New(testConfig(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close(context.Background())
	if err := ch.Send(t.Context(), "997_1.x12", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(t.Context(), "997_1.x12", []byte("two")); !errors.Is(err, sftpdrop.ErrConflict) {
		t.Errorf("Send with other bytes = %v, want ErrConflict", err)
	}
	if b, _ := os.ReadFile(filepath.Join(srv.Dir, "outbox", "997_1.x12")); string(b) != "one" {
		t.Errorf("outbox file = %q, want the first bytes kept", b)
	}
}
