package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// Master data: customers, ship-to addresses, products, prices and the
// cross-references from partners' ids and unit codes to ours. Rows are
// keyed by natural keys; the Upsert methods insert or update a row and say
// which (or that nothing changed), so an import from the ERP can run every
// night and count what it did. Nothing here deletes master data.

// Upsert is what an Upsert method did with a row.
type Upsert int

// The outcomes of an upsert.
const (
	Unchanged Upsert = iota // the row existed with the same values
	Inserted                // the row is new
	Updated                 // the row existed with other values
)

func (u Upsert) String() string {
	switch u {
	case Inserted:
		return "inserted"
	case Updated:
		return "updated"
	default:
		return "unchanged"
	}
}

// Customer is one of our accounts.
type Customer struct {
	Number        string
	Name          string
	Phone         string
	Email         string
	Currency      string           // ISO 4217; the currency of CreditLimit and OpenBalance
	CreditLimit   *decimal.Decimal // nil: no limit
	OpenBalance   decimal.Decimal  // unpaid invoices
	PaymentTerms  string
	Blocked       bool
	PriceList     string // the price list the customer buys from ("" the standard list)
	SalesRep      string
	SalesRepEmail string
	UpdatedAt     time.Time
}

// ShipTo is a delivery address of a customer, known by a code of ours and
// optionally a GLN.
type ShipTo struct {
	CustomerNumber string
	Code           string
	Name           string
	Street         string
	City           string
	Region         string
	PostalCode     string
	Country        string
	GLN            string
	UpdatedAt      time.Time
}

// PackUnit is a unit a product is sold in besides its base unit: Factor
// base units make one Unit.
type PackUnit struct {
	Unit   string
	Factor decimal.Decimal
}

// Product is one of our items.
type Product struct {
	SKU         string
	GTIN        string // as the ERP has it; looked up as GTIN-14
	Description string
	BaseUnit    string
	PackUnits   []PackUnit       // sorted by Unit
	MinOrderQty *decimal.Decimal // in the base unit; nil: none
	// Attributes are facts routes decide on (hazmat=true,
	// temperature=frozen): keys [a-z0-9_]+, values without ';'. nil or
	// empty: none.
	Attributes map[string]string
	UpdatedAt  time.Time
}

// Factor returns how many base units one unit holds: 1 for the base unit,
// the pack unit's factor, or false when the product is not sold in unit.
func (p Product) Factor(unit string) (decimal.Decimal, bool) {
	if unit == p.BaseUnit {
		return decimal.One, true
	}
	for _, u := range p.PackUnits {
		if u.Unit == unit {
			return u.Factor, true
		}
	}
	return decimal.Decimal{}, false
}

// Units returns the base unit and the pack units.
func (p Product) Units() []string {
	out := []string{p.BaseUnit}
	for _, u := range p.PackUnits {
		out = append(out, u.Unit)
	}
	return out
}

// PriceSource says where a price comes from, most specific first.
type PriceSource string

// The kinds of price rows.
const (
	PriceContract  PriceSource = "contract"   // customer x product
	PriceFromList  PriceSource = "price_list" // the customer's price list
	PriceListPrice PriceSource = "list"       // the standard list price
)

// Price is a price row: a contract price (CustomerNumber set), a price
// list's price (PriceList set) or the standard list price (neither), for
// quantities from MinQty (in the product's base unit), valid from
// ValidFrom to ValidTo inclusive (zero dates: open).
type Price struct {
	CustomerNumber string
	PriceList      string
	SKU            string
	MinQty         decimal.Decimal
	ValidFrom      order.Date
	ValidTo        order.Date
	Price          decimal.Decimal // per base unit
	Currency       string
	UpdatedAt      time.Time
}

// Source says whether p is a contract, price list or list price.
func (p Price) Source() PriceSource {
	switch {
	case p.CustomerNumber != "":
		return PriceContract
	case p.PriceList != "":
		return PriceFromList
	default:
		return PriceListPrice
	}
}

// ValidOn reports whether d is within the price's validity.
func (p Price) ValidOn(d order.Date) bool {
	if !p.ValidFrom.IsZero() && d.Before(p.ValidFrom) {
		return false
	}
	if !p.ValidTo.IsZero() && p.ValidTo.Before(d) {
		return false
	}
	return true
}

// PartyXref maps a partner's party id (in an id scheme such as GLN, DUNS,
// buyer) to our customer and, optionally, one of its ship-tos. An empty
// PartnerID applies to every partner, an empty Scheme to every scheme.
type PartyXref struct {
	PartnerID      string
	Scheme         string
	PartyID        string
	CustomerNumber string
	ShipToCode     string
	UpdatedAt      time.Time
}

// ItemXref maps a partner's item id (a buyer part number) to our SKU. An
// empty PartnerID applies to every partner.
type ItemXref struct {
	PartnerID   string
	PartnerItem string
	SKU         string
	UpdatedAt   time.Time
}

