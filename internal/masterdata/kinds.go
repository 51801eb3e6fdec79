package masterdata

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/internal/store"
)

// --- customers ---------------------------------------------------------------

var customerColumns = []column{
	{"number", true}, {"name", true}, {"currency", true},
	{"credit_limit", false}, {"open_balance", false}, {"payment_terms", false}, {"blocked", false},
	{"price_list", false}, {"sales_rep", false}, {"sales_rep_email", false}, {"phone", false}, {"email", false},
	{"ship_to", false}, {"ship_to_name", false}, {"ship_to_street", false}, {"ship_to_city", false},
	{"ship_to_region", false}, {"ship_to_postal_code", false}, {"ship_to_country", false}, {"ship_to_gln", false},
}

// customerOwn are the columns that describe the customer itself: a
// customer on several lines (one per ship-to) must repeat them unchanged.
var customerOwn = []string{"name", "currency", "credit_limit", "open_balance", "payment_terms", "blocked",
	"price_list", "sales_rep", "sales_rep_email", "phone", "email"}

func parseCustomers(recs []record) ([]pending, []LineError) {
	var out []pending
	var errs []LineError
	first := map[string]record{}
	shipTos := firstLines{}
	for _, rec := range recs {
		f := &fieldErrs{rec: rec}
		c := store.Customer{
			Number:        f.code("number", true),
			Name:          f.text("name", true),
			Currency:      f.currency("currency", true),
			PaymentTerms:  f.text("payment_terms", false),
			Blocked:       f.boolean("blocked"),
			PriceList:     f.code("price_list", false),
			SalesRep:      f.text("sales_rep", false),
			SalesRepEmail: f.email("sales_rep_email"),
			Phone:         f.text("phone", false),
			Email:         f.email("email"),
			CreditLimit:   f.decimal("credit_limit", false, false),
		}
		if b := f.decimal("open_balance", false, true); b != nil {
			c.OpenBalance = *b
		}
		s := store.ShipTo{
			CustomerNumber: c.Number,
			Code:           f.code("ship_to", false),
			Name:           f.text("ship_to_name", false),
			Street:         f.text("ship_to_street", false),
			City:           f.text("ship_to_city", false),
			Region:         f.text("ship_to_region", false),
			PostalCode:     f.text("ship_to_postal_code", false),
			Country:        strings.ToUpper(f.country("ship_to_country")),
			GLN:            f.gtin("ship_to_gln"),
		}
		if s.Code == "" && (s.Name != "" || s.Street != "" || s.City != "" || s.Region != "" || s.PostalCode != "" || s.Country != "" || s.GLN != "") {
			f.add("ship_to", "required when a ship_to_* column has a value")
		}
		if len(f.errs) == 0 {
			if prev, ok := first[c.Number]; ok {
				for _, col := range customerOwn {
					if rec.get(col) != prev.get(col) {
						f.add(col, "differs from line %d of customer %s", prev.line, c.Number)
					}
				}
			}
		}
		if len(f.errs) == 0 && s.Code != "" {
			shipTos.dup(f, "ship_to", c.Number+"\x00"+s.Code)
		}
		if len(f.errs) > 0 {
			errs = append(errs, f.errs...)
			continue
		}
		if _, ok := first[c.Number]; !ok {
			first[c.Number] = rec
			out = append(out, pending{apply: func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
				u, err := tx.UpsertCustomer(ctx, c)
				if err != nil {
					return nil, err
				}
				countUpsert(rep, "customers", u)
				return nil, nil
			}})
		}
		if s.Code != "" {
			out = append(out, pending{apply: func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
				u, err := tx.UpsertShipTo(ctx, s)
				if err != nil {
					return nil, err
				}
				countUpsert(rep, "ship_tos", u)
				return nil, nil
			}})
		}
	}
	return out, errs
}

// --- products ----------------------------------------------------------------

var productColumns = []column{
	{"sku", true}, {"description", true}, {"base_unit", true},
	{"gtin", false}, {"pack_sizes", false}, {"min_order_qty", false}, {"attributes", false},
}

