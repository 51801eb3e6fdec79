package masterdata

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestPrefetchedMissing: a value the prefetch found nothing for is
// store.ErrNotFound, with the message of the store's own lookup.
func TestPrefetchedMissing(t *testing.T) {
	ctx := context.Background()
	p := &prefetched{partner: "acme",
		products: map[string]*store.Product{"S1": nil}, byGTIN: map[string]*store.Product{"0001": nil},
		items: map[string]*store.ItemXref{"I1": nil}, units: map[string]*store.UnitXref{"BX": nil}}
	for _, tt := range []struct {
		name string
		call func() error
		want string
	}{
		{"product", func() error { _, err := p.GetProduct(ctx, "S1"); return err }, "reading product S1: store: not found"},
		{"GTIN", func() error { _, err := p.ProductByGTIN(ctx, "0001"); return err }, "reading product by GTIN 0001: store: not found"},
		{"item", func() error { _, err := p.ItemXref(ctx, "acme", "I1"); return err }, "reading item xref acme/I1: store: not found"},
		{"unit", func() error { _, err := p.UnitXref(ctx, "acme", "BX"); return err }, "reading unit xref acme/BX: store: not found"},
	} {
		err := tt.call()
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want store.ErrNotFound", tt.name, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, err.Error(), tt.want)
		}
	}
}

// recordingLookup is a BatchLookup over a store that records the keys
// of each call.
type recordingLookup struct {
	BatchLookup
	calls []string
}

func (r *recordingLookup) record(what string, keys []string) {
	k := slices.Clone(keys)
	slices.Sort(k)
	r.calls = append(r.calls, what+" "+strings.Join(k, ","))
}

func (r *recordingLookup) Products(ctx context.Context, skus []string) (map[string]store.Product, error) {
	r.record("products", skus)
	return r.BatchLookup.Products(ctx, skus)
}

func (r *recordingLookup) ProductsByGTIN(ctx context.Context, gtins []string) (map[string]store.Product, error) {
	r.record("gtins", gtins)
	return r.BatchLookup.ProductsByGTIN(ctx, gtins)
}

func (r *recordingLookup) ItemXrefs(ctx context.Context, partner string, items []string) (map[string]store.ItemXref, error) {
	r.record("items "+partner, items)
	return r.BatchLookup.ItemXrefs(ctx, partner, items)
}

func (r *recordingLookup) UnitXrefs(ctx context.Context, partner string, units []string) (map[string]store.UnitXref, error) {
	r.record("units "+partner, units)
	return r.BatchLookup.UnitXrefs(ctx, partner, units)
}

// TestPrefetch: the master data of a batch of orders is asked for in one
// lookup of each kind per partner (products and GTINs: one for all),
// with each value once and no empty one; the products include the SKUs
// the partners' item cross-references name.
func TestPrefetch(t *testing.T) {
	st := openStore(t)
	loadDemo(t, st)
	ctx := context.Background()
	x12 := &order.Order{Lines: []order.Line{ln("1", "CR", "MPDGART", "", ""), ln("2", "EA", "MPTS112374-1C", "AB3542", ""), ln("3", " ea ", "MPDGART", "", "")}}
	x12b := &order.Order{Lines: []order.Line{ln("1", "EA", "", "RD5322", "00012345678905"), {Quantity: decimal.One, SKU: "HAM-200", Unit: "EA"}}}
	edi := &order.Order{Lines: []order.Line{ln("8", "PCE", "", "", "5020436373108"), ln("8", "", "", "", "")}}
	rec := &recordingLookup{BatchLookup: st}
	err := Prefetch(ctx, rec, []PrefetchOrder{{x12, "demo-x12"}, {edi, "demo-edifact"}, {x12b, "demo-x12"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"items demo-x12 00012345678905,AB3542,MPDGART,MPTS112374-1C,RD5322",
		"units demo-x12 CR,EA",
		"items demo-edifact 5020436373108",
		"units demo-edifact PCE",
		"products AB3542,HAM-200,HDL-HRL-BN,LCK-80-TNG,RD5322",
		"gtins 00012345678905,5020436373108",
	}
	if !slices.Equal(rec.calls, want) {
		t.Errorf("lookups:\n%s\nwant:\n%s", strings.Join(rec.calls, "\n"), strings.Join(want, "\n"))
	}
}