// UnitXref maps a partner's unit code to ours. An empty PartnerID applies
// to every partner.
type UnitXref struct {
	PartnerID   string
	PartnerUnit string
	Unit        string
	UpdatedAt   time.Time
}

// searchKey is the lower-case form prefix search compares.
func searchKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// phoneKey keeps only the digits of a phone number.
func phoneKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// GTIN14 returns a GTIN-8/12/13/14 left-padded with zeros to 14 digits, the
// form GTINs are compared in, or "" when s is not 8, 12, 13 or 14 digits.
func GTIN14(s string) string {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return ""
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return strings.Repeat("0", 14-len(s)) + s
}

// canonQty is a quantity as stored and compared in keys: trailing zeros
// removed, so 10 and 10.00 are the same break.
func canonQty(d decimal.Decimal) string { return d.Trim(0).String() }

func decString(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func parseDecimalColumn(s, what string) (*decimal.Decimal, error) {
	if s == "" {
		return nil, nil
	}
	d, err := decimal.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", what, s, err)
	}
	return &d, nil
}

func parseDateColumn(s, what string) (order.Date, error) {
	if s == "" {
		return order.Date{}, nil
	}
	d, err := order.ParseDate(s)
	if err != nil {
		return order.Date{}, fmt.Errorf("%s %q: %w", what, s, err)
	}
	return d, nil
}

// encodePackUnits writes pack units as "CA=12;PL=480", sorted by unit.
func encodePackUnits(us []PackUnit) string {
	sorted := append([]PackUnit(nil), us...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Unit < sorted[j].Unit })
	parts := make([]string, len(sorted))
	for i, u := range sorted {
		parts[i] = u.Unit + "=" + canonQty(u.Factor)
	}
	return strings.Join(parts, ";")
}

// ValidAttributeKey reports whether k is a product attribute key:
// one or more of a-z, 0-9 and _.
func ValidAttributeKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// EncodeAttributes writes product attributes as the products.attributes
// column holds them: "key=value;key=value" sorted by key ("" for none).
func EncodeAttributes(m map[string]string) (string, error) {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if !ValidAttributeKey(k) {
			return "", fmt.Errorf("attribute key %q is not [a-z0-9_]+", k)
		}
		if strings.ContainsAny(v, ";\n\r") {
			return "", fmt.Errorf("attribute %s: value %q contains ';' or a line break", k, v)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ";"), nil
}

func decodeAttributes(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || !ValidAttributeKey(k) {
			return nil, fmt.Errorf("attribute %q: not key=value", part)
		}
		out[k] = v
	}
	return out, nil
}

func decodePackUnits(s string) ([]PackUnit, error) {
	if s == "" {
		return nil, nil
	}
	var out []PackUnit
	for _, part := range strings.Split(s, ";") {
		unit, factor, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("pack unit %q: no =", part)
		}
		f, err := decimal.Parse(factor)
		if err != nil {
			return nil, fmt.Errorf("pack unit %q: %w", part, err)
		}
		out = append(out, PackUnit{Unit: unit, Factor: f})
	}
	return out, nil
}

// upsertRow inserts the row with the key columns and value columns, or
// updates the value columns when a row with the key exists and differs.
// Column names are constants of this file, never input. It is atomic on
// both drivers: the insert yields to an existing row (ON CONFLICT DO
// NOTHING, which on PostgreSQL waits for a concurrent insert of the same
// key to commit), and the row it then compares is locked (FOR UPDATE on
// PostgreSQL; SQLite has a single writer).
func (t *Tx) upsertRow(ctx context.Context, table string, keyCols []string, keyVals []any, cols []string, vals []any) (Upsert, error) {
	now := nanos(t.s.clock())
	all := append(append(append([]string{}, keyCols...), cols...), "updated_at")
	args := append(append(append([]any{}, keyVals...), vals...), now)
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(all)), ", ")
	res, err := t.tx.ExecContext(ctx, `INSERT INTO `+table+` (`+strings.Join(all, ", ")+`) VALUES (`+marks+`)
		ON CONFLICT (`+strings.Join(keyCols, ", ")+`) DO NOTHING`, args...)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 1 {
		return Inserted, nil
	}
	where := make([]string, len(keyCols))
	for i, c := range keyCols {
		where[i] = c + " = ?"
	}
	cond := strings.Join(where, " AND ")
	existing := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range existing {
		dest[i] = &existing[i]
	}
	lock := t.s.lockSuffix(" FOR UPDATE")
	if err := t.tx.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+` WHERE `+cond+lock, keyVals...).Scan(dest...); err != nil {
		return 0, err
	}
	same := true
	for i, v := range vals {
		if !existing[i].Valid || existing[i].String != fmt.Sprint(v) {
			same = false
			break
		}
	}
	if same {
		return Unchanged, nil
	}
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = c + " = ?"
	}
	args = append(append(append([]any{}, vals...), now), keyVals...)
	if _, err := t.tx.ExecContext(ctx, `UPDATE `+table+` SET `+strings.Join(sets, ", ")+`, updated_at = ? WHERE `+cond, args...); err != nil {
		return 0, err
	}
	return Updated, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// UpsertCustomer inserts or updates the customer with c.Number. Number,
