package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

// The decide stage's questions about a customer's other orders.

// PriorOrder is an order of OrdersOfCustomerPO with the content hash the
// normalize stage stored for it (OrderUpdate.ContentHash; "" for an
// order stored before the store kept it).
type PriorOrder struct {
	OrderRecord
	ContentHash string
}

// OrdersOfCustomerPO returns the customer's orders with the purchase order
// number, except the order except, oldest first: the candidates for the
// business layer of duplicate detection (the same PO through any channel).
func (t *Tx) OrdersOfCustomerPO(ctx context.Context, customer, po, except string) ([]PriorOrder, error) {
	if err := t.flushOrdersExcept(ctx, except); err != nil {
		return nil, err
	}
	if customer == "" || po == "" {
		return nil, nil
	}
	// Sorted here, not by the query: on SQLite, a query with ORDER BY
	// here was compiled again at every run (the parser took most of its
	// 20 to 40 us, also as a prepared statement), without it it takes
	// about 3 us; a customer has few orders with one PO number.
	rows, err := t.tx.QueryContext(ctx, `SELECT `+orderColumns+`, content_hash FROM orders
		WHERE po_number = ? AND customer_id = ? AND id <> ?`, po, customer, except)
	if err != nil {
		return nil, fmt.Errorf("orders of %s with PO %s: %w", customer, po, err)
	}
	defer rows.Close()
	var out []PriorOrder
	for rows.Next() {
		var hash string
		r, err := scanOrder(scanAlso{rows, &hash})
		if err != nil {
			return nil, fmt.Errorf("orders of %s with PO %s: %w", customer, po, err)
		}
		out = append(out, PriorOrder{OrderRecord: r, ContentHash: hash})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("orders of %s with PO %s: %w", customer, po, err)
	}
	slices.SortFunc(out, func(a, b PriorOrder) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CustomerHasOtherOrders reports whether the customer has an order other
// than except that was not rejected (customer.first_order of the rules).
func (t *Tx) CustomerHasOtherOrders(ctx context.Context, customer, except string) (bool, error) {
	if err := t.flushOrdersExcept(ctx, except); err != nil {
		return false, err
	}
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM orders
		WHERE customer_id = ? AND id <> ? AND status <> ? LIMIT 1) AS other`, customer, except, order.StatusRejected).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("orders of %s: %w", customer, err)
	}
	return n > 0, nil
}

// OpenOrderTotals returns the totals (exact decimal strings, "" when
// unknown) and currencies of the customer's orders accepted since since
// and not rejected or failed, except the order except: the open orders
// of the credit exposure that the open balance (as of since) does not
// include yet.
func (t *Tx) OpenOrderTotals(ctx context.Context, customer string, since time.Time, except string) (totals, currencies []string, err error) {
	if err := t.flushOrdersExcept(ctx, except); err != nil {
		return nil, nil, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT total, currency FROM orders
		WHERE customer_id = ? AND created_at >= ? AND id <> ? AND status IN (?, ?, ?)`,
		customer, nanos(since), except, order.StatusAccepted, order.StatusRouted, order.StatusDelivered)
	if err != nil {
		return nil, nil, fmt.Errorf("open orders of %s: %w", customer, err)
	}
	defer rows.Close()
	for rows.Next() {
		var total, cur string
		if err := rows.Scan(&total, &cur); err != nil {
			return nil, nil, fmt.Errorf("open orders of %s: %w", customer, err)
		}
		totals, currencies = append(totals, total), append(currencies, cur)
	}
	return totals, currencies, rows.Err()
}

// scanAlso scans a row's leading columns into what the caller gives and
// the columns after them into also.
type scanAlso struct {
	row  interface{ Scan(...any) error }
	also *string
}

func (s scanAlso) Scan(dest ...any) error { return s.row.Scan(append(dest, s.also)...) }
