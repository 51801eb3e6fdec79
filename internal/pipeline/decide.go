package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// engines compiles the rule set of each configuration and partner once
// (a configuration is an immutable snapshot; a reload brings a new one).
type engines struct {
	mu  sync.Mutex
	cfg *config.Config
	m   map[string]*rules.Engine
}

func (e *engines) of(cfg *config.Config, partnerID string) (*rules.Engine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg != cfg {
		e.cfg, e.m = cfg, map[string]*rules.Engine{}
	}
	if eng, ok := e.m[partnerID]; ok {
		return eng, nil
	}
	eng, err := rules.Compile(cfg.RulesFor(partnerID))
	if err != nil {
		return nil, fmt.Errorf("compiling the rules for partner %q: %w", partnerID, err)
	}
	e.m[partnerID] = eng
	return eng, nil
}

// heldState is what the approvals table keeps for a held order: the
// rules' approval state (levels, trail) and the answer the sender gets
// once every hold is cleared.
type heldState struct {
	Approval rules.ApprovalState `json:"approval"`
	Holds    []rules.Hold        `json:"holds"`
	Response *order.Response     `json:"response,omitempty"`
}

// decideOrder runs the rules on a received order with the facts the store
// has (master data, the customer's other orders) and carries the
// decision out in the same transaction: accepted orders are answered and
// routed, held ones wait in the approvals table, rejected ones are
// answered. Every change, hold, note and task is an event on the order's
// timeline with its rule, reason and numbers. o is rec's order
// (rec.Order(), with o.ID set), which decideOrder does not change; the
// facts are read with r (tx, or the lookups normalize resolved o with).
// sh is the ship-to the master-data resolver found for o.
func (p *Pipeline) decideOrder(ctx context.Context, tx *store.Tx, r factsReader, rec *store.OrderRecord, o *order.Order, sh shipToFacts) error {
	cfg := p.d.Config()
	eng, err := p.engines.of(cfg, rec.PartnerID)
	if err != nil {
		return fmt.Errorf("decide %s: %w: %w", rec.ID, ErrPermanent, err)
	}
	f, err := p.facts(ctx, r, rec, o, sh)
	if err != nil {
		return fmt.Errorf("decide %s: %w", rec.ID, err)
	}
	d := eng.Decide(o, f)
	return p.applyDecision(ctx, tx, rec, d)
}

func (p *Pipeline) facts(ctx context.Context, r factsReader, rec *store.OrderRecord, o *order.Order, sh shipToFacts) (rules.Facts, error) {
	f, err := gatherFacts(ctx, r, rec.ID, o, p.d.Now(), sh)
	if err != nil {
		return rules.Facts{}, err
	}
	f.Now = p.d.Now().UTC()
	return f, nil
}

// WhatIf runs the rules of cfg on an order without changing anything:
// the decision the decide stage would take now, with the facts it would
// use (`ordergate rules test`, `ordergate replay --rules-only`). id is
// the stored order's id, "" for an order not stored.
//
// before, when not zero, leaves out the customer's orders created at or
// after it from the duplicates (a replay sees what was there then).
func WhatIf(ctx context.Context, st *store.Store, cfg *config.Config, partnerID, id string, o *order.Order, now, before time.Time) (rules.Decision, rules.Facts, error) {
	eng, err := (&engines{}).of(cfg, partnerID)
	if err != nil {
		return rules.Decision{}, rules.Facts{}, err
	}
	var f rules.Facts
	partner, _ := cfg.Partner(partnerID)
	err = st.View(ctx, func(tx *store.Tx) error {
		sh, err := resolveShipTo(ctx, tx, o, partnerID, partner.CustomerID)
		if err != nil {
			return err
		}
		f, err = gatherFacts(ctx, tx, id, o, now, sh)
		if err != nil || before.IsZero() {
			return err
		}
		kept := f.Prior[:0]
		for _, pr := range f.Prior {
			rec, err := tx.GetOrder(ctx, pr.ID)
			if err != nil {
				return err
			}
			if rec.CreatedAt.Before(before) {
				kept = append(kept, pr)
			}
		}
		f.Prior = kept
		return nil
	})
	if err != nil {
		return rules.Decision{}, rules.Facts{}, err
	}
	f.Now = now.UTC()
	return eng.Decide(o, f), f, nil
}

// shipToFacts is the ship-to the master-data resolver found for an
// order (masterdata.Result's ShipTo and ShipToNew).
type shipToFacts struct {
	Code string // our ship-to code; "" when the order's ship-to matched none
	New  bool   // the order names a ship-to that is not one of the customer's
	// Hash is the order's ContentHash with Code when the caller has it
	// already (the normalize stage stored it); "" to compute it.
	Hash string
}

func shipToOf(res masterdata.Result) shipToFacts {
	sh := shipToFacts{New: res.ShipToNew}
	if res.ShipTo != nil {
		sh.Code = res.ShipTo.Code
	}
	return sh
}

