package masterdata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// Lookup is the master data the resolver reads. *store.Store (committed
// data) and *store.Tx (inside a transaction, such as a pipeline handler's)
// both have it.
type Lookup interface {
	GetCustomer(ctx context.Context, number string) (store.Customer, error)
	ShipTos(ctx context.Context, customer string) ([]store.ShipTo, error)
	GetProduct(ctx context.Context, sku string) (store.Product, error)
	ProductByGTIN(ctx context.Context, gtin string) (store.Product, error)
	PartyXref(ctx context.Context, partner, scheme, id string) (store.PartyXref, error)
	ItemXref(ctx context.Context, partner, item string) (store.ItemXref, error)
	UnitXref(ctx context.Context, partner, unit string) (store.UnitXref, error)
}

var (
	_ Lookup = (*store.Store)(nil)
	_ Lookup = (*store.Tx)(nil)
)

// Where a customer came from (Result.CustomerFrom).
const (
	FromOrder   = "order"   // the order's customer_id (desk, web)
	FromParty   = "party"   // a party's cross-reference or our number (seller scheme)
	FromPartner = "partner" // the partner's configured customer
)

// Result is what Resolve found for an order.
type Result struct {
	CustomerID   string          // "" when unresolved
	CustomerFrom string          // FromOrder, FromParty, FromPartner
	Customer     *store.Customer // nil when unresolved
	// ShipTo is the ship-to of the customer the order's ship_to party
	// matched; nil when it matched none or the order has no ship_to.
	ShipTo *store.ShipTo
	// ShipToNew: the order has a ship_to party (an id or an address) that
	// is not one of the customer's ship-tos.
	ShipToNew  bool
	Lines      []LineResult // one per order line
	Unresolved []string     // "path: reason", also appended to the order
}

// LineResult is what Resolve found for one line.
type LineResult struct {
	SKU     string         // "" when unresolved
	From    string         // which id gave the SKU: sku, supplier_part, gtin, buyer_part xref, ...
	Product *store.Product // nil when unresolved
	Unit    string         // our unit code; "" when unresolved
}

// Resolver maps an order's partner ids, item ids and unit codes to our
// customer, ship-to, SKUs and units. It only reads master data.
type Resolver struct {
	st  *store.Store
	log *slog.Logger
}

// NewResolver returns a resolver over the store's committed master data.
// log may be nil.
func NewResolver(st *store.Store, log *slog.Logger) *Resolver {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Resolver{st: st, log: log}
}