// Name and Currency are required (ErrInvalid).
func (t *Tx) UpsertCustomer(ctx context.Context, c Customer) (Upsert, error) {
	if c.Number == "" || c.Name == "" || c.Currency == "" {
		return 0, fmt.Errorf("upserting customer %q: %w: number, name and currency are required", c.Number, ErrInvalid)
	}
	u, err := t.upsertRow(ctx, "customers", []string{"number"}, []any{c.Number},
		[]string{"name", "phone", "email", "currency", "credit_limit", "open_balance", "payment_terms", "blocked",
			"price_list", "sales_rep", "sales_rep_email", "search_number", "search_name", "search_phone"},
		[]any{c.Name, c.Phone, c.Email, c.Currency, decString(c.CreditLimit), c.OpenBalance.String(), c.PaymentTerms,
			boolInt(c.Blocked), c.PriceList, c.SalesRep, c.SalesRepEmail, searchKey(c.Number), searchKey(c.Name), phoneKey(c.Phone)})
	if err != nil {
		return 0, fmt.Errorf("upserting customer %s: %w", c.Number, err)
	}
	return u, nil
}

// UpsertShipTo inserts or updates the ship-to (CustomerNumber, Code). The
// customer must exist (ErrNotFound).
func (t *Tx) UpsertShipTo(ctx context.Context, s ShipTo) (Upsert, error) {
	if s.CustomerNumber == "" || s.Code == "" {
		return 0, fmt.Errorf("upserting ship-to %q/%q: %w: customer and code are required", s.CustomerNumber, s.Code, ErrInvalid)
	}
	if err := t.mustExist(ctx, "customers", "number", s.CustomerNumber); err != nil {
		return 0, fmt.Errorf("upserting ship-to %s/%s: customer %s: %w", s.CustomerNumber, s.Code, s.CustomerNumber, err)
	}
	u, err := t.upsertRow(ctx, "ship_tos", []string{"customer_number", "code"}, []any{s.CustomerNumber, s.Code},
		[]string{"name", "street", "city", "region", "postal_code", "country", "gln"},
		[]any{s.Name, s.Street, s.City, s.Region, s.PostalCode, s.Country, s.GLN})
	if err != nil {
		return 0, fmt.Errorf("upserting ship-to %s/%s: %w", s.CustomerNumber, s.Code, err)
	}
	return u, nil
}

// UpsertProduct inserts or updates the product with p.SKU. SKU,
// Description and BaseUnit are required; a GTIN must be 8, 12, 13 or 14
// digits (ErrInvalid).
func (t *Tx) UpsertProduct(ctx context.Context, p Product) (Upsert, error) {
	if p.SKU == "" || p.Description == "" || p.BaseUnit == "" {
		return 0, fmt.Errorf("upserting product %q: %w: sku, description and base unit are required", p.SKU, ErrInvalid)
	}
	g14 := GTIN14(p.GTIN)
	if p.GTIN != "" && g14 == "" {
		return 0, fmt.Errorf("upserting product %s: %w: GTIN %q is not 8, 12, 13 or 14 digits", p.SKU, ErrInvalid, p.GTIN)
	}
	var moq string
	if p.MinOrderQty != nil {
		moq = canonQty(*p.MinOrderQty)
	}
	attrs, err := EncodeAttributes(p.Attributes)
	if err != nil {
		return 0, fmt.Errorf("upserting product %s: %w: %w", p.SKU, ErrInvalid, err)
	}
	u, err := t.upsertRow(ctx, "products", []string{"sku"}, []any{p.SKU},
		[]string{"gtin", "gtin14", "description", "base_unit", "pack_units", "min_order_qty", "attributes", "search_sku", "search_description"},
		[]any{p.GTIN, g14, p.Description, p.BaseUnit, encodePackUnits(p.PackUnits), moq, attrs, searchKey(p.SKU), searchKey(p.Description)})
	if err != nil {
		return 0, fmt.Errorf("upserting product %s: %w", p.SKU, err)
	}
	return u, nil
}

