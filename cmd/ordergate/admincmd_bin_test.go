package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportAndRulesTestBinary runs `import` and `rules test` as the
// built binary and checks what they print.
func TestImportAndRulesTestBinary(t *testing.T) {
	cfg := adminConfig(t, "")
	dir := filepath.Dir(cfg)
	rates, err := filepath.Abs("../../testdata/masterdata/rates.csv")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := filepath.Abs("../../testdata/masterdata/bad/rates.csv")
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runBinary(t, dir, "import", "--config", cfg, "rates", rates)
	if code != 0 || !strings.Contains(out, "5 inserted") {
		t.Errorf("import rates: exit %d\n%s\n%s\nwant 0 and 5 inserted", code, out, stderr)
	}
	code, out, stderr = runBinary(t, dir, "import", "--config", cfg, "rates", rates)
	if code != 0 || !strings.Contains(out, "0 inserted") || !strings.Contains(out, "5 unchanged") {
		t.Errorf("import rates again: exit %d\n%s\n%s\nwant 0 and 5 unchanged", code, out, stderr)
	}
	code, out, stderr = runBinary(t, dir, "import", "--config", cfg, "rates", bad)
	for _, want := range []string{bad + ":3: column rate:", "has a comma", bad + ":10: column pair:", "1 inserted"} {
		if code != 1 || !strings.Contains(out+stderr, want) {
			t.Errorf("import of bad rates: exit %d, output lacks %q:\n%s\n%s", code, want, out, stderr)
		}
	}

	// A phone order of C-3000, the blocked customer over its limit.
	order := `{"channel":"phone","source":{"standard":"DESK"},"po_number":"T-1","customer_id":"C-3000","currency":"EUR",
		"lines":[{"line_no":"1","quantity":"1","unit":"EA","unit_price":"10.00","sku":"SCR-100"}]}`
	file := filepath.Join(dir, "order.json")
	if err := os.WriteFile(file, []byte(order), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runBinary(t, dir, "rules", "test", "--config", cfg, file)
	for _, want := range []string{"PO T-1 of C-3000: hold", "hold credit_limit:", "blocked"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("rules test: exit %d, stdout lacks %q:\n%s\n%s", code, want, out, stderr)
		}
	}
}