// Resolve resolves o against master data read in one snapshot and
// updates o (see ResolveWith).
func (r *Resolver) Resolve(ctx context.Context, o *order.Order, partnerID, partnerCustomerID string) (Result, error) {
	var res Result
	err := r.st.View(ctx, func(tx *store.Tx) error {
		var err error
		res, err = plan(ctx, tx, o, partnerID, partnerCustomerID)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("resolving order %s: %w", o.PONumber, err)
	}
	apply(o, res)
	r.log.DebugContext(ctx, "masterdata: resolved order", "partner", partnerID, "customer", res.CustomerID,
		"lines", len(o.Lines), "unresolved", len(res.Unresolved))
	return res, nil
}

// ResolveWith resolves o with the lookups of l (a *store.Tx inside a
// pipeline handler's transaction) and updates o: it sets CustomerID and
// each line's SKU and unit where found, records where they came from in
// the provenance, and replaces the Unresolved entries of those fields
// with what could not be resolved now ("lines[2].sku: no item for buyer
// part X").
//
// The customer is the order's CustomerID when given; else the one a party
// cross-reference of the buyer, bill-to or ship-to party names (or the
// party id itself in the seller scheme: our customer number); else the
// partner's configured customer. The ship-to is the one a party
// cross-reference names, or the customer's ship-to whose code or GLN is
// the ship_to party's id, or whose postal code and first address line are
// the party's. A line's SKU comes from its sku, supplier_part (our SKU),
// GTIN, or the partner's item cross-reference of its buyer_part (then of
// its supplier_part, GTIN and manufacturer_part). Its unit comes from the
// partner's unit cross-reference, the standard's unit table, or the
// product's own units; an empty unit is the product's base unit.
func ResolveWith(ctx context.Context, l Lookup, o *order.Order, partnerID, partnerCustomerID string) (Result, error) {
	res, err := plan(ctx, l, o, partnerID, partnerCustomerID)
	if err != nil {
		return Result{}, fmt.Errorf("resolving order %s: %w", o.PONumber, err)
	}
	apply(o, res)
	return res, nil
}

// ResolveShipTo resolves only o's customer and ship-to, as ResolveWith
// does, and does not change o: the ship-to an order already resolved
// names (the decide stage, `ordergate rules test` and replay read it
// with this). Result.Lines is nil.
func ResolveShipTo(ctx context.Context, l Lookup, o *order.Order, partnerID, partnerCustomerID string) (Result, error) {
	p := &planner{ctx: ctx, l: l, o: o, partner: partnerID}
	if err := p.customer(partnerCustomerID); err != nil {
		return Result{}, fmt.Errorf("resolving the ship-to of order %s: %w", o.PONumber, err)
	}
	if err := p.shipTo(); err != nil {
		return Result{}, fmt.Errorf("resolving the ship-to of order %s: %w", o.PONumber, err)
	}
	return p.res, nil
}

// resolution is a Result with the provenance of each value it sets.
type planner struct {
	ctx     context.Context
	l       Lookup
	o       *order.Order
	partner string
	res     Result
}

func (p *planner) unresolved(path, format string, args ...any) {
	p.res.Unresolved = append(p.res.Unresolved, path+": "+fmt.Sprintf(format, args...))
}

// plan reads what the order needs and decides; it does not change o.
func plan(ctx context.Context, l Lookup, o *order.Order, partnerID, partnerCustomerID string) (Result, error) {
	if b, ok := l.(BatchLookup); ok && len(o.Lines) > 1 {
		pf, err := prefetch(ctx, l, b, o, partnerID)
		if err != nil {
			return Result{}, err
		}
		l = pf
	}
	p := &planner{ctx: ctx, l: l, o: o, partner: partnerID}
	if err := p.customer(partnerCustomerID); err != nil {
		return Result{}, err
	}
	if err := p.shipTo(); err != nil {
		return Result{}, err
	}
	p.res.Lines = make([]LineResult, len(o.Lines))
	for i := range o.Lines {
		if err := p.line(i); err != nil {
			return Result{}, err
		}
	}
	return p.res, nil
}

// party looks a party up: its cross-reference, or, in the seller scheme
// (an id we assigned), our customer number.
func (p *planner) party(pt *order.Party) (store.PartyXref, bool, error) {
	if pt == nil || pt.ID == "" {
		return store.PartyXref{}, false, nil
	}
	x, err := p.l.PartyXref(p.ctx, p.partner, pt.IDScheme, pt.ID)
	if err == nil {
		return x, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.PartyXref{}, false, err
	}
	if pt.IDScheme == order.SchemeSeller {
		c, err := p.l.GetCustomer(p.ctx, pt.ID)
		if err == nil {
			return store.PartyXref{CustomerNumber: c.Number}, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.PartyXref{}, false, err
		}
	}
	return store.PartyXref{}, false, nil
}

func (p *planner) customer(partnerCustomerID string) error {
	number, from := "", ""
	if p.o.CustomerID != "" {
		number, from = p.o.CustomerID, FromOrder
	}
	for _, role := range []string{order.RoleBuyer, order.RoleBillTo, order.RoleShipTo} {
		if number != "" {
			break
		}
		x, ok, err := p.party(p.o.Party(role))
		if err != nil {
			return err
		}
		if ok {
			number, from = x.CustomerNumber, FromParty
		}
	}
	if number == "" && partnerCustomerID != "" {
		number, from = partnerCustomerID, FromPartner
	}
	if number == "" {
		p.unresolved("customer_id", "no customer: no buyer, bill-to or ship-to party has a cross-reference and partner %q has no customer", p.partner)
		return nil
	}
	c, err := p.l.GetCustomer(p.ctx, number)
	if errors.Is(err, store.ErrNotFound) {
		p.unresolved("customer_id", "customer %s (from the %s) is not in master data", number, from)
		return nil
	}
	if err != nil {
		return err
	}
	p.res.CustomerID, p.res.CustomerFrom, p.res.Customer = c.Number, from, &c
	return nil
}

func (p *planner) shipTo() error {
	idx := -1
	for i := range p.o.Parties {
		if p.o.Parties[i].Role == order.RoleShipTo {
			idx = i
			break
		}
	}
	if idx < 0 || p.res.Customer == nil {
		return nil
	}
	pt := &p.o.Parties[idx]
	if pt.ID == "" && pt.Address == nil {
		return nil
	}
	cust := p.res.CustomerID
	sts, err := p.l.ShipTos(p.ctx, cust)
	if err != nil {
		return err
	}
	path := order.PartyPath(idx, "id")
	x, ok, err := p.party(pt)
	if err != nil {
		return err
	}
	if ok && x.ShipToCode != "" {
		if x.CustomerNumber != cust {
			p.unresolved(path, "ship-to %s belongs to customer %s, not %s", pt.ID, x.CustomerNumber, cust)
			p.res.ShipToNew = true
			return nil
		}
		for i := range sts {
			if sts[i].Code == x.ShipToCode {
				p.res.ShipTo = &sts[i]
				return nil
			}
		}
	}
	for i := range sts {
		s := &sts[i]
		if pt.ID != "" && (s.Code == pt.ID || sameGLN(s.GLN, pt.ID)) {
			p.res.ShipTo = s
			return nil
		}
		if pt.ID == "" && sameAddress(s, pt.Address) {
			p.res.ShipTo = s
			return nil
		}
	}
	p.res.ShipToNew = true
	if pt.ID != "" {
		scheme := pt.IDScheme
		if scheme == "" {
			scheme = "no scheme"
		}
		p.unresolved(path, "ship-to %s (%s) is not a ship-to of customer %s", pt.ID, scheme, cust)
	}
	return nil
}

func sameGLN(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ga, gb := store.GTIN14(a), store.GTIN14(b)
	return ga != "" && ga == gb
}

// sameAddress compares the postal code and the first address line,
// ignoring case and spacing.
func sameAddress(s *store.ShipTo, a *order.Address) bool {
	if a == nil || len(a.Lines) == 0 || s.PostalCode == "" || s.Street == "" {
		return false
	}
	norm := func(v string) string { return strings.ToLower(strings.Join(strings.Fields(v), "")) }
	return norm(s.PostalCode) == norm(a.PostalCode) && norm(s.Street) == norm(a.Lines[0])
}

func (p *planner) line(i int) error {
	l := &p.o.Lines[i]
	lr := &p.res.Lines[i]
	prod, from, err := p.item(l)
	if err != nil {
		return err
	}
	skuPath := order.LinePath(i, "sku")
	switch {
	case prod != nil:
		lr.SKU, lr.From, lr.Product = prod.SKU, from, prod
	case l.SKU != "":
		p.unresolved(skuPath, "no product %s", l.SKU)
	default:
		var ids []string
		for _, id := range []struct{ what, v string }{
			{"buyer part", l.BuyerPart}, {"supplier part", l.SupplierPart}, {"GTIN", l.GTIN}, {"manufacturer part", l.ManufacturerPart},
		} {
			if id.v != "" {
				ids = append(ids, id.what+" "+id.v)
			}
		}
		if len(ids) == 0 {
			p.unresolved(skuPath, "the line has no item id (sku, supplier part, GTIN or buyer part)")
		} else {
			p.unresolved(skuPath, "no item for %s", strings.Join(ids, ", "))
		}
	}
	return p.unit(i, l, lr)
}

// item finds the line's product and says which id found it.
func (p *planner) item(l *order.Line) (*store.Product, string, error) {
	found := func(pr store.Product, err error) (*store.Product, error) {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &pr, nil
	}
	if l.SKU != "" {
		pr, err := found(p.l.GetProduct(p.ctx, l.SKU))
		return pr, "sku", err
	}
	if l.SupplierPart != "" {
		if pr, err := found(p.l.GetProduct(p.ctx, l.SupplierPart)); pr != nil || err != nil {
			return pr, "supplier_part", err
		}
	}
	if l.GTIN != "" {
		if pr, err := found(p.l.ProductByGTIN(p.ctx, l.GTIN)); pr != nil || err != nil {
			return pr, "gtin", err
		}
	}
	for _, id := range []struct{ field, v string }{
		{"buyer_part", l.BuyerPart}, {"supplier_part", l.SupplierPart}, {"gtin", l.GTIN}, {"manufacturer_part", l.ManufacturerPart},
	} {
		if id.v == "" {
			continue
		}
		x, err := p.l.ItemXref(p.ctx, p.partner, id.v)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		pr, err := found(p.l.GetProduct(p.ctx, x.SKU))
		if pr != nil || err != nil {
			return pr, id.field + " xref", err
		}
	}
	return nil, "", nil
}

func (p *planner) unit(i int, l *order.Line, lr *LineResult) error {
	path := order.LinePath(i, "unit")
	raw := strings.ToUpper(strings.TrimSpace(l.Unit))
	if raw == "" {
		if lr.Product != nil {
			lr.Unit = lr.Product.BaseUnit
		}
		return nil
	}
	unit := ""
	x, err := p.l.UnitXref(p.ctx, p.partner, raw)
	switch {
	case err == nil:
		unit = x.Unit
	case !errors.Is(err, store.ErrNotFound):
		return err
	default:
		if u, ok := StandardUnit(p.o.Source.Standard, raw); ok {
			unit = u
		} else if lr.Product != nil {
			if _, ok := lr.Product.Factor(raw); ok {
				unit = raw
			}
		}
	}
	if unit == "" {
		p.unresolved(path, "unknown unit code %s", raw)
		return nil
	}
	if lr.Product != nil {
		if _, ok := lr.Product.Factor(unit); !ok {
			ours := ""
			if unit != raw {
				ours = " (our " + unit + ")"
			}
			p.unresolved(path, "SKU %s is not sold in %s%s; its units: %s", lr.SKU, raw, ours, strings.Join(lr.Product.Units(), ", "))
			return nil
		}
	}
	lr.Unit = unit
	return nil
}

// ownsPath reports whether an Unresolved entry is about a field Resolve
// decides, so that a new resolution replaces it.
func ownsPath(entry string) bool {
	path, _, _ := strings.Cut(entry, ":")
	switch {
	case path == "customer_id":
		return true
	case strings.HasPrefix(path, "lines[") && (strings.HasSuffix(path, "].sku") || strings.HasSuffix(path, "].unit")):
		return true
	case strings.HasPrefix(path, "parties[") && strings.HasSuffix(path, "].id"):
		return true
	}
	return false
}

// apply writes the result into the order.
func apply(o *order.Order, res Result) {
	if res.CustomerID != "" && o.CustomerID != res.CustomerID {
		o.CustomerID = res.CustomerID
		o.SetProvenance("customer_id", "masterdata: "+res.CustomerFrom)
	}
	for i, lr := range res.Lines {
		l := &o.Lines[i]
		if lr.SKU != "" && l.SKU != lr.SKU {
			l.SKU = lr.SKU
			o.SetProvenance(order.LinePath(i, "sku"), "masterdata: "+lr.From)
		}
		if lr.Unit != "" && l.Unit != lr.Unit {
			if l.Unit == "" {
				o.SetProvenance(order.LinePath(i, "unit"), "masterdata: base unit of "+lr.SKU)
			} else {
				o.SetProvenance(order.LinePath(i, "unit"), "masterdata: unit "+l.Unit)
			}
			l.Unit = lr.Unit
		}
	}
	kept := o.Unresolved[:0]
	for _, e := range o.Unresolved {
		if !ownsPath(e) {
			kept = append(kept, e)
		}
	}
	o.Unresolved = append(kept, res.Unresolved...)
	if len(o.Unresolved) == 0 {
		o.Unresolved = nil
	}
}
