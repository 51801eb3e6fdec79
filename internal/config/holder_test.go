package config

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink that the watcher goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestHolder(t *testing.T, yaml string, apply func(*Config) error) (*Holder, string, *syncBuffer) {
	t.Helper()
	path := writeConfig(t, yaml)
	logs := &syncBuffer{}
	h, err := NewHolder(path, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), apply)
	if err != nil {
		t.Fatalf("NewHolder: %v", err)
	}
	return h, path, logs
}

// replaceFile writes data to a temporary file and renames it over path,
// as editors and deployment tools do.
func replaceFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".config.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestHolderReload(t *testing.T) {
	var applied []string
	var refuse bool
	h, path, logs := newTestHolder(t, "log: {level: info}\n", func(c *Config) error {
		if refuse {
			return errors.New("cannot apply")
		}
		applied = append(applied, c.Log.Level)
		return nil
	})
	first := h.Current()

	replaceFile(t, path, "log: {level: loud}\nhttp:\n  password: "+canary+"\n")
	if err := h.Reload(); err == nil {
		t.Fatal("Reload of a broken file: got no error")
	}
	if h.Current() != first {
		t.Error("Reload of a broken file: the config was replaced, want the old one kept")
	}
	out := logs.String()
	for _, want := range []string{"config reload rejected", "log.level: must be one of", "http.password: secrets are not allowed"} {
		if !strings.Contains(out, want) {
			t.Errorf("log:\n%s\nwant it to contain %q", out, want)
		}
	}
	if strings.Contains(out, canary) {
		t.Errorf("log shows the secret:\n%s", out)
	}

	replaceFile(t, path, "log: {level: debug}\n")
	refuse = true
	if err := h.Reload(); err == nil {
		t.Error("Reload refused by apply: got no error")
	}
	if h.Current() != first {
		t.Error("Reload refused by apply: the config was replaced")
	}

	refuse = false
	if err := h.Reload(); err != nil {
		t.Fatalf("Reload of a good file: %v", err)
	}
	if got, want := h.Current().Log.Level, "debug"; got != want {
		t.Errorf("after Reload: got level %s, want %s", got, want)
	}
	if got, want := strings.Join(applied, ","), "debug"; got != want {
		t.Errorf("apply calls: got %s, want %s", got, want)
	}

	// The same bytes again are not applied a second time.
	cur := h.Current()
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	if h.Current() != cur || len(applied) != 1 {
		t.Errorf("Reload of an unchanged file: got %d apply calls, want 1 and the same config", len(applied))
	}
}

func TestNewHolderRefusesBadFile(t *testing.T) {
	path := writeConfig(t, "log: {level: loud}\n")
	if _, err := NewHolder(path, slog.New(slog.DiscardHandler), nil); err == nil {
		t.Fatal("NewHolder of a broken file: got no error")
	}
	path = writeConfig(t, "store: {driver: postgres, dsn_env: OG_UNSET_DSN}\n")
	_, err := NewHolder(path, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "OG_UNSET_DSN is not set") {
		t.Fatalf("NewHolder with a missing env var: got %v, want the preflight problem", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startWatch(t *testing.T, h *Holder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	select {
	case <-h.ready:
	case err := <-done:
		t.Fatalf("Watch ended early: %v", err)
	}
}

func TestWatchFileChange(t *testing.T) {
	h, path, _ := newTestHolder(t, "log: {level: info}\n", nil)
	h.debounce = 20 * time.Millisecond
	startWatch(t, h)
	first := h.Current()

	replaceFile(t, path, "log: {level: nope}\n")
	// A broken file must never become current; give the watcher time to try.
	time.Sleep(200 * time.Millisecond)
	if h.Current() != first {
		t.Fatal("a broken file replaced the running config")
	}

	replaceFile(t, path, "log: {level: warn}\n")
	waitFor(t, "the renamed-over file to be loaded", func() bool { return h.Current().Log.Level == "warn" })

	// Writing in place (truncate and write) is seen too.
	if err := os.WriteFile(path, []byte("log: {level: error}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rewritten file to be loaded", func() bool { return h.Current().Log.Level == "error" })
}
