package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/capture/faxgen"
)

// TestParseCapture: `ordergate parse` reads faxes and order files as the
// gateway's capture does and prints drafts with confidence, boxes and
// status.
func TestParseCapture(t *testing.T) {
	doc, err := faxgen.New(faxgen.Layouts()[0], 7)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	textPDF, err := doc.TextPDF()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"order.pdf": textPDF, "order.csv": doc.CSV()}
	if _, err := exec.LookPath("tesseract"); err == nil {
		fax, err := doc.Fax(faxgen.Fine)
		if err != nil {
			t.Fatal(err)
		}
		files["fax.pdf"] = fax
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name := range files {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := runCLI(t, "parse", filepath.Join(dir, name))
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var o struct {
				PONumber   string             `json:"po_number"`
				Status     string             `json:"status"`
				Confidence map[string]float64 `json:"confidence"`
				Lines      []json.RawMessage  `json:"lines"`
			}
			if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &o); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if o.Status != "review" && o.Status != "received" {
				t.Errorf("status %q, want review or received", o.Status)
			}
			if len(o.Confidence) == 0 || len(o.Lines) == 0 {
				t.Errorf("draft without confidence or lines: %s", out)
			}
			if name != "fax.pdf" && o.PONumber != doc.Truth.PONumber {
				t.Errorf("po_number %q, want %q", o.PONumber, doc.Truth.PONumber)
			}
		})
	}
	// A .txt that is X12 is still read as EDI.
	x12 := filepath.Join(dir, "po.txt")
	if err := os.WriteFile(x12, []byte(strings.ReplaceAll(string(mustRead(t, corpus(t, "node-x12/x12/850.edi"))), "\r", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(t, "parse", x12); code != exitOK || !strings.Contains(out, `"standard":"X12"`) {
		t.Errorf("X12 in a .txt: exit %d, %s %s", code, out, stderr)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseConfig is a configuration for `ordergate parse --config`: an IMAP
// channel whose fax service sends from fax.example.com, and the sender
// profiles of profiles.yaml.
const parseConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
channels:
  - name: orders-mail
    type: imap
    host: 127.0.0.1
    port: 993
    tls: implicit
    user: orders
    password_env: OG_TEST_IMAP_PASSWORD
    fax_senders: ["*@fax.example.com"]
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
capture: {profiles: ./profiles.yaml}
`

// draftJSON is what the tests read of a printed draft.
type draftJSON struct {
	Channel    string                     `json:"channel"`
	PONumber   string                     `json:"po_number"`
	Status     string                     `json:"status"`
	Notes      []string                   `json:"notes"`
	Confidence map[string]float64         `json:"confidence"`
	Boxes      map[string]json.RawMessage `json:"boxes"`
	Lines      []json.RawMessage          `json:"lines"`
}

// TestParseCaptureBinary: the built binary reads a fax mail (classified
// by the configured channel's fax senders), an order mail (with its
// remark as the note), an XLSX file, a PDF with --template, and a scanned
// fax whose profile is found by the number of its fax header line; each
// prints a draft with confidence, boxes and status.
func TestParseCaptureBinary(t *testing.T) {
	dir := t.TempDir()
	doc, err := faxgen.New("de-classic", 3)
	if err != nil {
		t.Fatal(err)
	}
	textPDF, err := doc.TextPDF()
	if err != nil {
		t.Fatal(err)
	}
	xlsx, err := doc.XLSX()
	if err != nil {
		t.Fatal(err)
	}
	profiles := fmt.Sprintf("profiles:\n  - name: strict\n    match: {fax: [%q]}\n    po_pattern: '^NOPE-\\d+$'\n", doc.Truth.SenderFax)
	files := map[string][]byte{
		"config.yaml":   []byte(parseConfig),
		"profiles.yaml": []byte(profiles),
		"fax.eml":       attachmentMail("gateway@fax.example.com", "Fax from "+doc.Truth.SenderFax, "fax.pdf", "application/pdf", textPDF),
		"order.eml":     textMail(doc.Truth.SenderEmail, "Bestellung", doc.Email()),
		"order.xlsx":    xlsx,
		"order.pdf":     textPDF,
	}
	if _, err := exec.LookPath("tesseract"); err == nil {
		fax, err := doc.Fax(faxgen.Fine)
		if err != nil {
			t.Fatal(err)
		}
		files["scan.pdf"] = fax
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if doc.Remark() == "" {
		t.Fatal("seed 3 should carry a remark")
	}
	tests := []struct {
		name    string
		args    []string
		channel string
		check   func(t *testing.T, d draftJSON)
	}{
		{"fax mail", []string{"--config", "config.yaml", "fax.eml"}, "fax", nil},
		{"order mail", []string{"order.eml"}, "email", func(t *testing.T, d draftJSON) {
			if len(d.Notes) != 1 || d.Notes[0] != doc.Remark() {
				t.Errorf("notes %q, want the remark %q", d.Notes, doc.Remark())
			}
		}},
		{"xlsx", []string{"order.xlsx"}, "email", nil},
		{"template", []string{"--config", "config.yaml", "--template", "strict", "order.pdf"}, "", func(t *testing.T, d draftJSON) {
			if d.Status != "review" || d.Confidence["po_number"] > 0.3 {
				t.Errorf("with the strict template: status %s, po_number confidence %v; want review, at most 0.3", d.Status, d.Confidence["po_number"])
			}
		}},
		{"profile by the fax header", []string{"--config", "config.yaml", "scan.pdf"}, "fax", func(t *testing.T, d draftJSON) {
			if d.Status != "review" || d.Confidence["po_number"] > 0.3 {
				t.Errorf("the sender's strict profile was not applied: status %s, po_number confidence %v", d.Status, d.Confidence["po_number"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if files[tt.args[len(tt.args)-1]] == nil {
				t.Skip("tesseract is not installed")
			}
			cmd := exec.Command(binary, append([]string{"parse"}, tt.args...)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "OG_TEST_IMAP_PASSWORD=x")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil && !strings.Contains(tt.name, "template") && !strings.Contains(tt.name, "profile") {
				t.Fatalf("exit %v: %s", err, stderr.String())
			}
			var d draftJSON
			if err := json.Unmarshal([]byte(strings.SplitN(string(out), "\n", 2)[0]), &d); err != nil {
				t.Fatalf("%v: %s (stderr %s)", err, out, stderr.String())
			}
			if d.Status != "review" && d.Status != "received" {
				t.Errorf("status %q, want review or received", d.Status)
			}
			if len(d.Confidence) == 0 || len(d.Boxes) == 0 || len(d.Lines) == 0 {
				t.Errorf("a draft without confidence, boxes or lines: %s", out)
			}
			if tt.channel != "" && d.Channel != tt.channel {
				t.Errorf("channel %q, want %q", d.Channel, tt.channel)
			}
			if tt.name != "profile by the fax header" && d.PONumber != doc.Truth.PONumber {
				t.Errorf("po_number %q, want %q", d.PONumber, doc.Truth.PONumber)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}
