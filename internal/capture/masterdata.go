package capture

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/store"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
	"github.com/ordergate/ordergate/normalize/order"
)

// StoreMasterData is ncapture.MasterData over the store's master data.
type StoreMasterData struct {
	st *store.Store
	// partnerOf maps our customer number to the partner id its item
	// cross-references are kept under ("" : cross-references for every
	// partner only).
	partnerOf func(customer string) string
	country   string // the calling code for national numbers ("49")
	ttl       time.Duration

	mu       sync.Mutex
	loaded   time.Time
	products []store.Product
	custs    []store.Customer
}

var _ ncapture.MasterData = (*StoreMasterData)(nil)

// StoreOptions configure NewStoreMasterData.
type StoreOptions struct {
	// PartnerOf maps a customer to its partner id (from the config's
	// partners); nil: no partner-specific cross-references.
	PartnerOf func(customer string) string
	// Country is the calling code national phone numbers (0...) are read
	// in; "49" when empty.
	Country string
	// SnapshotTTL is how long the item and customer lists for fuzzy and
	// e-mail matching are kept (5 minutes when zero).
	SnapshotTTL time.Duration
}

// NewStoreMasterData returns master data read from st.
func NewStoreMasterData(st *store.Store, opts StoreOptions) *StoreMasterData {
	if opts.PartnerOf == nil {
		opts.PartnerOf = func(string) string { return "" }
	}
	if opts.Country == "" {
		opts.Country = "49"
	}
	if opts.SnapshotTTL == 0 {
		opts.SnapshotTTL = 5 * time.Minute
	}
	return &StoreMasterData{st: st, partnerOf: opts.PartnerOf, country: opts.Country, ttl: opts.SnapshotTTL}
}

func toCustomer(c store.Customer) ncapture.Customer {
	return ncapture.Customer{Number: c.Number, Name: c.Name, Phone: c.Phone, Email: c.Email, Currency: c.Currency}
}

func toItem(p store.Product) ncapture.Item {
	return ncapture.Item{SKU: p.SKU, GTIN: p.GTIN, Description: p.Description, BaseUnit: p.BaseUnit, Units: p.Units()}
}

// CustomerByNumber implements ncapture.MasterData.
func (m *StoreMasterData) CustomerByNumber(ctx context.Context, number string) (ncapture.Customer, bool, error) {
	c, err := m.st.GetCustomer(ctx, number)
	if errors.Is(err, store.ErrNotFound) {
		return ncapture.Customer{}, false, nil
	}
	if err != nil {
		return ncapture.Customer{}, false, err
	}
	return toCustomer(c), true, nil
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// international returns a number's digits with the country code: "+49 40
// 123" and "0049 40 123" give 4940123, the national "040 123" gives
// 4940123 in country 49.
func (m *StoreMasterData) international(s string) string {
	d := digits(s)
	switch {
	case strings.HasPrefix(strings.TrimSpace(s), "+"):
		return d
	case strings.HasPrefix(d, "00"):
		return d[2:]
	case strings.HasPrefix(d, "0"):
		return m.country + d[1:]
	}
	return d
}

// CustomersByPhone implements ncapture.MasterData: the customers whose
// phone number is phone (compared with country codes).
func (m *StoreMasterData) CustomersByPhone(ctx context.Context, phone string) ([]ncapture.Customer, error) {
	want := m.international(phone)
	if len(want) < 7 {
		return nil, nil
	}
	cs, err := m.st.FindCustomers(ctx, want, 10)
	if err != nil {
		return nil, err
	}
	var out []ncapture.Customer
	for _, c := range cs {
		if c.Phone != "" && m.international(c.Phone) == want {
			out = append(out, toCustomer(c))
		}
	}
	return out, nil
}

func (m *StoreMasterData) snapshot(ctx context.Context) ([]store.Product, []store.Customer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.products != nil && time.Since(m.loaded) < m.ttl {
		return m.products, m.custs, nil
	}
	ps, err := m.st.FindProducts(ctx, "", 100000)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the item list: %w", err)
	}
	cs, err := m.st.FindCustomers(ctx, "", 100000)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the customer list: %w", err)
	}
	m.products, m.custs, m.loaded = ps, cs, time.Now()
	return ps, cs, nil
}