// UpsertPrice inserts or updates the price keyed by (CustomerNumber,
// PriceList, SKU, MinQty, ValidFrom). At most one of CustomerNumber and
// PriceList may be set; the product (and the customer) must exist
// (ErrNotFound); MinQty and Price must not be negative; ValidTo must not
// be before ValidFrom (ErrInvalid).
func (t *Tx) UpsertPrice(ctx context.Context, p Price) (Upsert, error) {
	key := fmt.Sprintf("%s/%s/%s/%s/%s", p.CustomerNumber, p.PriceList, p.SKU, canonQty(p.MinQty), p.ValidFrom)
	switch {
	case p.SKU == "" || p.Currency == "":
		return 0, fmt.Errorf("upserting price %s: %w: sku and currency are required", key, ErrInvalid)
	case p.CustomerNumber != "" && p.PriceList != "":
		return 0, fmt.Errorf("upserting price %s: %w: a price is for a customer or a price list, not both", key, ErrInvalid)
	case p.MinQty.IsNeg() || p.Price.IsNeg():
		return 0, fmt.Errorf("upserting price %s: %w: negative quantity or price", key, ErrInvalid)
	case !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && p.ValidTo.Before(p.ValidFrom):
		return 0, fmt.Errorf("upserting price %s: %w: valid_to %s is before valid_from %s", key, ErrInvalid, p.ValidTo, p.ValidFrom)
	}
	if err := t.mustExist(ctx, "products", "sku", p.SKU); err != nil {
		return 0, fmt.Errorf("upserting price %s: product %s: %w", key, p.SKU, err)
	}
	if p.CustomerNumber != "" {
		if err := t.mustExist(ctx, "customers", "number", p.CustomerNumber); err != nil {
			return 0, fmt.Errorf("upserting price %s: customer %s: %w", key, p.CustomerNumber, err)
		}
	}
	u, err := t.upsertRow(ctx, "prices", []string{"customer_number", "price_list", "sku", "min_qty", "valid_from"},
		[]any{p.CustomerNumber, p.PriceList, p.SKU, canonQty(p.MinQty), p.ValidFrom.String()},
		[]string{"valid_to", "price", "currency"},
		[]any{p.ValidTo.String(), p.Price.String(), p.Currency})
	if err != nil {
		return 0, fmt.Errorf("upserting price %s: %w", key, err)
	}
	return u, nil
}

// UpsertPartyXref inserts or updates the party cross-reference keyed by
// (PartnerID, Scheme, PartyID). The customer, and the ship-to when given,
// must exist (ErrNotFound).
func (t *Tx) UpsertPartyXref(ctx context.Context, x PartyXref) (Upsert, error) {
	key := x.PartnerID + "/" + x.Scheme + "/" + x.PartyID
	if x.PartyID == "" || x.CustomerNumber == "" {
		return 0, fmt.Errorf("upserting party xref %s: %w: party id and customer are required", key, ErrInvalid)
	}
	if err := t.mustExist(ctx, "customers", "number", x.CustomerNumber); err != nil {
		return 0, fmt.Errorf("upserting party xref %s: customer %s: %w", key, x.CustomerNumber, err)
	}
	if x.ShipToCode != "" {
		var n int
		if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ship_tos WHERE customer_number = ? AND code = ?`,
			x.CustomerNumber, x.ShipToCode).Scan(&n); err != nil {
			return 0, fmt.Errorf("upserting party xref %s: %w", key, err)
		}
		if n == 0 {
			return 0, fmt.Errorf("upserting party xref %s: ship-to %s of customer %s: %w", key, x.ShipToCode, x.CustomerNumber, ErrNotFound)
		}
	}
	u, err := t.upsertRow(ctx, "party_xrefs", []string{"partner_id", "scheme", "party_id"}, []any{x.PartnerID, x.Scheme, x.PartyID},
		[]string{"customer_number", "ship_to_code"}, []any{x.CustomerNumber, x.ShipToCode})
	if err != nil {
		return 0, fmt.Errorf("upserting party xref %s: %w", key, err)
	}
	return u, nil
}

// UpsertItemXref inserts or updates the item cross-reference keyed by
// (PartnerID, PartnerItem). The product must exist (ErrNotFound).
func (t *Tx) UpsertItemXref(ctx context.Context, x ItemXref) (Upsert, error) {
	key := x.PartnerID + "/" + x.PartnerItem
	if x.PartnerItem == "" || x.SKU == "" {
		return 0, fmt.Errorf("upserting item xref %s: %w: partner item and sku are required", key, ErrInvalid)
	}
	if err := t.mustExist(ctx, "products", "sku", x.SKU); err != nil {
		return 0, fmt.Errorf("upserting item xref %s: product %s: %w", key, x.SKU, err)
	}
	u, err := t.upsertRow(ctx, "item_xrefs", []string{"partner_id", "partner_item"}, []any{x.PartnerID, x.PartnerItem},
		[]string{"sku"}, []any{x.SKU})
	if err != nil {
		return 0, fmt.Errorf("upserting item xref %s: %w", key, err)
	}
	return u, nil
}

// UpsertUnitXref inserts or updates the unit cross-reference keyed by
// (PartnerID, PartnerUnit).
func (t *Tx) UpsertUnitXref(ctx context.Context, x UnitXref) (Upsert, error) {
	key := x.PartnerID + "/" + x.PartnerUnit
	if x.PartnerUnit == "" || x.Unit == "" {
		return 0, fmt.Errorf("upserting unit xref %s: %w: partner unit and unit are required", key, ErrInvalid)
	}
	u, err := t.upsertRow(ctx, "unit_xrefs", []string{"partner_id", "partner_unit"}, []any{x.PartnerID, x.PartnerUnit},
		[]string{"unit"}, []any{x.Unit})
	if err != nil {
		return 0, fmt.Errorf("upserting unit xref %s: %w", key, err)
	}
	return u, nil
}

func (t *Tx) mustExist(ctx context.Context, table, col, val string) error {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+col+` = ?`, val).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// --- reads -----------------------------------------------------------------

const customerColumns = `number, name, phone, email, currency, credit_limit, open_balance, payment_terms, blocked,
	price_list, sales_rep, sales_rep_email, updated_at`

func scanCustomer(row interface{ Scan(...any) error }) (Customer, error) {
	var c Customer
	var limit, balance string
	var blocked int
	var updated int64
	if err := row.Scan(&c.Number, &c.Name, &c.Phone, &c.Email, &c.Currency, &limit, &balance, &c.PaymentTerms, &blocked,
		&c.PriceList, &c.SalesRep, &c.SalesRepEmail, &updated); err != nil {
		return Customer{}, err
	}
	var err error
	if c.CreditLimit, err = parseDecimalColumn(limit, "credit_limit"); err != nil {
		return Customer{}, fmt.Errorf("customer %s: %w", c.Number, err)
	}
	b, err := parseDecimalColumn(balance, "open_balance")
	if err != nil {
		return Customer{}, fmt.Errorf("customer %s: %w", c.Number, err)
	}
	if b != nil {
		c.OpenBalance = *b
	}
	c.Blocked = blocked != 0
	c.UpdatedAt = fromNanos(updated)
	return c, nil
}

func getCustomer(ctx context.Context, q querier, number string) (Customer, error) {
	c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE number = ?`, number))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fmt.Errorf("reading customer %s: %w", number, ErrNotFound)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("reading customer %s: %w", number, err)
	}
	return c, nil
}

