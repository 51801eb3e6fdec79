package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// adminConfig writes a configuration with its store in a temp dir, the
// demo master data loaded and the rules of the example configuration.
func adminConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	md, err := filepath.Abs("../../testdata/masterdata")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`store: {dsn: %[1]s/og.db, archive_dir: %[1]s/archive}
log: {level: error}
partners:
  - id: demo-x12
    customer_id: C-1000
    match: {x12: [{qualifier: "12", id: "4405197800"}]}
channels:
  - {name: inbox, type: dir, path: %[1]s/inbox}
rules:
  credit_limit: {enabled: true}
  customers: {enabled: true}
  items: {enabled: true, policy: hold}
  price_tolerance: "0.5%%"
  approvals:
    - {name: large-order, when: "order.total > 10000", role: sales-manager}
routes:
  - {name: default, to: out}
backends:
  - {name: out, type: filedrop, dir: %[1]s/out}
masterdata:
  load:
    - {kind: customers, file: %[2]s/customers.csv}
    - {kind: products, file: %[2]s/products.csv}
    - {kind: prices, file: %[2]s/prices.csv}
    - {kind: xrefs, file: %[2]s/xrefs.csv}
%[3]s`, dir, md, extra)
	path := filepath.Join(dir, "og.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportCommand(t *testing.T) {
	cfg := adminConfig(t, "")
	bad, err := filepath.Glob("../../testdata/masterdata/bad/customers*.csv")
	if err != nil || len(bad) == 0 {
		t.Fatalf("no bad customers file: %v", err)
	}
	code, out, errOut := runCLI(t, "import", "--config", cfg, "customers", bad[0])
	if code != exitRejected || !strings.Contains(out, bad[0]+":") || !strings.Contains(out, "column") {
		t.Errorf("import of bad lines: exit %d, stdout %q, stderr %q; want 1 and FILE:LINE: column reports", code, out, errOut)
	}
	// The demo file again: it was loaded with the config, nothing changes.
	code, out, _ = runCLI(t, "import", "--config", cfg, "--json", "products", "../../testdata/masterdata/products.csv")
	var rep struct{ Inserted, Updated, Unchanged int }
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || rep.Inserted+rep.Updated != 0 || rep.Unchanged == 0 {
		t.Errorf("re-import: exit %d, %q (%v); want 0 with every line unchanged", code, out, err)
	}
	if code, _, _ := runCLI(t, "import", "--config", cfg, "planets", "x.csv"); code != exitUsage {
		t.Errorf("unknown kind: exit %d, want 2", code)
	}
}

func TestRulesTestCommand(t *testing.T) {
	cfg := adminConfig(t, "")
	code, orders, stderr := runCLI(t, "parse", corpus(t, "node-x12/x12/850.edi"))
	if code != exitOK {
		t.Fatalf("parse: %d %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "o.json")
	if err := os.WriteFile(file, []byte(orders), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "rules", "test", "--config", cfg, "--partner", "demo-x12", "--json", file)
	if code != exitOK {
		t.Fatalf("rules test: exit %d: %s", code, stderr)
	}
	var w struct {
		Outcome  string `json:"outcome"`
		Customer string `json:"customer_id"`
		Holds    []struct {
			Rule    string            `json:"rule"`
			Numbers map[string]string `json:"numbers"`
		} `json:"holds"`
	}
	if err := json.Unmarshal([]byte(out), &w); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	rules := map[string]bool{}
	for _, h := range w.Holds {
		rules[h.Rule] = true
	}
	if w.Outcome != "hold" || w.Customer != "C-1000" || !rules["price"] || !rules["approval"] {
		t.Errorf("decision = %s", out)
	}
	if code, _, _ := runCLI(t, "rules", "--config", cfg); code != exitUsage {
		t.Errorf("rules without test: exit %d, want 2", code)
	}
}