func parseProducts(recs []record) ([]pending, []LineError) {
	var out []pending
	var errs []LineError
	seen := firstLines{}
	gtins := firstLines{}
	for _, rec := range recs {
		f := &fieldErrs{rec: rec}
		p := store.Product{
			SKU:         f.code("sku", true),
			Description: f.text("description", true),
			BaseUnit:    f.unit("base_unit", true),
			GTIN:        f.gtin("gtin"),
			MinOrderQty: f.decimal("min_order_qty", false, false),
		}
		p.PackUnits = parsePackSizes(f, "pack_sizes", p.BaseUnit)
		p.Attributes = parseAttributes(f, "attributes")
		if len(f.errs) == 0 && !seen.dup(f, "sku", p.SKU) && p.GTIN != "" {
			if prev, ok := gtins[store.GTIN14(p.GTIN)]; ok {
				f.add("gtin", "GTIN %s is also the GTIN of line %d", p.GTIN, prev)
			} else {
				gtins[store.GTIN14(p.GTIN)] = rec.line
			}
		}
		if len(f.errs) > 0 {
			errs = append(errs, f.errs...)
			continue
		}
		out = append(out, pending{apply: func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
			u, err := tx.UpsertProduct(ctx, p)
			if err != nil {
				return nil, err
			}
			countUpsert(rep, "products", u)
			return nil, nil
		}})
	}
	return out, errs
}

// parsePackSizes reads "BX=100;PL=4800": units besides the base unit and
// how many base units each holds.
func parsePackSizes(f *fieldErrs, col, base string) []store.PackUnit {
	v := f.text(col, false)
	if v == "" {
		return nil
	}
	var out []store.PackUnit
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ";") {
		unit, factor, ok := strings.Cut(strings.TrimSpace(part), "=")
		unit, factor = strings.ToUpper(strings.TrimSpace(unit)), strings.TrimSpace(factor)
		if !ok {
			f.add(col, "%q is not UNIT=FACTOR (e.g. BX=100;PL=4800)", part)
			return nil
		}
		if !isUnitCode(unit) {
			f.add(col, "unit %q is not 1 to 8 letters and digits", unit)
			return nil
		}
		d, reason := parseDecimal(factor)
		if reason != "" {
			f.add(col, "%s: %s", unit, reason)
			return nil
		}
		switch {
		case !d.IsPos():
			f.add(col, "%s: factor %s is not positive", unit, factor)
			return nil
		case unit == base:
			f.add(col, "%s is the base unit", unit)
			return nil
		case seen[unit]:
			f.add(col, "%s appears twice", unit)
			return nil
		}
		seen[unit] = true
		out = append(out, store.PackUnit{Unit: unit, Factor: d})
	}
	return out
}