// resolveShipTo resolves the ship-to of an order resolved before (the
// decide topic, `rules test`, replay) as the normalize stage did.
func resolveShipTo(ctx context.Context, l masterdata.Lookup, o *order.Order, partnerID, partnerCustomerID string) (shipToFacts, error) {
	res, err := masterdata.ResolveShipTo(ctx, l, o, partnerID, partnerCustomerID)
	if err != nil {
		return shipToFacts{}, err
	}
	return shipToOf(res), nil
}

// gatherFacts reads the facts of order o (stored as id; "" for an order
// not stored, as in `rules test`) as of now; sh is the ship-to the
// master-data resolver found for o (cross-references, codes, GLNs and
// addresses).
func gatherFacts(ctx context.Context, tx factsReader, id string, o *order.Order, now time.Time, sh shipToFacts) (rules.Facts, error) {
	var f rules.Facts
	f.ContentHash = sh.Hash
	if f.ContentHash == "" {
		f.ContentHash = ContentHash(o, sh.Code)
	}
	var cust store.Customer
	err := store.ErrNotFound // no customer number, no customer to read
	if o.CustomerID != "" {
		cust, err = tx.GetCustomer(ctx, o.CustomerID)
	}
	switch {
	case o.CustomerID == "" || errors.Is(err, store.ErrNotFound):
	case err != nil:
		return f, err
	default:
		f.Customer = rules.Customer{Known: true, Number: cust.Number, Name: cust.Name, Currency: cust.Currency,
			CreditLimit: cust.CreditLimit, OpenBalance: cust.OpenBalance, Blocked: cust.Blocked,
			SalesRep: rules.SalesRep{Name: cust.SalesRep, Email: cust.SalesRepEmail}}
		other, err := tx.CustomerHasOtherOrders(ctx, cust.Number, id)
		if err != nil {
			return f, err
		}
		f.Customer.FirstOrder = !other
		// Open orders: those accepted since the open balance was imported
		// (the balance covers what was invoiced before), converted into
		// the customer's currency; one that cannot be counted (no total,
		// no exchange rate) is named for the credit rule, which then
		// holds: the exposure would be understated.
		totals, curs, err := tx.OpenOrderTotals(ctx, cust.Number, cust.UpdatedAt, id)
		if err != nil {
			return f, err
		}
		date, err := factsDate(o, now)
		if err != nil {
			return f, err
		}
		if o.Currency != "" && !strings.EqualFold(o.Currency, cust.Currency) {
			if _, err := rateInto(ctx, tx, &f, o.Currency, date); err != nil {
				return f, err
			}
		}
		uncounted := map[string]int{}
		var why []string
		count := func(reason string) {
			if uncounted[reason] == 0 {
				why = append(why, reason)
			}
			uncounted[reason]++
		}
		for i, t := range totals {
			if t == "" {
				count("without a total")
				continue
			}
			v, err := decimal.Parse(t)
			if err != nil {
				count(fmt.Sprintf("with a total %q that is not a number", t))
				continue
			}
			if cur := strings.ToUpper(curs[i]); cur != "" && !strings.EqualFold(cur, cust.Currency) {
				rate, err := rateInto(ctx, tx, &f, cur, date)
				if err != nil {
					return f, err
				}
				if rate.IsZero() {
					count(fmt.Sprintf("in %s (no exchange rate from %s to %s on %s)", cur, cur, strings.ToUpper(cust.Currency), date))
					continue
				}
				if v, err = v.Mul(rate); err != nil {
					count(fmt.Sprintf("of %s %s (converting: %v)", t, cur, err))
					continue
				}
			}
			sum, err := f.OpenOrdersAmount.Add(v)
			if err != nil {
				count(fmt.Sprintf("of %s (adding: %v)", t, err))
				continue
			}
			f.OpenOrdersAmount = sum
		}
		for _, r := range why {
			f.OpenOrdersUncounted = append(f.OpenOrdersUncounted, fmt.Sprintf("%d %s %s", uncounted[r], pluralWord(uncounted[r], "open order"), r))
		}
		f.ShipToNew = sh.New
	}
	f.Products = map[string]rules.Product{}
	f.Prices = make([]*rules.Price, len(o.Lines))
	date, err := factsDate(o, now)
	if err != nil {
		return f, err
	}
	// The lines' products in one query (a round trip per line on postgres).
	skus := make([]string, 0, len(o.Lines))
	for _, l := range o.Lines {
		skus = append(skus, l.SKU)
	}
	products, err := tx.Products(ctx, skus)
	if err != nil {
		return f, err
	}
	for i, l := range o.Lines {
		prod, found := products[l.SKU]
		if l.SKU == "" || !found {
			continue
		}
		rp, factor := productFacts(prod, l.Unit)
		if _, seen := f.Products[l.SKU]; !seen {
			f.Products[l.SKU] = rp
		}
		if !f.Customer.Known {
			continue
		}
		base, err := l.Quantity.Mul(factor)
		if err != nil {
			continue
		}
		price, err := tx.PriceFor(ctx, f.Customer.Number, l.SKU, base, date)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return f, err
		}
		unit, err := price.Price.Mul(factor)
		if err != nil {
			continue
		}
		src := rules.PriceList
		if price.Source() == store.PriceContract {
			src = rules.PriceContract
		}
		f.Prices[i] = &rules.Price{UnitPrice: unit, Currency: price.Currency, Source: src}
	}
	if o.PONumber != "" && o.CustomerID != "" {
		prior, err := tx.OrdersOfCustomerPO(ctx, o.CustomerID, o.PONumber, id)
		if err != nil {
			return f, err
		}
		for _, r := range prior {
			// The earlier order as received and resolved, before the
			// rules changed it, like this one; an order stored before
			// the store kept that hash is hashed as it is now.
			hash := r.ContentHash
			if hash == "" {
				po, err := r.Order()
				if err != nil {
					continue
				}
				hash = ContentHash(po, "")
			}
			f.Prior = append(f.Prior, rules.PriorOrder{ID: r.ID, Channel: r.Channel, Purpose: r.Purpose, ContentHash: hash, Status: r.Status})
		}
	}
	return f, nil
}

