package masterdata

import (
	"context"
	"errors"
	"testing"

	"github.com/ordergate/ordergate/internal/store"
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
