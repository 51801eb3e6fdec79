package pipeline_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestRouting: the route table decides where an accepted order goes:
// conditions over the order, first match wins, continue fans out, and an
// order is delivered only when every one of its deliveries is.
func TestRouting(t *testing.T) { forEachDriver(t, testRouting) }

func testRouting(t *testing.T) {
	tests := []struct {
		name   string
		routes string
		po     string
		want   map[string]int // backend dir -> files
		has    string         // in the file delivered to copies
		format string         // of the copies delivery
	}{
		{"condition true", `  - {name: big, when: "order.po_number == 'PO-1'", to: copies}
  - {name: default, to: files}`, "PO-1", map[string]int{"copies": 1, "outbound": 0}, "", ""},
		{"condition false falls through", `  - {name: big, when: "order.po_number == 'PO-1'", to: copies}
  - {name: default, to: files}`, "PO-2", map[string]int{"copies": 0, "outbound": 1}, "", ""},
		{"fan-out", `  - {name: copy, when: "len(order.lines) > 0", to: copies, continue: true}
  - {name: default, to: files}`, "PO-3", map[string]int{"copies": 1, "outbound": 1}, "", ""},
		{"exact decimal total", `  - {name: big, when: "order.total > 10", to: copies}
  - {name: default, to: files}`, "PO-4", map[string]int{"copies": 1, "outbound": 0}, "", ""},
		{"rendered as X12 850", `  - {name: erp, to: copies, format: x12-850}`, "PO-5", map[string]int{"copies": 1}, "ST*850*0001~BEG*00*SA*PO-5", "x12-850"},
		{"rendered as EDIFACT ORDERS", `  - {name: erp, to: copies, format: edifact-orders}`, "PO-6", map[string]int{"copies": 1}, "BGM+220+PO-6", "edifact-orders"},
		{"rendered as CSV", `  - {name: erp, to: copies, format: csv}`, "PO-7", map[string]int{"copies": 1}, "PO-7", "csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{routes: tt.routes})
			h.src.push("a", fixtures.X12850(4711, tt.po, 2))
			doc := h.documentIn("a", store.DocumentParsed)
			rec := h.orderOf(doc.ID, order.StatusDelivered)
			dels, err := h.st.DeliveriesOfOrder(h.ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantDels := 0
			for dir, n := range tt.want {
				wantDels += n
				files, err := os.ReadDir(filepath.Join(h.dir, dir))
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != n {
					t.Errorf("%s: %d files, want %d", dir, len(files), n)
				}
			}
			if len(dels) != wantDels {
				t.Errorf("deliveries = %d, want %d", len(dels), wantDels)
			}
			for _, d := range dels {
				want := "json"
				if d.Backend == "copies" && tt.format != "" {
					want = tt.format
				}
				if d.Status != store.DeliverySent || d.Format != want {
					t.Errorf("delivery %+v, want sent as %s", d, want)
				}
			}
			if tt.has != "" {
				files, _ := os.ReadDir(filepath.Join(h.dir, "copies"))
				b, err := os.ReadFile(filepath.Join(h.dir, "copies", files[0].Name()))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(strings.ReplaceAll(string(b), "\n", ""), tt.has) {
					t.Errorf("%s lacks %q:\n%s", files[0].Name(), tt.has, b)
				}
			}
		})
	}
}

// TestRoutingOnLineAttributes: a route condition on a line's item
// attributes sees the product master's attributes of the line's resolved
// SKU (order.lines[i].attributes).
func TestRoutingOnLineAttributes(t *testing.T) { forEachDriver(t, testRoutingOnLineAttributes) }

func testRoutingOnLineAttributes(t *testing.T) {
	routes := `  - {name: hazmat, when: "any(order.lines, .attributes.hazmat == 'true')", to: copies}
  - {name: default, to: files}`
	tests := []struct {
		name   string
		hazmat string // SCR-002's hazmat attribute; "" for none
		want   map[string]int
	}{
		{"attribute matches", "true", map[string]int{"copies": 1, "outbound": 0}},
		{"attribute differs", "false", map[string]int{"copies": 0, "outbound": 1}},
		{"no attribute", "", map[string]int{"copies": 0, "outbound": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{routes: routes})
			var attrs map[string]string
			if tt.hazmat != "" {
				attrs = map[string]string{"hazmat": tt.hazmat, "warehouse": "north"}
			}
			err := h.st.Write(h.ctx, func(tx *store.Tx) error {
				for _, p := range []store.Product{
					{SKU: "SCR-001", Description: "Wood screws", BaseUnit: "EA"},
					{SKU: "SCR-002", Description: "Solvent", BaseUnit: "EA", Attributes: attrs},
				} {
					if _, err := tx.UpsertProduct(h.ctx, p); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			h.src.push("a", fixtures.X12850(4711, "PO-HZ", 2))
			doc := h.documentIn("a", store.DocumentParsed)
			rec := h.orderOf(doc.ID, order.StatusDelivered)
			o, err := rec.Order()
			if err != nil {
				t.Fatal(err)
			}
			if o.Lines[1].SKU != "SCR-002" {
				t.Fatalf("line 2 SKU = %q, want SCR-002", o.Lines[1].SKU)
			}
			for dir, n := range tt.want {
				files, err := os.ReadDir(filepath.Join(h.dir, dir))
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != n {
					t.Errorf("%s: %d files, want %d", dir, len(files), n)
				}
			}
		})
	}
}