// factsDate is the date prices and exchange rates are read for: the
// order's date, else today's.
func factsDate(o *order.Order, now time.Time) (order.Date, error) {
	if !o.PODate.IsZero() {
		return o.PODate, nil
	}
	return order.NewDate(now.Year(), now.Month(), now.Day())
}

// rateInto returns the exchange rate from cur into the customer's
// currency on date, recording it in f.Rates; zero when master data has
// none.
func rateInto(ctx context.Context, tx factsReader, f *rules.Facts, cur string, date order.Date) (decimal.Decimal, error) {
	cur = strings.ToUpper(cur)
	if r, ok := f.Rates[cur]; ok {
		return r, nil
	}
	r, err := tx.ExchangeRate(ctx, cur, f.Customer.Currency, date)
	if errors.Is(err, store.ErrNotFound) {
		return decimal.Zero, nil
	}
	if err != nil {
		return decimal.Zero, err
	}
	if f.Rates == nil {
		f.Rates = map[string]decimal.Decimal{}
	}
	f.Rates[cur] = r.Rate
	return r.Rate, nil
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// productFacts is a product as the item rule sees it for a line in unit:
// ordered in one of its pack units, the pack is the unit (pack size 1, the
// minimum order quantity in packs, rounded up); ordered in its base unit
// (or no unit), full packs of its smallest pack unit and the minimum in
// base units. factor converts the line's quantity to base units.
func productFacts(p store.Product, unit string) (rules.Product, decimal.Decimal) {
	rp := rules.Product{Description: p.Description, Unit: p.BaseUnit, PackSize: decimal.One}
	if p.MinOrderQty != nil {
		rp.MOQ = *p.MinOrderQty
	}
	if unit != "" && unit != p.BaseUnit {
		if f, ok := p.Factor(unit); ok && f.IsPos() {
			rp.Unit = unit
			if p.MinOrderQty != nil {
				if q, err := p.MinOrderQty.Quo(f); err == nil {
					rp.MOQ = q.Ceil(0)
				}
			}
			return rp, f
		}
		return rp, decimal.One // the rule reports the unit the item is not sold in
	}
	for _, u := range p.PackUnits {
		if u.Factor.IsPos() && (rp.PackSize.Equal(decimal.One) || u.Factor.Less(rp.PackSize)) {
			rp.PackSize = u.Factor
		}
	}
	return rp, decimal.One
}

// ContentHash is a hash of an order's business content, the same for the
// same order whatever the channel: customer, ship-to, requested date and
// the lines' items, quantities, units and prices (not ids, envelopes,
// provenance or line numbers' formatting). It tells a faxed copy of an
// EDI order from a changed order. shipTo is our code of the order's
// ship-to as the master-data resolver found it (an EDI order's GLN and a
// fax's address name the same ship-to); "" when it found none: then the
// ship_to party's id counts.
//
// The normalize stage stores the hash of each order as received and
// resolved, before the rules change it; the duplicate rule compares the
// new order in that same state with it.
func ContentHash(o *order.Order, shipTo string) string {
	type line struct{ Item, Qty, Unit, Price string }
	var ls []line
	for _, l := range o.Lines {
		item := l.SKU
		for _, s := range []string{l.GTIN, l.SupplierPart, l.BuyerPart} {
			if item == "" {
				item = s
			}
		}
		price := ""
		if l.UnitPrice != nil {
			price = l.UnitPrice.Trim(0).String()
		}
		ls = append(ls, line{item, l.Quantity.Trim(0).String(), strings.ToUpper(l.Unit), price})
	}
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Item != ls[j].Item {
			return ls[i].Item < ls[j].Item
		}
		return ls[i].Qty < ls[j].Qty
	})
	if st := o.Party(order.RoleShipTo); st != nil && shipTo == "" {
		shipTo = st.ID
	}
	b, _ := json.Marshal(struct {
		Customer, PO, ShipTo, Requested string
		Lines                           []line
	}{o.CustomerID, o.PONumber, shipTo, o.RequestedDelivery.String(), ls})
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