// parseAttributes reads "hazmat=true;temperature=frozen": facts about
// a product that routes decide on. Keys are [a-z0-9_]+ (lower-cased
// here), values are trimmed and not empty.
func parseAttributes(f *fieldErrs, col string) map[string]string {
	v := f.text(col, false)
	if v == "" {
		return nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(v, ";") {
		if strings.TrimSpace(part) == "" {
			continue // "a=1;" is fine
		}
		key, val, ok := strings.Cut(part, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		switch {
		case !ok:
			f.add(col, "%q is not KEY=VALUE (e.g. hazmat=true;temperature=frozen)", strings.TrimSpace(part))
			return nil
		case !store.ValidAttributeKey(key):
			f.add(col, "key %q is not letters a-z, digits and _", key)
			return nil
		case val == "":
			f.add(col, "%s: empty value", key)
			return nil
		}
		if _, dup := out[key]; dup {
			f.add(col, "%s appears twice", key)
			return nil
		}
		out[key] = val
	}
	return out
}

// --- prices ------------------------------------------------------------------

var priceColumns = []column{
	{"sku", true}, {"price", true}, {"currency", true},
	{"customer", false}, {"price_list", false}, {"min_qty", false}, {"valid_from", false}, {"valid_to", false},
}

func parsePrices(recs []record) ([]pending, []LineError) {
	var out []pending
	var errs []LineError
	seen := firstLines{}
	for _, rec := range recs {
		f := &fieldErrs{rec: rec}
		p := store.Price{
			SKU:            f.code("sku", true),
			Currency:       f.currency("currency", true),
			CustomerNumber: f.code("customer", false),
			PriceList:      f.code("price_list", false),
			ValidFrom:      f.date("valid_from"),
			ValidTo:        f.date("valid_to"),
		}
		if d := f.decimal("price", true, false); d != nil {
			p.Price = *d
		}
		if d := f.decimal("min_qty", false, false); d != nil {
			p.MinQty = *d
		}
		if p.CustomerNumber != "" && p.PriceList != "" {
			f.add("price_list", "a price is for a customer or a price list, not both")
		}
		if !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && p.ValidTo.Before(p.ValidFrom) {
			f.add("valid_to", "%s is before valid_from %s", p.ValidTo, p.ValidFrom)
		}
		if len(f.errs) == 0 {
			key := strings.Join([]string{p.CustomerNumber, p.PriceList, p.SKU, p.MinQty.Trim(0).String(), p.ValidFrom.String()}, "\x00")
			seen.dup(f, "sku", key)
		}
		if len(f.errs) > 0 {
			errs = append(errs, f.errs...)
			continue
		}
		line := rec.line
		out = append(out, pending{apply: func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
			if _, err := tx.GetProduct(ctx, p.SKU); err != nil {
				return notFound(err, line, "sku", fmt.Sprintf("no product %s (import products first)", p.SKU))
			}
			if p.CustomerNumber != "" {
				if _, err := tx.GetCustomer(ctx, p.CustomerNumber); err != nil {
					return notFound(err, line, "customer", fmt.Sprintf("no customer %s (import customers first)", p.CustomerNumber))
				}
			}
			u, err := tx.UpsertPrice(ctx, p)
			if err != nil {
				return nil, err
			}
			countUpsert(rep, "prices", u)
			return nil, nil
		}})
	}
	return out, errs
}

// --- xrefs -------------------------------------------------------------------

var xrefColumns = []column{
	{"type", true}, {"partner_code", true},
	{"partner", false}, {"scheme", false}, {"customer", false}, {"ship_to", false}, {"sku", false}, {"unit", false},
}

// The values of the xrefs file's type column.
const (
	xrefParty = "party"
	xrefItem  = "item"
	xrefUnit  = "unit"
)

func parseXrefs(recs []record) ([]pending, []LineError) {
	var out []pending
	var errs []LineError
	seen := firstLines{}
	for _, rec := range recs {
		f := &fieldErrs{rec: rec}
		typ := strings.ToLower(f.text("type", true))
		partner := f.text("partner", false)
		if partner != "" && !isPartnerID(partner) {
			f.add("partner", "%q is not a partner id (lower-case letters, digits and -)", partner)
		}
		// Only the columns of the row's type may have values.
		allowed := map[string][]string{
			xrefParty: {"scheme", "customer", "ship_to"},
			xrefItem:  {"sku"},
			xrefUnit:  {"unit"},
		}
		cols, ok := allowed[typ]
		if !ok && typ != "" {
			f.add("type", "%q is not party, item or unit", typ)
		}
		if ok {
			for _, col := range []string{"scheme", "customer", "ship_to", "sku", "unit"} {
				if rec.get(col) != "" && !contains(cols, col) {
					f.add(col, "not used by %s xrefs", typ)
				}
			}
		}
		var p pending
		line := rec.line
		switch typ {
		case xrefParty:
			x := store.PartyXref{
				PartnerID:      partner,
				Scheme:         f.code("scheme", false),
				PartyID:        f.text("partner_code", true),
				CustomerNumber: f.code("customer", true),
				ShipToCode:     f.code("ship_to", false),
			}
			if len(f.errs) == 0 {
				seen.dup(f, "partner_code", strings.Join([]string{typ, x.PartnerID, x.Scheme, x.PartyID}, "\x00"))
			}
			p.apply = func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
				if _, err := tx.GetCustomer(ctx, x.CustomerNumber); err != nil {
					return notFound(err, line, "customer", fmt.Sprintf("no customer %s (import customers first)", x.CustomerNumber))
				}
				if x.ShipToCode != "" {
					sts, err := tx.ShipTos(ctx, x.CustomerNumber)
					if err != nil {
						return nil, err
					}
					found := false
					for _, s := range sts {
						found = found || s.Code == x.ShipToCode
					}
					if !found {
						return &LineError{Line: line, Column: "ship_to",
							Reason: fmt.Sprintf("customer %s has no ship-to %s", x.CustomerNumber, x.ShipToCode)}, nil
					}
				}
				u, err := tx.UpsertPartyXref(ctx, x)
				if err != nil {
					return nil, err
				}
				countUpsert(rep, "party_xrefs", u)
				return nil, nil
			}
		case xrefItem:
			x := store.ItemXref{PartnerID: partner, PartnerItem: f.text("partner_code", true), SKU: f.code("sku", true)}
			if len(f.errs) == 0 {
				seen.dup(f, "partner_code", strings.Join([]string{typ, x.PartnerID, x.PartnerItem}, "\x00"))
			}
			p.apply = func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
				if _, err := tx.GetProduct(ctx, x.SKU); err != nil {
					return notFound(err, line, "sku", fmt.Sprintf("no product %s (import products first)", x.SKU))
				}
				u, err := tx.UpsertItemXref(ctx, x)
				if err != nil {
					return nil, err
				}
				countUpsert(rep, "item_xrefs", u)
				return nil, nil
			}
		case xrefUnit:
			x := store.UnitXref{PartnerID: partner, PartnerUnit: f.unit("partner_code", true), Unit: f.unit("unit", true)}
			if len(f.errs) == 0 {
				seen.dup(f, "partner_code", strings.Join([]string{typ, x.PartnerID, x.PartnerUnit}, "\x00"))
			}
			p.apply = func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
				u, err := tx.UpsertUnitXref(ctx, x)
				if err != nil {
					return nil, err
				}
				countUpsert(rep, "unit_xrefs", u)
				return nil, nil
			}
		}
		if len(f.errs) > 0 {
			errs = append(errs, f.errs...)
			continue
		}
		out = append(out, p)
	}
	return out, errs
}

