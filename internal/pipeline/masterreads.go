package pipeline

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// factsReader is what gatherFacts reads: a *store.Tx, or the masterReads
// over it that the normalize stage resolved the order with.
type factsReader interface {
	masterdata.Lookup
	CustomerHasOtherOrders(ctx context.Context, customer, except string) (bool, error)
	OpenOrderTotals(ctx context.Context, customer string, since time.Time, except string) ([]string, []string, error)
	ExchangeRate(ctx context.Context, from, to string, on order.Date) (store.ExchangeRate, error)
	Products(ctx context.Context, skus []string) (map[string]store.Product, error)
	PriceFor(ctx context.Context, customer, sku string, qty decimal.Decimal, on order.Date) (store.Price, error)
	OrdersOfCustomerPO(ctx context.Context, customer, po, except string) ([]store.PriorOrder, error)
}

// masterReads is a transaction's master data lookups that keep what they
// read: the customers and ship-tos, and the products and item and unit
// cross-references the resolver asks for in batches (an entry nil: not
// found). The normalize stage resolves an order with it, and the decide
// stage, in the same transaction, gathers its facts without reading them
// again; intake resolves a whole batch of orders with one, after reading
// what all of them need in a few queries (masterdata.Prefetch). Nothing
// in a pipeline transaction writes master data (only imports do, in
// transactions of their own), so what it keeps stays true.
type masterReads struct {
	*store.Tx
	customers map[string]customerRead
	shipTos   map[string][]store.ShipTo
	products  map[string]*store.Product
	byGTIN    map[string]*store.Product
	items     map[[2]string]*store.ItemXref // by partner and item
	units     map[[2]string]*store.UnitXref
	reads     int // batch lookups that went to the transaction
}

type customerRead struct {
	c   store.Customer
	err error // nil or store.ErrNotFound
}

var (
	_ masterdata.Lookup      = (*masterReads)(nil)
	_ masterdata.BatchLookup = (*masterReads)(nil)
	_ factsReader            = (*masterReads)(nil)
	_ factsReader            = (*store.Tx)(nil)
)

func newMasterReads(tx *store.Tx) *masterReads {
	return &masterReads{Tx: tx, customers: map[string]customerRead{}, shipTos: map[string][]store.ShipTo{},
		products: map[string]*store.Product{}, byGTIN: map[string]*store.Product{},
		items: map[[2]string]*store.ItemXref{}, units: map[[2]string]*store.UnitXref{}}
}

// Products is Tx.Products, reading only the SKUs not read before.
func (m *masterReads) Products(ctx context.Context, skus []string) (map[string]store.Product, error) {
	return kept(ctx, &m.reads, m.products, skus, func(k string) string { return k }, m.Tx.Products)
}

// ProductsByGTIN is Tx.ProductsByGTIN, reading only the GTINs not read
// before (kept as asked).
func (m *masterReads) ProductsByGTIN(ctx context.Context, gtins []string) (map[string]store.Product, error) {
	return kept(ctx, &m.reads, m.byGTIN, gtins, func(k string) string { return k }, m.Tx.ProductsByGTIN)
}

// ItemXrefs is Tx.ItemXrefs, reading only the partner's items not read
// before.
func (m *masterReads) ItemXrefs(ctx context.Context, partner string, items []string) (map[string]store.ItemXref, error) {
	return kept(ctx, &m.reads, m.items, items, func(k string) [2]string { return [2]string{partner, k} },
		func(ctx context.Context, ks []string) (map[string]store.ItemXref, error) {
			return m.Tx.ItemXrefs(ctx, partner, ks)
		})
}

// UnitXrefs is Tx.UnitXrefs, reading only the partner's units not read
// before.
func (m *masterReads) UnitXrefs(ctx context.Context, partner string, units []string) (map[string]store.UnitXref, error) {
	return kept(ctx, &m.reads, m.units, units, func(k string) [2]string { return [2]string{partner, k} },
		func(ctx context.Context, ks []string) (map[string]store.UnitXref, error) {
			return m.Tx.UnitXrefs(ctx, partner, ks)
		})
}

// kept answers a batch lookup of keys from seen (by key(k); nil: not
// found), reading the keys it has not seen with read, and keeps what read
// found and did not find, counting its reads in reads. The keys are
// those of the store's batch lookups: "" is never found, and not read.
func kept[K comparable, V any](ctx context.Context, reads *int, seen map[K]*V, keys []string, key func(string) K,
	read func(context.Context, []string) (map[string]V, error)) (map[string]V, error) {
	var missing []string
	for _, k := range keys {
		if _, ok := seen[key(k)]; !ok && k != "" { // the store finds nothing for ""
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		*reads++
		found, err := read(ctx, missing)
		if err != nil {
			return nil, err
		}
		for _, k := range missing {
			if v, ok := found[k]; ok {
				seen[key(k)] = &v
			} else {
				seen[key(k)] = nil
			}
		}
	}
	found := 0
	for _, k := range keys {
		if seen[key(k)] != nil {
			found++
		}
	}
	out := make(map[string]V, found)
	for _, k := range keys {
		if v := seen[key(k)]; v != nil {
			out[k] = *v
		}
	}
	return out, nil
}

// GetCustomer is Tx.GetCustomer, read once per number.
func (m *masterReads) GetCustomer(ctx context.Context, number string) (store.Customer, error) {
	if r, ok := m.customers[number]; ok {
		return r.c, r.err
	}
	c, err := m.Tx.GetCustomer(ctx, number)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		m.customers[number] = customerRead{c, err}
	}
	return c, err
}

// ShipTos is Tx.ShipTos, read once per customer; each call gets a slice
// of its own.
func (m *masterReads) ShipTos(ctx context.Context, customer string) ([]store.ShipTo, error) {
	if s, ok := m.shipTos[customer]; ok {
		return slices.Clone(s), nil
	}
	s, err := m.Tx.ShipTos(ctx, customer)
	if err == nil {
		m.shipTos[customer] = slices.Clone(s)
	}
	return s, err
}
