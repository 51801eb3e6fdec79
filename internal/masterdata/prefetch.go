package masterdata

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// BatchLookup answers the per-line lookups of a whole order at once: a
// query each instead of a round trip per line and id, which is what a
// database over a network needs (*store.Store and *store.Tx have it).
type BatchLookup interface {
	Products(ctx context.Context, skus []string) (map[string]store.Product, error)
	ProductsByGTIN(ctx context.Context, gtins []string) (map[string]store.Product, error)
	ItemXrefs(ctx context.Context, partner string, items []string) (map[string]store.ItemXref, error)
	UnitXrefs(ctx context.Context, partner string, units []string) (map[string]store.UnitXref, error)
}

var (
	_ BatchLookup = (*store.Store)(nil)
	_ BatchLookup = (*store.Tx)(nil)
)

// prefetched is a Lookup whose product, item and unit lookups for one
// order's lines were read in advance; lookups of other values (none, in
// plan) and the customer and party lookups go to the underlying Lookup.
type prefetched struct {
	Lookup
	partner  string
	products map[string]*store.Product // by SKU; nil: not found
	byGTIN   map[string]*store.Product
	items    map[string]*store.ItemXref
	units    map[string]*store.UnitXref
}

// prefetch reads every product, GTIN, item and unit cross-reference the
// lines of o can ask for, in four queries.
func prefetch(ctx context.Context, l Lookup, b BatchLookup, o *order.Order, partner string) (*prefetched, error) {
	var k lookupKeys
	k.add(o)
	skus, gtins, items, units := k.skus, k.gtins, k.items, k.units
	p := &prefetched{Lookup: l, partner: partner, products: map[string]*store.Product{}, byGTIN: map[string]*store.Product{},
		items: map[string]*store.ItemXref{}, units: map[string]*store.UnitXref{}}
	xs, err := b.ItemXrefs(ctx, partner, items)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it == "" {
			continue
		}
		if x, ok := xs[it]; ok {
			p.items[it] = &x
			skus = append(skus, x.SKU)
		} else {
			p.items[it] = nil
		}
	}
	if err := fill(ctx, p.products, skus, b.Products); err != nil {
		return nil, err
	}
	if err := fill(ctx, p.byGTIN, gtins, b.ProductsByGTIN); err != nil {
		return nil, err
	}
	us, err := b.UnitXrefs(ctx, partner, units)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		if u == "" {
			continue
		}
		if x, ok := us[u]; ok {
			p.units[u] = &x
		} else {
			p.units[u] = nil
		}
	}
	return p, nil
}

// lookupKeys are the values the lines of orders can be looked up by.
type lookupKeys struct {
	skus, gtins, items, units []string
}

func (k *lookupKeys) add(o *order.Order) {
	for _, ln := range o.Lines {
		k.skus = append(k.skus, ln.SKU, ln.SupplierPart)
		k.gtins = append(k.gtins, ln.GTIN)
		k.items = append(k.items, ln.BuyerPart, ln.SupplierPart, ln.GTIN, ln.ManufacturerPart)
		k.units = append(k.units, strings.ToUpper(strings.TrimSpace(ln.Unit)))
	}
}

// PrefetchOrder is an order and the partner it came from, for Prefetch.
type PrefetchOrder struct {
	Order   *order.Order
	Partner string
}

// Prefetch asks b, in a few batch lookups for all of them, for what
// resolving the orders' lines will ask it for: the item and unit
// cross-references of each partner, then the products and GTINs. It is
// for a BatchLookup that keeps what it reads (the pipeline's lookups of
// one transaction): resolving each order then finds everything there,
// instead of four queries an order.
func Prefetch(ctx context.Context, b BatchLookup, orders []PrefetchOrder) error {
	byPartner := map[string]*lookupKeys{}
	var partners []string
	var skus, gtins []string
	for _, po := range orders {
		k := byPartner[po.Partner]
		if k == nil {
			k = &lookupKeys{}
			byPartner[po.Partner] = k
			partners = append(partners, po.Partner)
		}
		k.add(po.Order)
	}
	for _, partner := range partners {
		k := byPartner[partner]
		xs, err := b.ItemXrefs(ctx, partner, nonEmpty(k.items))
		if err != nil {
			return err
		}
		for _, x := range xs {
			skus = append(skus, x.SKU)
		}
		if _, err := b.UnitXrefs(ctx, partner, nonEmpty(k.units)); err != nil {
			return err
		}
		skus = append(skus, k.skus...)
		gtins = append(gtins, k.gtins...)
	}
	if _, err := b.Products(ctx, nonEmpty(skus)); err != nil {
		return err
	}
	_, err := b.ProductsByGTIN(ctx, nonEmpty(gtins))
	return err
}

// nonEmpty returns the distinct values of vs but "".
func nonEmpty(vs []string) []string {
	seen := make(map[string]bool, len(vs))
	out := vs[:0:0]
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// fill records in m, for each key, the product found or nil.
func fill(ctx context.Context, m map[string]*store.Product, keys []string, get func(context.Context, []string) (map[string]store.Product, error)) error {
	found, err := get(ctx, keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if pr, ok := found[k]; ok {
			m[k] = &pr
		} else {
			m[k] = nil
		}
	}
	return nil
}

// prefetchMiss is a prefetched lookup's answer for a value the store does
// not have: store.ErrNotFound, with the message the store's own lookup
// gives ("reading product X: not found"), formatted only when asked for.
// The resolver asks for most values of an order with unknown items and
// only checks the error's kind, so formatting each answer cost more than
// the lookups themselves.
type prefetchMiss struct {
	what, partner, key string
	xref               bool // the key is the partner's: "partner/key"
}

func (e *prefetchMiss) Error() string {
	key := e.key
	if e.xref {
		key = e.partner + "/" + e.key
	}
	return fmt.Sprintf("reading %s %s: %v", e.what, key, store.ErrNotFound)
}

func (e *prefetchMiss) Unwrap() error { return store.ErrNotFound }

func (p *prefetched) GetProduct(ctx context.Context, sku string) (store.Product, error) {
	pr, asked := p.products[sku]
	switch {
	case !asked:
		return p.Lookup.GetProduct(ctx, sku)
	case pr == nil:
		return store.Product{}, &prefetchMiss{what: "product", key: sku}
	}
	return *pr, nil
}

func (p *prefetched) ProductByGTIN(ctx context.Context, gtin string) (store.Product, error) {
	pr, asked := p.byGTIN[gtin]
	switch {
	case !asked:
		return p.Lookup.ProductByGTIN(ctx, gtin)
	case pr == nil:
		return store.Product{}, &prefetchMiss{what: "product by GTIN", key: gtin}
	}
	return *pr, nil
}

func (p *prefetched) ItemXref(ctx context.Context, partner, item string) (store.ItemXref, error) {
	x, asked := p.items[item]
	switch {
	case !asked || partner != p.partner:
		return p.Lookup.ItemXref(ctx, partner, item)
	case x == nil:
		return store.ItemXref{}, &prefetchMiss{what: "item xref", partner: partner, key: item, xref: true}
	}
	return *x, nil
}

func (p *prefetched) UnitXref(ctx context.Context, partner, unit string) (store.UnitXref, error) {
	x, asked := p.units[unit]
	switch {
	case !asked || partner != p.partner:
		return p.Lookup.UnitXref(ctx, partner, unit)
	case x == nil:
		return store.UnitXref{}, &prefetchMiss{what: "unit xref", partner: partner, key: unit, xref: true}
	}
	return *x, nil
}
