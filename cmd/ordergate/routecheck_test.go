package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckConstantTrueRoute: a route whose when is always true
// takes every order like a route without when, so `config check` flags
// the routes after it as unreachable, with their file and line.
func TestConfigCheckConstantTrueRoute(t *testing.T) {
	routes := `routes:
  - {name: everything, when: "true", to: [files]}
  - {name: default, to: [files]}
`
	cfg := strings.Replace(fmt.Sprintf(gatewayConfig, 8080, "info"), "routes:\n  - {name: default, to: [files]}\n", routes, 1)
	if !strings.Contains(cfg, "everything") {
		t.Fatal("the test config's routes were not replaced")
	}
	path := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBinary(t, "", "config", "check", "--config", path)
	if code != exitRejected || !strings.Contains(stderr, `route "default" is unreachable: route "everything" before it`) {
		t.Errorf("config check: exit %d, want 1 with the unreachable default\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "routes.yaml:") {
		t.Errorf("the problem has no file:line: %s", stderr)
	}

	// A when that reads the order is no catch-all.
	ok := strings.Replace(cfg, `when: "true"`, `when: "order.test"`, 1)
	if err := os.WriteFile(path, []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runBinary(t, "", "config", "check", "--config", path); code != exitOK {
		t.Errorf("config check with when: order.test: exit %d\n%s%s", code, stdout, stderr)
	}
}
