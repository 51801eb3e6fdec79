package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rerouteConfig routes every order to a backend that cannot deliver (a
// webhook to a port nobody listens on) with one attempt, so orders end as
// dead letters.
const rerouteConfig = backendTestHead + `routes:
  - {name: default, to: [%s]}
backends:
  - {name: broken, type: webhook, url: "http://127.0.0.1:%d/orders", max_attempts: 1}
%s`

// TestRerouteAfterConfigReload: orders end as dead letters at a broken
// backend; the config is fixed while the gateway runs (the route now
// goes to files2, a backend the first config did not have); once the
// gateway logged the reload, `ordergate reprocess --reroute` routes the
// orders again and the running gateway delivers them to files2, without
// a restart.
func TestRerouteAfterConfigReload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	dir, port := newGatewayDir(t)
	closed := freePort(t)
	writeConfig := func(route, extra string) {
		t.Helper()
		tmp := filepath.Join(dir, "config.yaml.new")
		if err := os.WriteFile(tmp, fmt.Appendf(nil, rerouteConfig, port, route, closed, extra), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "config.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("broken", "")
	g := start(t, dir, port)
	// Fewer failures than trip the broken backend's circuit breaker
	// (which would hold the rest back for 30 s).
	const n = 4
	for i := range n {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	waitFor(t, time.Minute, fmt.Sprintf("%d failed orders", n), func() bool {
		return len(g.orders("status=failed")) == n
	})
	if len(files(t, filepath.Join(dir, "inbox", "error"))) > 0 {
		t.Fatalf("files rejected:\n%s", g.log)
	}

	writeConfig("files2", "  - {name: files2, type: filedrop, dir: ./outbound2}\n")
	waitFor(t, 30*time.Second, "the reload in the log", func() bool {
		return strings.Contains(g.log.String(), "config reloaded")
	})
	args := []string{"reprocess", "--config", "config.yaml", "--reroute"}
	for _, o := range g.orders("status=failed") {
		args = append(args, o.ID)
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ordergate reprocess --reroute: %v\n%s", err, out)
	}
	waitFor(t, time.Minute, fmt.Sprintf("%d delivered orders", n), func() bool {
		return len(g.orders("status=delivered")) == n
	})
	if got := len(files(t, filepath.Join(dir, "outbound2"))); got != n {
		t.Errorf("outbound2 holds %d orders, want %d", got, n)
	}
	if strings.Contains(g.log.String(), "no backend named") {
		t.Errorf("a delivery found no backend after the reload:\n%s", g.log)
	}
	if err := g.stop(30 * time.Second); err != nil {
		t.Errorf("stopping: %v\n%s", err, g.log)
	}
}