// prefixRange returns the bounds of a prefix search on a column compared
// with SQLite's BINARY collation: key >= lo AND key < hi (an index range).
func prefixRange(prefix string) (lo, hi string) {
	return prefix, prefix + string(unicode.MaxRune)
}

func findCustomers(ctx context.Context, q querier, query string, limit int) ([]Customer, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("finding customers: %w: limit %d", ErrInvalid, limit)
	}
	key := searchKey(query)
	lo, hi := prefixRange(key)
	cond := `(search_number >= ? AND search_number < ?) OR (search_name >= ? AND search_name < ?)`
	args := []any{lo, hi, lo, hi}
	// A query with letters is never a phone number; one that is only
	// digits and phone punctuation also searches the phones' digits.
	if digits := phoneKey(key); digits != "" && strings.Trim(key, "0123456789+-/() .") == "" {
		plo, phi := prefixRange(digits)
		cond += ` OR (search_phone >= ? AND search_phone < ?)`
		args = append(args, plo, phi)
	}
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE `+cond+` ORDER BY number LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("finding customers %q: %w", query, err)
	}
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("finding customers %q: %w", query, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding customers %q: %w", query, err)
	}
	return out, nil
}

const shipToColumns = `customer_number, code, name, street, city, region, postal_code, country, gln, updated_at`

func shipTos(ctx context.Context, q querier, customer string) ([]ShipTo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+shipToColumns+` FROM ship_tos WHERE customer_number = ? ORDER BY code`, customer)
	if err != nil {
		return nil, fmt.Errorf("reading ship-tos of %s: %w", customer, err)
	}
	defer rows.Close()
	var out []ShipTo
	for rows.Next() {
		var s ShipTo
		var updated int64
		if err := rows.Scan(&s.CustomerNumber, &s.Code, &s.Name, &s.Street, &s.City, &s.Region, &s.PostalCode, &s.Country,
			&s.GLN, &updated); err != nil {
			return nil, fmt.Errorf("reading ship-tos of %s: %w", customer, err)
		}
		s.UpdatedAt = fromNanos(updated)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading ship-tos of %s: %w", customer, err)
	}
	return out, nil
}

const productColumns = `sku, gtin, description, base_unit, pack_units, min_order_qty, attributes, updated_at`

