package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The batch lookups answer for all the lines of an order in one query
// each, where the single lookups take one round trip per line and id: on
// PostgreSQL, over a network, that is the difference between a few
// milliseconds and a few hundred per order. They return what the single
// lookups would, keyed by the value asked for; absent keys were not found.

// maxBatch bounds the values of one IN list (SQLite allows 32,766
// variables, PostgreSQL 65,535; orders have far fewer lines).
const maxBatch = 500

// inList returns "?, ?, ..." for n values.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// distinct returns the non-empty values once each, sorted.
func distinct(vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// chunks calls fn with the values in slices of at most maxBatch.
func chunks(vals []string, fn func([]string) error) error {
	for len(vals) > 0 {
		n := min(len(vals), maxBatch)
		if err := fn(vals[:n]); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

func args(vals []string, first ...any) []any {
	out := make([]any, 0, len(first)+len(vals))
	out = append(out, first...)
	for _, v := range vals {
		out = append(out, v)
	}
	return out
}

func products(ctx context.Context, q querier, skus []string) (map[string]Product, error) {
	out := map[string]Product{}
	err := chunks(distinct(skus), func(part []string) error {
		rows, err := q.QueryContext(ctx, `SELECT `+productColumns+` FROM products WHERE sku IN (`+inList(len(part))+`)`, args(part)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanProduct(rows)
			if err != nil {
				return err
			}
			out[p.SKU] = p
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading products: %w", err)
	}
	return out, nil
}

func productsByGTIN(ctx context.Context, q querier, gtins []string) (map[string]Product, error) {
	byG14 := map[string][]string{} // GTIN-14 -> the values asked for
	var keys []string
	for _, g := range distinct(gtins) {
		if g14 := GTIN14(g); g14 != "" {
			if len(byG14[g14]) == 0 {
				keys = append(keys, g14)
			}
			byG14[g14] = append(byG14[g14], g)
		}
	}
	out := map[string]Product{}
	err := chunks(keys, func(part []string) error {
		// The lowest SKU per GTIN wins, as in ProductByGTIN.
		rows, err := q.QueryContext(ctx, `SELECT `+productColumns+`, gtin14 FROM products WHERE gtin14 IN (`+inList(len(part))+`) ORDER BY gtin14, sku`, args(part)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g14 string
			p, err := scanProduct(extraColumn{rows, &g14})
			if err != nil {
				return err
			}
			for _, asked := range byG14[g14] {
				if _, seen := out[asked]; !seen {
					out[asked] = p
				}
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading products by GTIN: %w", err)
	}
	return out, nil
}

// extraColumn scans one more column after a product's.
type extraColumn struct {
	row   interface{ Scan(...any) error }
	extra any
}

func (e extraColumn) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra)...) }

// xrefRow is one cross-reference row.
type xrefRow struct {
	partner, key, val string
	updated           int64
}

// xrefs reads the cross-references of partner (and of any partner, "")
// for the values, by value; the partner's own row wins.
func xrefs(ctx context.Context, q querier, table, keyCol, valCol, partner string, vals []string) (map[string]xrefRow, error) {
	found := map[string]xrefRow{}
	err := chunks(distinct(vals), func(part []string) error {
		rows, err := q.QueryContext(ctx, `SELECT partner_id, `+keyCol+`, `+valCol+`, updated_at FROM `+table+`
			WHERE partner_id IN (?, '') AND `+keyCol+` IN (`+inList(len(part))+`)`, args(part, partner)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r xrefRow
			if err := rows.Scan(&r.partner, &r.key, &r.val, &r.updated); err != nil {
				return err
			}
			if cur, ok := found[r.key]; ok && cur.partner == partner {
				continue
			}
			found[r.key] = r
		}
		return rows.Err()
	})
	return found, err
}

func itemXrefs(ctx context.Context, q querier, partner string, items []string) (map[string]ItemXref, error) {
	rows, err := xrefs(ctx, q, "item_xrefs", "partner_item", "sku", partner, items)
	if err != nil {
		return nil, fmt.Errorf("reading item xrefs of %s: %w", partner, err)
	}
	out := make(map[string]ItemXref, len(rows))
	for k, r := range rows {
		out[k] = ItemXref{PartnerID: r.partner, PartnerItem: r.key, SKU: r.val, UpdatedAt: fromNanos(r.updated)}
	}
	return out, nil
}

func unitXrefs(ctx context.Context, q querier, partner string, units []string) (map[string]UnitXref, error) {
	rows, err := xrefs(ctx, q, "unit_xrefs", "partner_unit", "unit", partner, units)
	if err != nil {
		return nil, fmt.Errorf("reading unit xrefs of %s: %w", partner, err)
	}
	out := make(map[string]UnitXref, len(rows))
	for k, r := range rows {
		out[k] = UnitXref{PartnerID: r.partner, PartnerUnit: r.key, Unit: r.val, UpdatedAt: fromNanos(r.updated)}
	}
	return out, nil
}

// Products returns the products with these SKUs, by SKU.
func (t *Tx) Products(ctx context.Context, skus []string) (map[string]Product, error) {
	return products(ctx, t.tx, skus)
}

// ProductsByGTIN returns the products with these GTINs (compared as
// GTIN-14; the lowest SKU of a GTIN), by the GTIN as asked.
func (t *Tx) ProductsByGTIN(ctx context.Context, gtins []string) (map[string]Product, error) {
	return productsByGTIN(ctx, t.tx, gtins)
}

// ItemXrefs returns the item cross-references of the partner's items (a
// row for any partner when the partner has none), by item.
func (t *Tx) ItemXrefs(ctx context.Context, partner string, items []string) (map[string]ItemXref, error) {
	return itemXrefs(ctx, t.tx, partner, items)
}

// UnitXrefs returns the unit cross-references of the partner's units (a
// row for any partner when the partner has none), by unit.
func (t *Tx) UnitXrefs(ctx context.Context, partner string, units []string) (map[string]UnitXref, error) {
	return unitXrefs(ctx, t.tx, partner, units)
}

// Products is Tx.Products over committed data.
func (s *Store) Products(ctx context.Context, skus []string) (map[string]Product, error) {
	return readValue(ctx, s, func(q querier) (map[string]Product, error) { return products(ctx, q, skus) })
}

// ProductsByGTIN is Tx.ProductsByGTIN over committed data.
func (s *Store) ProductsByGTIN(ctx context.Context, gtins []string) (map[string]Product, error) {
	return readValue(ctx, s, func(q querier) (map[string]Product, error) { return productsByGTIN(ctx, q, gtins) })
}

// ItemXrefs is Tx.ItemXrefs over committed data.
func (s *Store) ItemXrefs(ctx context.Context, partner string, items []string) (map[string]ItemXref, error) {
	return readValue(ctx, s, func(q querier) (map[string]ItemXref, error) { return itemXrefs(ctx, q, partner, items) })
}

// UnitXrefs is Tx.UnitXrefs over committed data.
func (s *Store) UnitXrefs(ctx context.Context, partner string, units []string) (map[string]UnitXref, error) {
	return readValue(ctx, s, func(q querier) (map[string]UnitXref, error) { return unitXrefs(ctx, q, partner, units) })
}
