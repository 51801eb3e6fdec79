package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/normalize/order"
)

func corpus(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available: %v", rel, err)
	}
	return p
}

// runCLI runs the command in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

var errorLine = regexp.MustCompile(`^[^:]+: segment \d+ \([A-Z0-9]{0,3}\)( element \d+( component \d+)?)?: .+`)

func TestParseCorpusX12(t *testing.T) {
	tests := []struct {
		file   string
		code   int
		orders int
	}{
		{"node-x12/x12/850.edi", 0, 1},
		{"bots-plugins/x12/850/850-004010-02.x12", 0, 4},
		{"bots-plugins/x12/850/850-004010-05.x12", 0, 2},
		{"bots-plugins/x12/850/850-004010.14.x12", 0, 3},
		{"pyx12/x12/trailer_errors.txt", 1, 0},
		{"pyx12/x12/fail_no_IEA.txt", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := corpus(t, tt.file)
			code, stdout, stderr := runCLI(t, "parse", path)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			n := 0
			sc := bufio.NewScanner(strings.NewReader(stdout))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var o order.Order
				if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
					t.Fatalf("line %d is not an order: %v", n+1, err)
				}
				if o.PONumber == "" || o.Source.Standard != "X12" || len(o.Lines) == 0 {
					t.Errorf("order %d incomplete: %s", n+1, sc.Text())
				}
				n++
			}
			if n != tt.orders {
				t.Errorf("%d orders printed, want %d", n, tt.orders)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if line != "" && !errorLine.MatchString(line) {
					t.Errorf("stderr line not positioned: %q", line)
				}
			}
			if tt.code != 0 && stderr == "" {
				t.Errorf("rejected without a message")
			}
		})
	}
}

func TestParseUsage(t *testing.T) {
	if code, _, _ := runCLI(t, "parse"); code != exitUsage {
		t.Errorf("parse without files: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, "parse", "--bogus", "x"); code != exitUsage {
		t.Errorf("parse --bogus: exit %d, want 2", code)
	}
	code, stdout, _ := runCLI(t, "parse", "--help")
	if code != exitOK || !strings.Contains(stdout, "Usage: ordergate parse") {
		t.Errorf("parse --help: exit %d, stdout %q", code, stdout)
	}
	if code, _, _ := runCLI(t, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	code, stdout, _ = runCLI(t, "--help")
	if code != exitOK || !strings.Contains(stdout, "ordergate serve") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout)
	}
	code, _, stderr := runCLI(t, "parse", filepath.Join(t.TempDir(), "missing.x12"))
	if code != exitRejected || !strings.Contains(stderr, "missing.x12") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.dat")
	os.WriteFile(garbage, []byte("hello, this is not EDI"), 0o644)
	code, _, stderr = runCLI(t, "parse", garbage)
	if code != exitRejected || !errorLine.MatchString(strings.TrimSpace(stderr)) && !strings.Contains(stderr, "not an X12 or EDIFACT") {
		t.Errorf("garbage: exit %d, stderr %q", code, stderr)
	}
	// A .txt that is not EDI is read as an order text by capture.
	text := filepath.Join(t.TempDir(), "hello.txt")
	os.WriteFile(text, []byte("hello, this is not an order"), 0o644)
	code, _, stderr = runCLI(t, "parse", text)
	if code != exitRejected || !strings.Contains(stderr, "hello.txt") || !strings.Contains(stderr, "no order") {
		t.Errorf("a text without an order: exit %d, stderr %q", code, stderr)
	}
}

func TestAck(t *testing.T) {
	tests := []struct {
		file string
		code int
		want []string
	}{
		{"node-x12/x12/850.edi", 0, []string{"ST*997*", "AK1*PO*1421", "AK5*A", "AK9*A*1*1*1"}},
		{"pyx12/x12/trailer_errors.txt", 0, []string{"TA1*", "AK5*R*4"}},
		{"pyx12/x12/explicit_missing.txt", 0, []string{"AK5*R*2"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "ack", corpus(t, tt.file))
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("ack lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	garbage := filepath.Join(t.TempDir(), "garbage.txt")
	os.WriteFile(garbage, []byte("hello"), 0o644)
	if code, _, _ := runCLI(t, "ack", garbage); code != exitRejected {
		t.Errorf("ack on garbage: exit %d, want 1", code)
	}
	if code, _, _ := runCLI(t, "ack"); code != exitUsage {
		t.Errorf("ack without file: exit %d, want 2", code)
	}
}

func TestConfigCheck(t *testing.T) {
	code, stdout, stderr := runCLI(t, "config", "check", "--config", filepath.Join("..", "..", "config.example.yaml"))
	if code != exitOK || !strings.Contains(stdout, "ok") {
		t.Errorf("example config: exit %d\n%s%s", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("store:\n  driver: sqlite\nchannels:\n  - name: x\n    type: dir\n    path: ./in\n    pasword: hunter2\n"), 0o644)
	code, _, stderr = runCLI(t, "config", "check", "--config", bad)
	if code != exitRejected || !strings.Contains(stderr, "bad.yaml:7:") {
		t.Errorf("bad config: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "hunter2") {
		t.Errorf("the inline secret appears in the output: %q", stderr)
	}
}

// TestBinaryAsNewUser runs the built command the way the README shows.
func TestBinaryAsNewUser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	out, err := exec.Command(binary, "parse", corpus(t, "node-x12/x12/850.edi")).Output()
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !bytes.Contains(out, []byte(`"po_number":"08292233294"`)) {
		t.Errorf("parse output lacks the PO number: %s", out)
	}
	cmd := exec.Command(binary, "ack", corpus(t, "pyx12/x12/trailer_errors.txt"))
	out, err = cmd.Output()
	if err != nil || !bytes.Contains(out, []byte("TA1*")) {
		t.Errorf("ack on an invalid file: %v\n%s", err, out)
	}
	cmd = exec.Command(binary, "parse", corpus(t, "pyx12/x12/trailer_errors.txt"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("parse of an invalid file: %v, want exit 1", err)
	}
	if !errorLine.MatchString(strings.SplitN(stderr.String(), "\n", 2)[0]) {
		t.Errorf("first error line not positioned: %q", stderr.String())
	}
}
