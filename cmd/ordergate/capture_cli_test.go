package main

import (
	"encoding/json"
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
