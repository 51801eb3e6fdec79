//go:build unix

package config

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWatchSIGHUP(t *testing.T) {
	h, path, logs := newTestHolder(t, "log: {level: info}\n", nil)
	h.debounce = time.Hour // only the signal may trigger the reload
	startWatch(t, h)

	if err := os.WriteFile(path, []byte("log: {level: debug}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := h.Current().Log.Level; got != "info" {
		t.Fatalf("before SIGHUP: got level %s, want info (file events are debounced for an hour)", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP to reload", func() bool { return h.Current().Log.Level == "debug" })
	if !strings.Contains(logs.String(), "SIGHUP") {
		t.Errorf("log:\n%s\nwant the SIGHUP noted", logs.String())
	}
}