// CustomersByEmail implements ncapture.MasterData: customers with the
// address, else customers whose address has the sender's domain.
func (m *StoreMasterData) CustomersByEmail(ctx context.Context, address string) ([]ncapture.Customer, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	_, domain, ok := strings.Cut(address, "@")
	if !ok || domain == "" {
		return nil, nil
	}
	_, cs, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var exact, byDomain []ncapture.Customer
	for _, c := range cs {
		e := strings.ToLower(c.Email)
		if e == "" {
			continue
		}
		if e == address {
			exact = append(exact, toCustomer(c))
		} else if _, d, _ := strings.Cut(e, "@"); d == domain {
			byDomain = append(byDomain, toCustomer(c))
		}
	}
	if len(exact) > 0 {
		return exact, nil
	}
	return byDomain, nil
}

// CustomersByName implements ncapture.MasterData: customers whose name
// equals name, case and spacing aside.
func (m *StoreMasterData) CustomersByName(ctx context.Context, name string) ([]ncapture.Customer, error) {
	key := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	if len(key) < 4 {
		return nil, nil
	}
	cs, err := m.st.FindCustomers(ctx, key, 10)
	if err != nil {
		return nil, err
	}
	var out []ncapture.Customer
	for _, c := range cs {
		if strings.Join(strings.Fields(strings.ToLower(c.Name)), " ") == key {
			out = append(out, toCustomer(c))
		}
	}
	return out, nil
}

// ItemBySKU implements ncapture.MasterData.
func (m *StoreMasterData) ItemBySKU(ctx context.Context, sku string) (ncapture.Item, bool, error) {
	p, err := m.st.GetProduct(ctx, sku)
	if errors.Is(err, store.ErrNotFound) {
		return ncapture.Item{}, false, nil
	}
	if err != nil {
		return ncapture.Item{}, false, err
	}
	return toItem(p), true, nil
}

// ItemByPartNumber implements ncapture.MasterData through the item
// cross-references of the customer's partner.
func (m *StoreMasterData) ItemByPartNumber(ctx context.Context, customer, part string) (ncapture.Item, bool, error) {
	x, err := m.st.ItemXref(ctx, m.partnerOf(customer), part)
	if errors.Is(err, store.ErrNotFound) {
		return ncapture.Item{}, false, nil
	}
	if err != nil {
		return ncapture.Item{}, false, err
	}
	return m.ItemBySKU(ctx, x.SKU)
}

// ItemByGTIN implements ncapture.MasterData.
func (m *StoreMasterData) ItemByGTIN(ctx context.Context, gtin string) (ncapture.Item, bool, error) {
	p, err := m.st.ProductByGTIN(ctx, gtin)
	if errors.Is(err, store.ErrNotFound) {
		return ncapture.Item{}, false, nil
	}
	if err != nil {
		return ncapture.Item{}, false, err
	}
	return toItem(p), true, nil
}

// FindItems implements ncapture.MasterData: similarity of the text to
// each item's SKU (edit distance) and description (shared words), over a
// snapshot of the item list.
func (m *StoreMasterData) FindItems(ctx context.Context, text string, limit int) ([]ncapture.ItemCandidate, error) {
	ps, _, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	q := strings.ToUpper(strings.TrimSpace(text))
	var out []ncapture.ItemCandidate
	for _, p := range ps {
		s := max(skuSimilarity(q, strings.ToUpper(p.SKU)), wordSimilarity(q, strings.ToUpper(p.Description)))
		if s > 0.5 {
			out = append(out, ncapture.ItemCandidate{Item: toItem(p), Score: s})
		}
	}
	// Best first, SKU order among equals.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Score > out[j-1].Score; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func skuSimilarity(a, b string) float64 {
	if a == "" || b == "" {
		return 0
	}
	d := levenshtein(a, b)
	return 1 - float64(d)/float64(max(len([]rune(a)), len([]rune(b))))
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// wordSimilarity is the share of words of the longer text that have a
// close match (edit distance at most one in five letters) in the other.
func wordSimilarity(a, b string) float64 {
	wa, wb := words(a), words(b)
	if len(wa) == 0 || len(wb) == 0 {
		return 0
	}
	hits := 0
	for _, x := range wa {
		for _, y := range wb {
			if levenshtein(x, y) <= len([]rune(y))/5 {
				hits++
				break
			}
		}
	}
	return float64(hits) / float64(max(len(wa), len(wb)))
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// PriceFor implements ncapture.MasterData.
func (m *StoreMasterData) PriceFor(ctx context.Context, customer, sku string, qty decimal.Decimal, date order.Date) (ncapture.Price, bool, error) {
	p, err := m.st.PriceFor(ctx, customer, sku, qty, date)
	if errors.Is(err, store.ErrNotFound) {
		return ncapture.Price{}, false, nil
	}
	if err != nil {
		return ncapture.Price{}, false, err
	}
	return ncapture.Price{Amount: p.Price, Currency: p.Currency}, true, nil
}
