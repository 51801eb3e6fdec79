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

// masterReads is a transaction's master data lookups that keep the
// customers and ship-tos they read: the normalize stage resolves an order
// with it, and the decide stage, in the same transaction, gathers its
// facts without reading them again (nothing in between writes master
// data).
type masterReads struct {
	*store.Tx
	customers map[string]customerRead
	shipTos   map[string][]store.ShipTo
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
	return &masterReads{Tx: tx, customers: map[string]customerRead{}, shipTos: map[string][]store.ShipTo{}}
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
