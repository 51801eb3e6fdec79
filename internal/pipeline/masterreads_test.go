package pipeline

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestMasterReadsShared: orders resolved with one masterReads, after
// masterdata.Prefetch of all of them, come out as each resolved with the
// transaction's own lookups, and resolving them reads nothing Prefetch
// did not.
func TestMasterReadsShared(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(ctx) })
	for _, k := range masterdata.Kinds {
		rep, err := masterdata.ImportFile(ctx, st, k, filepath.Join("../../testdata/masterdata", string(k)+".csv"))
		if err != nil || !rep.OK() {
			t.Fatalf("importing %s: %v\n%s", k, err, rep.String())
		}
	}
	ln := func(qty, unit, buyer, supplier, gtin string) order.Line {
		return order.Line{Quantity: decimal.MustParse(qty), Unit: unit, BuyerPart: buyer, SupplierPart: supplier, GTIN: gtin}
	}
	type input struct {
		partner, customer string
		o                 order.Order
	}
	inputs := []input{
		{"demo-x12", "C-1000", order.Order{Lines: []order.Line{ln("120", "EA", "065322-117", "AB3542", ""), ln("8", "CR", "MPDGART", "", ""),
			ln("80", "EA", "MPTS112374-1C", "", "")}}},
		{"demo-edifact", "", order.Order{Parties: []order.Party{{Role: order.RoleBuyer, ID: "8711576000012", IDScheme: order.SchemeGLN}},
			Lines: []order.Line{ln("8", "", "", "", "5020436373085"), ln("8", "PCE", "", "", "5020436373108")}}},
		{"baumarkt-nord", "C-1001", order.Order{Lines: []order.Line{ln("2", "BX", "BN-4711", "", ""), ln("1", "EA", "BN-9999", "", ""),
			ln("5", "LB", "", "SCR-100", ""), ln("5", "ZZZ", "", "", "4012345000023")}}},
		{"demo-x12", "C-1000", order.Order{Lines: []order.Line{ln("1", "CR", "MPDGART", "", ""), {Quantity: decimal.One, SKU: "HAM-200", Unit: "EA"},
			ln("3", "EA", "UNKNOWN-1", "UNKNOWN-2", ""), ln("2", "BX", "BN-4711", "", "")}}}, // BN-4711: baumarkt-nord's item
		{"demo-x12", "C-1000", order.Order{Lines: []order.Line{ln("2", "UN", "", "", "")}}},
	}
	err = st.Write(ctx, func(tx *store.Tx) error {
		reads := newMasterReads(tx)
		var batch []masterdata.PrefetchOrder
		shared := make([]*order.Order, len(inputs))
		for i, in := range inputs {
			shared[i] = copyOrder(in.o)
			batch = append(batch, masterdata.PrefetchOrder{Order: shared[i], Partner: in.partner})
		}
		if err := masterdata.Prefetch(ctx, reads, batch); err != nil {
			return err
		}
		kept := []int{len(reads.products), len(reads.byGTIN), len(reads.items), len(reads.units)}
		prefetched := reads.reads
		for i, in := range inputs {
			alone := copyOrder(in.o)
			want, err := masterdata.ResolveWith(ctx, tx, alone, in.partner, in.customer)
			if err != nil {
				return err
			}
			got, err := masterdata.ResolveWith(ctx, reads, shared[i], in.partner, in.customer)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("order %d: resolved with the shared lookups\n%+v\nalone\n%+v", i, got, want)
			}
			if !reflect.DeepEqual(shared[i], alone) {
				t.Errorf("order %d: order resolved with the shared lookups\n%+v\nalone\n%+v", i, shared[i], alone)
			}
		}
		if now := []int{len(reads.products), len(reads.byGTIN), len(reads.items), len(reads.units)}; !reflect.DeepEqual(now, kept) ||
			reads.reads != prefetched {
			t.Errorf("kept products, GTINs, items, units: %v after Prefetch (%d lookups), %v after resolving (%d lookups)",
				kept, prefetched, now, reads.reads)
		}
		if prefetched != 8 { // items and units of 3 partners, products, GTINs
			t.Errorf("Prefetch: %d lookups, want 8", prefetched)
		}
		if kept[0] == 0 || kept[2] == 0 || kept[3] == 0 {
			t.Errorf("kept products, GTINs, items, units: %v, want some of each", kept)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// copyOrder copies o's lines and parties, which resolving changes.
func copyOrder(o order.Order) *order.Order {
	c := o
	c.Lines = append([]order.Line(nil), o.Lines...)
	c.Parties = append([]order.Party(nil), o.Parties...)
	return &c
}