func scanProduct(row interface{ Scan(...any) error }) (Product, error) {
	var p Product
	var packs, moq, attrs string
	var updated int64
	if err := row.Scan(&p.SKU, &p.GTIN, &p.Description, &p.BaseUnit, &packs, &moq, &attrs, &updated); err != nil {
		return Product{}, err
	}
	var err error
	if p.PackUnits, err = decodePackUnits(packs); err != nil {
		return Product{}, fmt.Errorf("product %s: %w", p.SKU, err)
	}
	if p.Attributes, err = decodeAttributes(attrs); err != nil {
		return Product{}, fmt.Errorf("product %s: %w", p.SKU, err)
	}
	if p.MinOrderQty, err = parseDecimalColumn(moq, "min_order_qty"); err != nil {
		return Product{}, fmt.Errorf("product %s: %w", p.SKU, err)
	}
	p.UpdatedAt = fromNanos(updated)
	return p, nil
}

func getProduct(ctx context.Context, q querier, sku string) (Product, error) {
	p, err := scanProduct(q.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products WHERE sku = ?`, sku))
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, fmt.Errorf("reading product %s: %w", sku, ErrNotFound)
	}
	if err != nil {
		return Product{}, fmt.Errorf("reading product %s: %w", sku, err)
	}
	return p, nil
}

func productByGTIN(ctx context.Context, q querier, gtin string) (Product, error) {
	g14 := GTIN14(gtin)
	if g14 == "" {
		return Product{}, fmt.Errorf("reading product by GTIN %q: %w", gtin, ErrNotFound)
	}
	// Two products with one GTIN is an ERP error; the lowest SKU wins so
	// the answer is stable.
	p, err := scanProduct(q.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products WHERE gtin14 = ? ORDER BY sku LIMIT 1`, g14))
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, fmt.Errorf("reading product by GTIN %s: %w", gtin, ErrNotFound)
	}
	if err != nil {
		return Product{}, fmt.Errorf("reading product by GTIN %s: %w", gtin, err)
	}
	return p, nil
}

func findProducts(ctx context.Context, q querier, query string, limit int) ([]Product, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("finding products: %w: limit %d", ErrInvalid, limit)
	}
	key := searchKey(query)
	lo, hi := prefixRange(key)
	cond := `(search_sku >= ? AND search_sku < ?) OR (search_description >= ? AND search_description < ?)`
	args := []any{lo, hi, lo, hi}
	if g14 := GTIN14(key); g14 != "" {
		cond += ` OR gtin14 = ?`
		args = append(args, g14)
	}
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, `SELECT `+productColumns+` FROM products WHERE `+cond+` ORDER BY sku LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("finding products %q: %w", query, err)
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("finding products %q: %w", query, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding products %q: %w", query, err)
	}
	return out, nil
}

// priceFor picks the price of sku for customer at qty on date: the
// contract price if one applies, else the customer's price list's, else
// the standard list price. Within each, rows valid on date with MinQty <=
// qty compete; the largest MinQty wins, then the latest ValidFrom.
func priceFor(ctx context.Context, q querier, customer, sku string, qty decimal.Decimal, date order.Date) (Price, error) {
	what := fmt.Sprintf("finding the price of %s for %q (quantity %s on %s)", sku, customer, qty, date)
	if date.IsZero() {
		return Price{}, fmt.Errorf("%s: %w: no date", what, ErrInvalid)
	}
	var list string
	if customer != "" {
		err := q.QueryRowContext(ctx, `SELECT price_list FROM customers WHERE number = ?`, customer).Scan(&list)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Price{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT customer_number, price_list, sku, min_qty, valid_from, valid_to, price, currency, updated_at
		FROM prices WHERE sku = ? AND ((customer_number = ? AND customer_number <> '') OR (customer_number = '' AND price_list IN (?, '')))`,
		sku, customer, list)
	if err != nil {
		return Price{}, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	best := map[PriceSource]Price{}
	for rows.Next() {
		var p Price
		var minQty, from, to, price string
		var updated int64
		if err := rows.Scan(&p.CustomerNumber, &p.PriceList, &p.SKU, &minQty, &from, &to, &price, &p.Currency, &updated); err != nil {
			return Price{}, fmt.Errorf("%s: %w", what, err)
		}
		if p.MinQty, err = decimal.Parse(minQty); err != nil {
			return Price{}, fmt.Errorf("%s: min_qty %q: %w", what, minQty, err)
		}
		if p.Price, err = decimal.Parse(price); err != nil {
			return Price{}, fmt.Errorf("%s: price %q: %w", what, price, err)
		}
		if p.ValidFrom, err = parseDateColumn(from, "valid_from"); err != nil {
			return Price{}, fmt.Errorf("%s: %w", what, err)
		}
		if p.ValidTo, err = parseDateColumn(to, "valid_to"); err != nil {
			return Price{}, fmt.Errorf("%s: %w", what, err)
		}
		p.UpdatedAt = fromNanos(updated)
		if !p.ValidOn(date) || p.MinQty.Cmp(qty) > 0 {
			continue
		}
		src := p.Source()
		cur, ok := best[src]
		if !ok || p.MinQty.Cmp(cur.MinQty) > 0 || (p.MinQty.Cmp(cur.MinQty) == 0 && cur.ValidFrom.Before(p.ValidFrom)) {
			best[src] = p
		}
	}
	if err := rows.Err(); err != nil {
		return Price{}, fmt.Errorf("%s: %w", what, err)
	}
	for _, src := range []PriceSource{PriceContract, PriceFromList, PriceListPrice} {
		if p, ok := best[src]; ok {
			return p, nil
		}
	}
	return Price{}, fmt.Errorf("%s: %w", what, ErrNotFound)
}

