package pipeline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestRouting: the route table decides where an accepted order goes:
// conditions over the order, first match wins, continue fans out, and an
// order is delivered only when every one of its deliveries is.
func TestRouting(t *testing.T) {
	tests := []struct {
		name   string
		routes string
		po     string
		want   map[string]int // backend dir -> files
	}{
		{"condition true", `  - {name: big, when: "order.po_number == 'PO-1'", to: copies}
  - {name: default, to: files}`, "PO-1", map[string]int{"copies": 1, "outbound": 0}},
		{"condition false falls through", `  - {name: big, when: "order.po_number == 'PO-1'", to: copies}
  - {name: default, to: files}`, "PO-2", map[string]int{"copies": 0, "outbound": 1}},
		{"fan-out", `  - {name: copy, when: "len(order.lines) > 0", to: copies, continue: true}
  - {name: default, to: files}`, "PO-3", map[string]int{"copies": 1, "outbound": 1}},
		{"exact decimal total", `  - {name: big, when: "order.total > 10", to: copies}
  - {name: default, to: files}`, "PO-4", map[string]int{"copies": 1, "outbound": 0}},
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
				if d.Status != store.DeliverySent || d.Format != "json" {
					t.Errorf("delivery %+v", d)
				}
			}
		})
	}
}
