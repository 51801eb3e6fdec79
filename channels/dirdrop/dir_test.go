package dirdrop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// manualClock is a clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *manualClock {
	return &manualClock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testDir returns a connected Dir on a fresh inbox, with a manual clock.
func testDir(t *testing.T, cfg Config) (*Dir, string, *manualClock) {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = t.TempDir()
	}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	clock := newClock()
	cfg.Clock = clock.Now
	cfg.Poll = time.Millisecond
	cfg.SpoolDir = t.TempDir()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d, cfg.Path, clock
}

// ready lists the inbox once and returns the names that are ready.
func ready(t *testing.T, d *Dir) []string {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.scan(d.conn); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range d.conn.queue {
		names = append(names, c.name)
	}
	d.conn.queue = nil
	return names
}

func write(t *testing.T, path string, body string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func read(t *testing.T, d *Dir) (channels.Document, channels.AckFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	doc, ack, err := d.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	t.Cleanup(func() { doc.Body.Close() })
	return doc, ack
}

func bodyOf(t *testing.T, doc channels.Document) string {
	t.Helper()
	b, err := io.ReadAll(doc.Body.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMinAgeNone: with NoMinAge a file is taken on the second listing
// that finds it unchanged, the clock standing still; with the default
// it waits DefaultMinAge.
func TestMinAgeNone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		minAge time.Duration
		second []string // ready on the second listing, no time passed
		after  []string // ready once DefaultMinAge passed (not taken: still ready)
	}{
		{"none", NoMinAge, []string{"po.edi"}, []string{"po.edi"}},
		{"default", 0, nil, []string{"po.edi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, inbox, clock := testDir(t, Config{MinAge: tc.minAge})
			write(t, filepath.Join(inbox, "po.edi"), "ISA*00*", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
			if got := ready(t, d); len(got) != 0 {
				t.Fatalf("first listing: ready = %q, want none", got)
			}
			if got := ready(t, d); !slices.Equal(got, tc.second) {
				t.Fatalf("second listing: ready = %q, want %q", got, tc.second)
			}
			clock.Advance(DefaultMinAge)
			if got := ready(t, d); !slices.Equal(got, tc.after) {
				t.Fatalf("after DefaultMinAge: ready = %q, want %q", got, tc.after)
			}
		})
	}
}

func TestHalfWrittenFileWaitsUntilStable(t *testing.T) {
	d, inbox, clock := testDir(t, Config{MinAge: 10 * time.Second})
	file := filepath.Join(inbox, "po.edi")
	// The writer keeps the mtime fixed (as some SFTP clients do) and only
	// the size tells that it is still writing.
	mtime := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		name    string
		content string
		advance time.Duration
		want    []string
	}{
		{"first sighting", "ISA*00*", 0, nil},
		{"unchanged, too young", "ISA*00*", 9 * time.Second, nil},
		{"grew: tracking restarts", "ISA*00*BEG", 5 * time.Second, nil},
		{"unchanged only 9s since it grew", "ISA*00*BEG", 9 * time.Second, nil},
		{"stable for MinAge", "ISA*00*BEG", time.Second, []string{"po.edi"}},
	}
	for _, s := range steps {
		write(t, file, s.content, mtime)
		clock.Advance(s.advance)
		if got := ready(t, d); !slices.Equal(got, s.want) {
			t.Fatalf("%s: ready = %q, want %q", s.name, got, s.want)
		}
	}
	doc, _ := read(t, d)
	if got, want := bodyOf(t, doc), "ISA*00*BEG"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

// appendOnRead appends to the file it wraps at the first Read: a writer
// still busy while the file is read.
type appendOnRead struct {
	f    *os.File
	path string
	once sync.Once
	err  error
}

func (a *appendOnRead) Read(p []byte) (int, error) {
	a.once.Do(func() {
		w, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			_, err = w.WriteString(" and more")
			w.Close()
		}
		a.err = err
	})
	if a.err != nil {
		return 0, a.err
	}
	return a.f.Read(p)
}

func TestWriteDuringReadIsDiscarded(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	file := filepath.Join(inbox, "po.edi")
	write(t, file, "ISA", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	d.readVia = func(f *os.File) io.Reader { return &appendOnRead{f: f, path: file} }
	ready(t, d)
	clock.Advance(time.Hour)
	d.mu.Lock()
	cand, ok := d.next(d.conn)
	d.mu.Unlock()
	if !ok {
		t.Fatal("no candidate ready")
	}
	if _, err := d.take(context.Background(), d.conn, cand); !errors.Is(err, errChanged) {
		t.Fatalf("take of a file written during the read = %v, want errChanged", err)
	}
	d.mu.Lock()
	delete(d.conn.inflight, cand.name)
	delete(d.conn.seen, cand.name)
	d.mu.Unlock()
	d.readVia = nil
	// Stable again later: taken whole.
	ready(t, d)
	clock.Advance(time.Hour)
	doc, _ := read(t, d)
	if got, want := bodyOf(t, doc), "ISA and more"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestMtimeChangeRestartsStability(t *testing.T) {
	d, inbox, clock := testDir(t, Config{MinAge: 10 * time.Second})
	file := filepath.Join(inbox, "po.edi")
	write(t, file, "same size", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	ready(t, d)
	clock.Advance(20 * time.Second)
	write(t, file, "same size", time.Date(2026, 2, 1, 0, 0, 1, 0, time.UTC))
	if got := ready(t, d); len(got) != 0 {
		t.Fatalf("ready after an mtime change = %q, want none", got)
	}
	clock.Advance(10 * time.Second)
	if got, want := ready(t, d), []string{"po.edi"}; !slices.Equal(got, want) {
		t.Fatalf("ready = %q, want %q", got, want)
	}
}

func TestIgnoredNames(t *testing.T) {
	files := []string{"po.edi.part", "po.edi.tmp", ".po.edi", "po.txt", "sub/po.edi", "done/old.edi", "error/bad.edi", "ok.x12", "ok.edi"}
	tests := []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"default pattern", nil, []string{"ok.edi", "ok.x12", "po.txt"}},
		{"patterns", []string{"*.edi", "*.x12"}, []string{"ok.edi", "ok.x12"}},
		{"patterns naming partial files", []string{"*.part", "*.tmp", ".*"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, inbox, clock := testDir(t, Config{Patterns: tt.patterns})
			for _, name := range files {
				write(t, filepath.Join(inbox, name), "x", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
			}
			if err := os.Mkdir(filepath.Join(inbox, "dir.edi"), 0o750); err != nil {
				t.Fatal(err)
			}
			ready(t, d)
			clock.Advance(time.Hour)
			if got := ready(t, d); !slices.Equal(got, tt.want) {
				t.Errorf("ready = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCloseAndCancelUnblockLongPoll(t *testing.T) {
	tests := []struct {
		name    string
		unblock func(d *Dir, cancel context.CancelFunc)
		want    error
	}{
		{"Close", func(d *Dir, _ context.CancelFunc) { d.Close(context.Background()) }, channels.ErrNotConnected},
		{"cancel", func(_ *Dir, cancel context.CancelFunc) { cancel() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, _ := testDir(t, Config{})
			d.cfg.Poll = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, _, err := d.Read(ctx)
				done <- err
			}()
			// Wait until Read has listed the empty inbox and sleeps.
			deadline := time.Now().Add(10 * time.Second)
			for {
				d.mu.Lock()
				scanned := d.conn.scans > 0
				d.mu.Unlock()
				if scanned {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("Read never listed the inbox")
				}
				time.Sleep(time.Millisecond)
			}
			tt.unblock(d, cancel)
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) {
					t.Errorf("Read = %v, want %v", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s did not unblock a Read waiting for a 1h poll", tt.name)
			}
		})
	}
}

func TestDoneFileMode(t *testing.T) {
	d, inbox, clock := testDir(t, Config{DoneFileSuffix: ".ok", MinAge: time.Hour})
	write(t, filepath.Join(inbox, "po.edi"), "ISA", time.Time{})
	ready(t, d)
	clock.Advance(2 * time.Hour)
	if got := ready(t, d); len(got) != 0 {
		t.Fatalf("ready without a done-file = %q, want none", got)
	}
	write(t, filepath.Join(inbox, "po.edi.ok"), "", time.Time{})
	if got, want := ready(t, d), []string{"po.edi"}; !slices.Equal(got, want) {
		t.Fatalf("ready with done-file = %q, want %q (at once, no MinAge)", got, want)
	}
	doc, ack := read(t, d)
	if got, want := doc.Meta["done_file"], "po.edi.ok"; got != want {
		t.Errorf(`Meta["done_file"] = %q, want %q`, got, want)
	}
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if got := regular(t, inbox); len(got) != 0 {
		t.Errorf("inbox after ack = %q, want empty (data and done-file removed)", got)
	}
	if got, want := regular(t, filepath.Join(inbox, "done")), []string{"po.edi"}; !slices.Equal(got, want) {
		t.Errorf("done/ = %q, want %q", got, want)
	}
}

func TestSymlinkEscapeRefused(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.edi")
	write(t, secret, "secret", time.Time{})
	d, inbox, clock := testDir(t, Config{})
	links := map[string]string{
		"abs.edi":    secret,
		"rel.edi":    filepath.Join("..", filepath.Base(outside), "secret.edi"),
		"inside.edi": "sub/real.edi",
	}
	write(t, filepath.Join(inbox, "sub", "real.edi"), "inside", time.Time{})
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(inbox, name)); err != nil {
			t.Fatal(err)
		}
	}
	ready(t, d)
	clock.Advance(time.Hour)
	if got, want := ready(t, d), []string{"inside.edi"}; !slices.Equal(got, want) {
		t.Fatalf("ready = %q, want only the link inside the inbox %q", got, want)
	}
	// Even when asked directly, the root refuses to open the escaping ones.
	for _, name := range []string{"abs.edi", "rel.edi"} {
		c := candidate{name: name}
		if _, err := d.take(context.Background(), d.conn, c); err == nil {
			t.Errorf("take(%s) succeeded, want refused", name)
		}
	}
	doc, ack := read(t, d)
	if got, want := bodyOf(t, doc), "inside"; got != want {
		t.Errorf("body via inside link = %q, want %q", got, want)
	}
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "secret" {
		t.Errorf("file outside the inbox = %q, %v; want untouched", b, err)
	}
	for _, name := range []string{"abs.edi", "rel.edi"} {
		if _, err := os.Lstat(filepath.Join(inbox, name)); err != nil {
			t.Errorf("refused link %s: %v, want left in the inbox", name, err)
		}
	}
}

func TestTraversalNamesStayInside(t *testing.T) {
	// A hostile name cannot come from a directory listing, but the move
	// and read paths must still refuse one if it ever reached them.
	d, _, _ := testDir(t, Config{})
	for _, name := range []string{"../x.edi", "/etc/passwd"} {
		if _, err := d.take(context.Background(), d.conn, candidate{name: name}); err == nil {
			t.Errorf("take(%q) succeeded, want refused", name)
		}
	}
}

func TestCollisionInDone(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	done := filepath.Join(inbox, "done")
	write(t, filepath.Join(done, "po.edi"), "older po", time.Time{})
	write(t, filepath.Join(done, "po.1.edi"), "older po 1", time.Time{})
	write(t, filepath.Join(inbox, "po.edi"), "new po", time.Time{})
	ready(t, d)
	clock.Advance(time.Hour)
	_, ack := read(t, d)
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"po.edi": "older po", "po.1.edi": "older po 1", "po.2.edi": "new po"}
	for name, body := range want {
		if b, err := os.ReadFile(filepath.Join(done, name)); err != nil || string(b) != body {
			t.Errorf("done/%s = %q, %v; want %q", name, b, err, body)
		}
	}
	if got := regular(t, inbox); len(got) != 0 {
		t.Errorf("inbox after ack = %q, want empty", got)
	}
}

func TestCrashBetweenLinkAndRemove(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	write(t, filepath.Join(inbox, "po.edi"), "po", time.Time{})
	// A previous run linked the file into done/ and died before removing
	// it from the inbox.
	if err := os.Link(filepath.Join(inbox, "po.edi"), filepath.Join(inbox, "done", "po.edi")); err != nil {
		t.Fatal(err)
	}
	ready(t, d)
	clock.Advance(time.Hour)
	_, ack := read(t, d)
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if got, want := regular(t, filepath.Join(inbox, "done")), []string{"po.edi"}; !slices.Equal(got, want) {
		t.Errorf("done/ = %q, want %q (no second copy)", got, want)
	}
	if got := regular(t, inbox); len(got) != 0 {
		t.Errorf("inbox = %q, want empty", got)
	}
}

func TestRejectedWritesSidecar(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	errDir := filepath.Join(inbox, "error")
	write(t, filepath.Join(errDir, "bad.edi"), "earlier", time.Time{})
	write(t, filepath.Join(inbox, "bad.edi"), "garbage", time.Time{})
	ready(t, d)
	clock.Advance(time.Hour)
	_, ack := read(t, d)
	reason := "segment 1: ISA expected, got \"garbage\""
	if err := ack(context.Background(), channels.Rejected(reason)); err != nil {
		t.Fatal(err)
	}
	if got, want := regular(t, errDir), []string{"bad.1.edi", "bad.1.edi.error.txt", "bad.edi"}; !slices.Equal(got, want) {
		t.Fatalf("error/ = %q, want %q", got, want)
	}
	b, err := os.ReadFile(filepath.Join(errDir, "bad.1.edi.error.txt"))
	if err != nil || string(b) != reason+"\n" {
		t.Errorf("sidecar = %q, %v; want %q", b, err, reason+"\n")
	}
}

func TestReplacedBeforeAckIsLeftAlone(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	file := filepath.Join(inbox, "po.edi")
	write(t, file, "first", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	ready(t, d)
	clock.Advance(time.Hour)
	first, ack := read(t, d)
	write(t, file, "second version", time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC))
	if err := ack(context.Background(), channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if got := regular(t, filepath.Join(inbox, "done")); len(got) != 0 {
		t.Fatalf("done/ = %q, want empty: the new file must not be moved", got)
	}
	ready(t, d)
	clock.Advance(time.Hour)
	second, _ := read(t, d)
	if got, want := bodyOf(t, second), "second version"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if second.SourceKey == first.SourceKey {
		t.Errorf("replaced file has the old key %q", first.SourceKey)
	}
}

func TestTooLargeHandedOverWithError(t *testing.T) {
	d, inbox, clock := testDir(t, Config{MaxFileBytes: 10})
	write(t, filepath.Join(inbox, "big.edi"), strings.Repeat("x", 11), time.Time{})
	write(t, filepath.Join(inbox, "small.edi"), strings.Repeat("x", 10), time.Time{})
	ready(t, d)
	clock.Advance(time.Hour)
	seen := map[string]channels.Document{}
	var acks []channels.AckFunc
	for range 2 {
		doc, ack := read(t, d)
		seen[doc.Name] = doc
		acks = append(acks, ack)
	}
	big, small := seen["big.edi"], seen["small.edi"]
	if !errors.Is(big.Err, channels.ErrTooLarge) {
		t.Errorf("big.edi Err = %v, want ErrTooLarge", big.Err)
	}
	if got := big.Size(); got != 0 {
		t.Errorf("big.edi body size = %d, want 0", got)
	}
	if big.SourceKey == "" || strings.Contains(big.SourceKey, "sha256") {
		t.Errorf("big.edi SourceKey = %q, want one without a hash", big.SourceKey)
	}
	if small.Err != nil || bodyOf(t, small) != strings.Repeat("x", 10) {
		t.Errorf("small.edi = %v, %q; want the whole body", small.Err, bodyOf(t, small))
	}
	for _, ack := range acks {
		if err := ack(context.Background(), channels.Rejected("too large")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSourceKey(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	mtime := time.Date(2026, 2, 1, 12, 0, 0, 123456789, time.UTC)
	write(t, filepath.Join(inbox, "po 1.edi"), "abc", mtime)
	ready(t, d)
	clock.Advance(time.Hour)
	doc, _ := read(t, d)
	want := `size=3 mtime=1769947200123456789 sha256=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad path="po 1.edi"`
	if doc.SourceKey != want {
		t.Errorf("SourceKey = %q, want %q", doc.SourceKey, want)
	}
	if got, want := doc.Meta["mtime"], "2026-02-01T12:00:00.123456789Z"; got != want {
		t.Errorf(`Meta["mtime"] = %q, want %q`, got, want)
	}
	if got, want := doc.Received, clock.Now(); !got.Equal(want) {
		t.Errorf("Received = %v, want the injected clock's %v", got, want)
	}
}

func TestSeparateDoneAndErrorDirs(t *testing.T) {
	base := t.TempDir()
	inbox := filepath.Join(base, "in")
	if err := os.Mkdir(inbox, 0o750); err != nil {
		t.Fatal(err)
	}
	d, _, clock := testDir(t, Config{Path: inbox, DoneDir: filepath.Join(base, "archive", "done"), ErrorDir: "../failed"})
	write(t, filepath.Join(inbox, "a.edi"), "a", time.Time{})
	write(t, filepath.Join(inbox, "b.edi"), "b", time.Time{})
	ready(t, d)
	clock.Advance(time.Hour)
	for range 2 {
		doc, ack := read(t, d)
		r := channels.Committed()
		if doc.Name == "b.edi" {
			r = channels.Rejected("no")
		}
		if err := ack(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := regular(t, filepath.Join(base, "archive", "done")), []string{"a.edi"}; !slices.Equal(got, want) {
		t.Errorf("done = %q, want %q", got, want)
	}
	if got, want := regular(t, filepath.Join(base, "failed")), []string{"b.edi", "b.edi.error.txt"}; !slices.Equal(got, want) {
		t.Errorf("failed = %q, want %q", got, want)
	}
}

func TestConnectFailsWithoutInbox(t *testing.T) {
	d, err := New(Config{Name: "x", Path: filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(context.Background()); err == nil {
		t.Error("Connect on a missing inbox succeeded, want an error")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"valid", Config{Name: "a", Path: "/in"}, nil},
		{"missing all", Config{}, []string{"name is required", "path is required"}},
		{"bad pattern", Config{Name: "a", Path: "/in", Patterns: []string{"[", "a/b"}}, []string{`pattern "["`, `pattern "a/b"`}},
		{"negative durations", Config{Name: "a", Path: "/in", Poll: -1, MinAge: -2}, []string{"poll -1ns is negative", "min_age -2ns is negative"}},
		{"no min age", Config{Name: "a", Path: "/in", MinAge: NoMinAge}, nil},
		{"negative max", Config{Name: "a", Path: "/in", MaxFileBytes: -1}, []string{"max_file_bytes -1"}},
		{"suffix with slash", Config{Name: "a", Path: "/in", DoneFileSuffix: "/ok"}, []string{"done_file_suffix"}},
		{"done is inbox", Config{Name: "a", Path: "/in", DoneDir: "/in"}, []string{"done_dir is the inbox"}},
		{"error is inbox", Config{Name: "a", Path: "/in", ErrorDir: "."}, []string{"error_dir is the inbox"}},
		{"done is error", Config{Name: "a", Path: "/in", DoneDir: "x", ErrorDir: "/in/x"}, []string{"same folder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want errors %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestOutboxConflict(t *testing.T) {
	dir := t.TempDir()
	o := &Outbox{Dir: dir}
	ctx := context.Background()
	created, err := o.Write(ctx, "855_1.x12", []byte("one"))
	if err != nil || !created {
		t.Fatalf("first Write = %v, %v; want created", created, err)
	}
	created, err = o.Write(ctx, "855_1.x12", []byte("one"))
	if err != nil || created {
		t.Fatalf("same Write again = %v, %v; want not created, nil", created, err)
	}
	if err := o.Send(ctx, "855_1.x12", []byte("two")); !errors.Is(err, ErrConflict) {
		t.Fatalf("Send with other content = %v, want ErrConflict", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "855_1.x12")); !bytes.Equal(b, []byte("one")) {
		t.Errorf("file = %q, want the first content kept", b)
	}
	// A stale .part from a crash is overwritten, not a problem.
	write(t, filepath.Join(dir, "855_2.x12.part"), "stale partial", time.Time{})
	if err := o.Send(ctx, "855_2.x12", []byte("full")); err != nil {
		t.Fatal(err)
	}
	if got, want := regular(t, dir), []string{"855_1.x12", "855_2.x12"}; !slices.Equal(got, want) {
		t.Errorf("outbox = %q, want %q", got, want)
	}
}

func regular(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestReadyFilesAreNotLookedAtAgain: a backlog of ready files is listed
// again while it drains without a stat of each file each time, and a file
// changed after it was found ready is still never taken half-written.
func TestReadyFilesAreNotLookedAtAgain(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	mtime := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"a.edi", "b.edi", "c.edi"} {
		write(t, filepath.Join(inbox, name), "ISA "+name, mtime)
	}
	if got := ready(t, d); got != nil {
		t.Fatalf("first listing: ready = %q, want none", got)
	}
	clock.Advance(time.Hour)
	want := []string{"a.edi", "b.edi", "c.edi"}
	if got := ready(t, d); !slices.Equal(got, want) {
		t.Fatalf("second listing: ready = %q, want %q", got, want)
	}
	// The done and error folders sit in the inbox and are looked at (and
	// refused) on every listing; the three files are not, once ready.
	entries, err := os.ReadDir(inbox)
	if err != nil {
		t.Fatal(err)
	}
	others := len(entries) - 3
	before := d.conn.stats
	for i := range 2 {
		if got := ready(t, d); !slices.Equal(got, want) {
			t.Fatalf("listing %d: ready = %q, want %q", i+3, got, want)
		}
	}
	if got := d.conn.stats - before; got != 2*others {
		t.Errorf("entries looked at in two more listings = %d, want %d (the %d folders, not the ready files)", got, 2*others, others)
	}
	// b changes after it was found ready: the stale listing offers it, the
	// take sees the change, and the new content comes whole once stable.
	write(t, filepath.Join(inbox, "b.edi"), "ISA b.edi, second version", mtime.Add(time.Minute))
	var bodies []string
	for range 2 {
		doc, _ := read(t, d)
		bodies = append(bodies, bodyOf(t, doc))
	}
	if want := []string{"ISA a.edi", "ISA c.edi"}; !slices.Equal(bodies, want) {
		t.Errorf("bodies = %q, want %q (b changed: not taken from the stale listing)", bodies, want)
	}
	if got := ready(t, d); got != nil {
		t.Fatalf("listing after the change: ready = %q, want none (b must be stable afresh)", got)
	}
	clock.Advance(time.Hour)
	doc, _ := read(t, d)
	if got, want := bodyOf(t, doc), "ISA b.edi, second version"; got != want {
		t.Errorf("b = %q, want %q", got, want)
	}
}