func partyXref(ctx context.Context, q querier, partner, scheme, id string) (PartyXref, error) {
	// The most specific row wins: this partner before any partner, this
	// scheme before any scheme. Each try is one primary-key lookup.
	for _, ps := range specific(partner, scheme) {
		var x PartyXref
		var updated int64
		err := q.QueryRowContext(ctx, `SELECT partner_id, scheme, party_id, customer_number, ship_to_code, updated_at FROM party_xrefs
			WHERE partner_id = ? AND scheme = ? AND party_id = ?`, ps[0], ps[1], id).
			Scan(&x.PartnerID, &x.Scheme, &x.PartyID, &x.CustomerNumber, &x.ShipToCode, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return PartyXref{}, fmt.Errorf("reading party xref %s/%s/%s: %w", partner, scheme, id, err)
		}
		x.UpdatedAt = fromNanos(updated)
		return x, nil
	}
	return PartyXref{}, fmt.Errorf("reading party xref %s/%s/%s: %w", partner, scheme, id, ErrNotFound)
}

// specific lists the (partner, scheme) keys to try, most specific first:
// the given ones, then "" (any) for each; keys that are "" already are
// not tried twice.
func specific(partner, scheme string) [][2]string {
	var out [][2]string
	for _, p := range anyAfter(partner) {
		for _, sc := range anyAfter(scheme) {
			out = append(out, [2]string{p, sc})
		}
	}
	return out
}

// anyAfter is v then "" (any), or just "" when v is "".
func anyAfter(v string) []string {
	if v == "" {
		return []string{""}
	}
	return []string{v, ""}
}

func itemXref(ctx context.Context, q querier, partner, item string) (ItemXref, error) {
	// This partner's row before the one for any partner, each a
	// primary-key lookup.
	for _, p := range anyAfter(partner) {
		var x ItemXref
		var updated int64
		err := q.QueryRowContext(ctx, `SELECT partner_id, partner_item, sku, updated_at FROM item_xrefs
			WHERE partner_id = ? AND partner_item = ?`, p, item).Scan(&x.PartnerID, &x.PartnerItem, &x.SKU, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return ItemXref{}, fmt.Errorf("reading item xref %s/%s: %w", partner, item, err)
		}
		x.UpdatedAt = fromNanos(updated)
		return x, nil
	}
	return ItemXref{}, fmt.Errorf("reading item xref %s/%s: %w", partner, item, ErrNotFound)
}

func unitXref(ctx context.Context, q querier, partner, unit string) (UnitXref, error) {
	// This partner's row before the one for any partner, each a
	// primary-key lookup.
	for _, p := range anyAfter(partner) {
		var x UnitXref
		var updated int64
		err := q.QueryRowContext(ctx, `SELECT partner_id, partner_unit, unit, updated_at FROM unit_xrefs
			WHERE partner_id = ? AND partner_unit = ?`, p, unit).Scan(&x.PartnerID, &x.PartnerUnit, &x.Unit, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return UnitXref{}, fmt.Errorf("reading unit xref %s/%s: %w", partner, unit, err)
		}
		x.UpdatedAt = fromNanos(updated)
		return x, nil
	}
	return UnitXref{}, fmt.Errorf("reading unit xref %s/%s: %w", partner, unit, ErrNotFound)
}

// GetCustomer returns the customer with the number, or ErrNotFound.
func (t *Tx) GetCustomer(ctx context.Context, number string) (Customer, error) {
	return getCustomer(ctx, t.tx, number)
}

// FindCustomers returns up to limit customers whose number or name starts
// with query (case-insensitive), or, when query is a phone number, whose
// phone's digits start with its digits; ordered by number.
func (t *Tx) FindCustomers(ctx context.Context, query string, limit int) ([]Customer, error) {
	return findCustomers(ctx, t.tx, query, limit)
}

// ShipTos returns the customer's ship-to addresses by code.
func (t *Tx) ShipTos(ctx context.Context, customer string) ([]ShipTo, error) {
	return shipTos(ctx, t.tx, customer)
}

// GetProduct returns the product with the SKU, or ErrNotFound.
func (t *Tx) GetProduct(ctx context.Context, sku string) (Product, error) {
	return getProduct(ctx, t.tx, sku)
}

// ProductByGTIN returns the product with the GTIN (8, 12, 13 or 14 digits,
// compared as GTIN-14), or ErrNotFound.
func (t *Tx) ProductByGTIN(ctx context.Context, gtin string) (Product, error) {
	return productByGTIN(ctx, t.tx, gtin)
}

