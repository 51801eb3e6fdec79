package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/testenv/sshd"
)

// sftpBackendConfig: orders pulled from a partner's OpenSSH server are
// routed to two sftp backends on that server, one writing X12 850, one
// EDIFACT ORDERS (fan-out: every order goes to both).
const sftpBackendConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
pipeline: {poll_interval: 20ms}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match: {x12: [{qualifier: ZZ, id: BAUMARKTNORD}]}
channels:
  - name: nord-sftp
    type: sftp
    host: 127.0.0.1
    port: %d
    user: %s
    private_key_file: %s
    known_hosts: %s
    inbox: /data/in
    archive: /data/archive
    outbox: /data/out
    poll: 50ms
    min_age: 10ms
routes:
  - {name: erp-x12, to: erp-x12, format: x12-850, continue: true}
  - {name: erp-edi, to: erp-edi, format: edifact-orders}
backends:
  - {name: erp-x12, type: sftp, channel: nord-sftp, dir: /data/erp-x12}
  - {name: erp-edi, type: sftp, channel: nord-sftp, dir: /data/erp-edi}
`

type parsedLine struct {
	SKU          string  `json:"sku"`
	SupplierPart string  `json:"supplier_part"`
	Quantity     string  `json:"quantity"`
	UnitPrice    *string `json:"unit_price"`
}

type parsedOrder struct {
	PONumber string       `json:"po_number"`
	Lines    []parsedLine `json:"lines"`
}

func (o parsedOrder) key() string {
	var b strings.Builder
	b.WriteString(o.PONumber)
	for _, l := range o.Lines {
		p := "-"
		if l.UnitPrice != nil {
			p = *l.UnitPrice
		}
		fmt.Fprintf(&b, "|%s/%s %s %s", l.SKU, l.SupplierPart, l.Quantity, p)
	}
	return b.String()
}

// TestSFTPBackendEndToEnd: serve delivers routed orders to real OpenSSH
// as X12 850 and EDIFACT ORDERS (uploaded as .part, then renamed); each
// upload parses back with ordergate parse into the API's order (PO
// number, lines' SKU, quantity, price), and the control numbers of each
// backend count up without gaps. There is no master data here, so a
// line's item is its supplier part (SKU empty on both sides).
func TestSFTPBackendEndToEnd(t *testing.T) {
	srv := sshd.Start(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(sftpBackendConfig, port, srv.Port, srv.User, srv.ClientKeyFile, srv.KnownHostsFile)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"in", "archive", "out", "erp-x12", "erp-edi"} {
		srv.MkdirAll(d)
	}
	const n = 6
	for i := range n {
		srv.WriteFile(fmt.Sprintf("in/po-%d.x12", i), fixtures.X12850(100+i, fmt.Sprintf("PO-SB-%d", i), i%3+1))
	}
	g := start(t, dir, port)
	waitFor(t, 30*time.Second, "every order uploaded to both backends", func() bool {
		return len(remoteFiles(t, srv, "erp-x12")) == n && len(remoteFiles(t, srv, "erp-edi")) == n
	})
	// What the API has.
	want := map[string]string{}
	for _, o := range g.orders("") {
		var detail struct {
			Order parsedOrder `json:"order"`
		}
		if code := g.getJSON("/api/v1/orders/"+o.ID, &detail); code != 200 {
			t.Fatalf("GET order %s: %d", o.ID, code)
		}
		full := detail.Order
		if full.PONumber == "" {
			full.PONumber = o.PONumber
		}
		want[full.PONumber] = full.key()
	}
	if len(want) != n {
		t.Fatalf("API has %d orders, want %d", len(want), n)
	}
	for _, tc := range []struct {
		folder  string
		control func(string) string
	}{
		{"erp-x12", func(s string) string { return segElement(s, "ISA", "*", 13) }},
		{"erp-edi", func(s string) string { return segElement(s, "UNB", "+", 5) }},
	} {
		var controls []int
		got := map[string]string{}
		for _, name := range remoteFiles(t, srv, tc.folder) {
			if strings.HasSuffix(name, ".part") {
				t.Errorf("%s: %s left behind", tc.folder, name)
				continue
			}
			path := srv.Path(tc.folder + "/" + name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := strconv.Atoi(strings.TrimLeft(tc.control(string(b)), "0"))
			if err != nil {
				t.Errorf("%s: control number of %s: %v\n%s", tc.folder, name, err, b)
			}
			controls = append(controls, c)
			code, out, stderr := runBinary(t, dir, "parse", path)
			if code != 0 {
				t.Fatalf("ordergate parse %s: exit %d\n%s", name, code, stderr)
			}
			sc := bufio.NewScanner(strings.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var o parsedOrder
				if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got[o.PONumber] = o.key()
			}
		}
		for po, k := range want {
			if got[po] != k {
				t.Errorf("%s: %s parses back as\n  %q, the API has\n  %q", tc.folder, po, got[po], k)
			}
		}
		slices.Sort(controls)
		for i, c := range controls {
			if c != controls[0]+i {
				t.Errorf("%s: control numbers %v have a gap or a repeat", tc.folder, controls)
				break
			}
		}
	}
}

// segElement returns the index-th element (0 the tag) of the first segment
// with tag in an interchange whose elements are separated by sep.
func segElement(s, tag, sep string, index int) string {
	i := strings.Index(s, tag+sep)
	if i < 0 {
		return ""
	}
	seg := s[i:]
	if j := strings.IndexAny(seg, "~'\n"); j >= 0 {
		seg = seg[:j]
	}
	parts := strings.Split(seg, sep)
	if index >= len(parts) {
		return ""
	}
	return strings.TrimSpace(parts[index])
}