// isPartnerID reports whether s is a partner id as the config has them.
func isPartnerID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// --- rates -------------------------------------------------------------------

// rateColumns: a currency pair as from and to, or as pair ("EUR/USD",
// "EURUSD"): one unit of from is rate units of to from valid_from.
var rateColumns = []column{
	{"rate", true}, {"from", false}, {"to", false}, {"pair", false}, {"valid_from", false},
}

func parseRates(recs []record) ([]pending, []LineError) {
	var out []pending
	var errs []LineError
	seen := firstLines{}
	for _, rec := range recs {
		f := &fieldErrs{rec: rec}
		r := store.ExchangeRate{
			From:      f.currency("from", false),
			To:        f.currency("to", false),
			ValidFrom: f.date("valid_from"),
		}
		pairCol := "from"
		if pair := f.text("pair", false); pair != "" {
			pairCol = "pair"
			from, to, ok := strings.Cut(pair, "/")
			if !ok && len(pair) == 6 {
				from, to, ok = pair[:3], pair[3:], true
			}
			switch {
			case r.From != "" || r.To != "":
				f.add("pair", "give the pair or from and to, not both")
			case !ok || !isCurrency(from) || !isCurrency(to):
				f.add("pair", "%q is not a currency pair (EUR/USD or EURUSD)", pair)
			default:
				r.From, r.To = from, to
			}
		} else if r.From == "" || r.To == "" {
			f.add("from", "from and to (or pair) are required")
		}
		if d := f.decimal("rate", true, false); d != nil {
			if !d.IsPos() {
				f.add("rate", "%s is not positive", d)
			}
			r.Rate = *d
		}
		if len(f.errs) == 0 && r.From == r.To {
			f.add(pairCol, "from and to are the same currency %s", r.From)
		}
		if len(f.errs) == 0 {
			seen.dup(f, pairCol, r.From+"\x00"+r.To+"\x00"+r.ValidFrom.String())
		}
		if len(f.errs) > 0 {
			errs = append(errs, f.errs...)
			continue
		}
		out = append(out, pending{apply: func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error) {
			u, err := tx.UpsertExchangeRate(ctx, r)
			if err != nil {
				return nil, err
			}
			countUpsert(rep, "exchange_rates", u)
			return nil, nil
		}})
	}
	return out, errs
}

func isCurrency(s string) bool { return len(s) == 3 && strings.ToUpper(s) == s && isLetters(s) }