// FindProducts returns up to limit products whose SKU or description
// starts with query (case-insensitive) or whose GTIN is query; by SKU.
func (t *Tx) FindProducts(ctx context.Context, query string, limit int) ([]Product, error) {
	return findProducts(ctx, t.tx, query, limit)
}

// PriceFor returns the price of sku for the customer ("" for the list
// price) at quantity qty (in the base unit) on date: a contract price
// beats the customer's price list, which beats the standard list price;
// among the rows valid on date with MinQty <= qty the largest MinQty wins.
// ErrNotFound when no price applies; ErrInvalid without a date.
func (t *Tx) PriceFor(ctx context.Context, customer, sku string, qty decimal.Decimal, date order.Date) (Price, error) {
	return priceFor(ctx, t.tx, customer, sku, qty, date)
}

// PartyXref returns the cross-reference of a partner's party id in a
// scheme: a row for this partner beats one for every partner, a row for
// this scheme one for every scheme. ErrNotFound when none matches.
func (t *Tx) PartyXref(ctx context.Context, partner, scheme, id string) (PartyXref, error) {
	return partyXref(ctx, t.tx, partner, scheme, id)
}

// ItemXref returns the SKU a partner's item id maps to (this partner's
// row before one for every partner), or ErrNotFound.
func (t *Tx) ItemXref(ctx context.Context, partner, item string) (ItemXref, error) {
	return itemXref(ctx, t.tx, partner, item)
}

// UnitXref returns the unit a partner's unit code maps to (this partner's
// row before one for every partner), or ErrNotFound.
func (t *Tx) UnitXref(ctx context.Context, partner, unit string) (UnitXref, error) {
	return unitXref(ctx, t.tx, partner, unit)
}

// readValue runs fn on the read pool (retrying while busy).
func readValue[T any](ctx context.Context, s *Store, fn func(q querier) (T, error)) (T, error) {
	var v T
	err := s.read(ctx, func(q querier) error {
		var err error
		v, err = fn(q)
		return err
	})
	return v, err
}

// GetCustomer returns the committed customer with the number, or
// ErrNotFound.
func (s *Store) GetCustomer(ctx context.Context, number string) (Customer, error) {
	return readValue(ctx, s, func(q querier) (Customer, error) { return getCustomer(ctx, q, number) })
}

// FindCustomers is Tx.FindCustomers over committed data.
func (s *Store) FindCustomers(ctx context.Context, query string, limit int) ([]Customer, error) {
	return readValue(ctx, s, func(q querier) ([]Customer, error) { return findCustomers(ctx, q, query, limit) })
}

// ShipTos is Tx.ShipTos over committed data.
func (s *Store) ShipTos(ctx context.Context, customer string) ([]ShipTo, error) {
	return readValue(ctx, s, func(q querier) ([]ShipTo, error) { return shipTos(ctx, q, customer) })
}

// GetProduct is Tx.GetProduct over committed data.
func (s *Store) GetProduct(ctx context.Context, sku string) (Product, error) {
	return readValue(ctx, s, func(q querier) (Product, error) { return getProduct(ctx, q, sku) })
}

// ProductByGTIN is Tx.ProductByGTIN over committed data.
func (s *Store) ProductByGTIN(ctx context.Context, gtin string) (Product, error) {
	return readValue(ctx, s, func(q querier) (Product, error) { return productByGTIN(ctx, q, gtin) })
}

// FindProducts is Tx.FindProducts over committed data.
func (s *Store) FindProducts(ctx context.Context, query string, limit int) ([]Product, error) {
	return readValue(ctx, s, func(q querier) ([]Product, error) { return findProducts(ctx, q, query, limit) })
}

// PriceFor is Tx.PriceFor over committed data.
func (s *Store) PriceFor(ctx context.Context, customer, sku string, qty decimal.Decimal, date order.Date) (Price, error) {
	return readValue(ctx, s, func(q querier) (Price, error) { return priceFor(ctx, q, customer, sku, qty, date) })
}

// PartyXref is Tx.PartyXref over committed data.
func (s *Store) PartyXref(ctx context.Context, partner, scheme, id string) (PartyXref, error) {
	return readValue(ctx, s, func(q querier) (PartyXref, error) { return partyXref(ctx, q, partner, scheme, id) })
}

// ItemXref is Tx.ItemXref over committed data.
func (s *Store) ItemXref(ctx context.Context, partner, item string) (ItemXref, error) {
	return readValue(ctx, s, func(q querier) (ItemXref, error) { return itemXref(ctx, q, partner, item) })
}

// UnitXref is Tx.UnitXref over committed data.
func (s *Store) UnitXref(ctx context.Context, partner, unit string) (UnitXref, error) {
	return readValue(ctx, s, func(q querier) (UnitXref, error) { return unitXref(ctx, q, partner, unit) })
}
