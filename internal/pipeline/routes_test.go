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
