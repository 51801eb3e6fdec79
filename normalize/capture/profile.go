package capture

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ordergate/ordergate/normalize/order"
)

// Profile is a sender's overrides of the template-free core. Every field
// is optional; an empty Profile changes nothing.
type Profile struct {
	Name  string       `yaml:"name"`
	Match ProfileMatch `yaml:"match"`
	// CustomerID is the customer the sender's documents belong to.
	CustomerID string    `yaml:"customer_id,omitempty"`
	Locale     Locale    `yaml:"locale,omitempty"`     // de | en
	DateOrder  DateOrder `yaml:"date_order,omitempty"` // DMY | MDY | YMD
	Currency   string    `yaml:"currency,omitempty"`
	// PONumberPattern is a regular expression the sender's PO numbers
	// match; a read PO number that does not match goes to review.
	PONumberPattern string `yaml:"po_pattern,omitempty"`
	// Fields are anchors for header fields: extra labels, or a region of
	// the page (fractions of its width and height) the value is in.
	Fields map[string]FieldHint `yaml:"fields,omitempty"`
	// Columns are extra header labels per column kind (pos, item, gtin,
	// desc, qty, unit, price, amount).
	Columns map[string][]string `yaml:"columns,omitempty"`
	// Threshold overrides the confidence threshold for the sender.
	Threshold float64 `yaml:"threshold,omitempty"`

	poRe *regexp.Regexp
}

// ProfileMatch says which documents a profile applies to.
type ProfileMatch struct {
	Fax   []string `yaml:"fax,omitempty"`   // sender fax numbers (digits compared)
	Email []string `yaml:"email,omitempty"` // sender addresses, * globs (*@example.com)
}

// FieldHint anchors one header field.
type FieldHint struct {
	Labels []string `yaml:"labels,omitempty"`
	Region *Region  `yaml:"region,omitempty"`
}

// Region is a rectangle of a page in fractions of its width and height.
type Region struct {
	Page int     `yaml:"page"`
	X    float64 `yaml:"x"`
	Y    float64 `yaml:"y"`
	W    float64 `yaml:"w"`
	H    float64 `yaml:"h"`
}

func (rg *Region) contains(b order.Box, d *Document) bool {
	if rg.Page != 0 && b.Page != rg.Page {
		return false
	}
	var pw, ph float64
	for _, p := range d.Pages {
		if p.Number == b.Page {
			pw, ph = p.Width, p.Height
		}
	}
	if pw == 0 || ph == 0 {
		return false
	}
	cx, cy := (b.X+b.W/2)/pw, (b.Y+b.H/2)/ph
	return cx >= rg.X && cx <= rg.X+rg.W && cy >= rg.Y && cy <= rg.Y+rg.H
}

func (p *Profile) dateOrder() DateOrder {
	if p == nil {
		return ""
	}
	return p.DateOrder
}

// Profiles is a set of sender profiles, the YAML file's shape:
//
//	profiles:
//	  - name: baumarkt-nord
//	    match: {fax: ["+49 40 1234560"], email: ["*@baumarkt-nord.de"]}
//	    customer_id: C-1001
//	    locale: de
//	    date_order: DMY
//	    po_pattern: '^\d{10}$'
//	    fields: {po_number: {labels: ["Bestellung Nr"]}}
//	    columns: {item: ["Art-Nr"], qty: ["Stueckzahl"]}
type Profiles struct {
	Profiles []Profile `yaml:"profiles"`
}

// ParseProfiles reads and checks a profiles YAML document.
func ParseProfiles(r io.Reader) (*Profiles, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var ps Profiles
	if err := dec.Decode(&ps); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	seen := map[string]bool{}
	for i := range ps.Profiles {
		p := &ps.Profiles[i]
		if err := p.compile(); err != nil {
			return nil, fmt.Errorf("profile %d (%s): %w", i+1, p.Name, err)
		}
		if p.Name == "" {
			return nil, fmt.Errorf("profile %d: no name", i+1)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("profile %s: the name repeats", p.Name)
		}
		seen[p.Name] = true
	}
	return &ps, nil
}

func (p *Profile) compile() error {
	switch p.Locale {
	case LocaleAuto, LocaleDE, LocaleEN:
	default:
		return fmt.Errorf("locale %q is not de or en", p.Locale)
	}
	switch p.DateOrder {
	case "", DMY, MDY, YMD:
	default:
		return fmt.Errorf("date_order %q is not DMY, MDY or YMD", p.DateOrder)
	}
	for f := range p.Fields {
		if _, ok := headerLabels[f]; !ok {
			return fmt.Errorf("fields: %q is not one of po_number, po_date, customer_number, requested_delivery", f)
		}
	}
	for c := range p.Columns {
		if _, ok := columnLabels[c]; !ok {
			return fmt.Errorf("columns: %q is not one of pos, item, gtin, desc, qty, unit, price, amount", c)
		}
	}
	if p.Threshold < 0 || p.Threshold > 1 {
		return fmt.Errorf("threshold %v is outside 0..1", p.Threshold)
	}
	if p.PONumberPattern != "" {
		re, err := regexp.Compile(p.PONumberPattern)
		if err != nil {
			return fmt.Errorf("po_pattern: %w", err)
		}
		p.poRe = re
	}
	return nil
}

// ByName returns the profile called name.
func (ps *Profiles) ByName(name string) (*Profile, bool) {
	if ps == nil {
		return nil, false
	}
	for i := range ps.Profiles {
		if ps.Profiles[i].Name == name {
			return &ps.Profiles[i], true
		}
	}
	return nil, false
}

// ForSender returns the first profile matching the sender's fax number or
// e-mail address.
func (ps *Profiles) ForSender(s Sender) (*Profile, bool) {
	if ps == nil {
		return nil, false
	}
	fax := phoneDigits(s.Fax)
	mail := strings.ToLower(s.Email)
	for i := range ps.Profiles {
		p := &ps.Profiles[i]
		for _, f := range p.Match.Fax {
			if fax != "" && samePhone(phoneDigits(f), fax) {
				return p, true
			}
		}
		for _, e := range p.Match.Email {
			if ok, _ := path.Match(strings.ToLower(e), mail); ok && mail != "" {
				return p, true
			}
		}
	}
	return nil, false
}

// phoneDigits keeps the digits of a phone number, "+49 40 123" and
// "0049 40 123" both becoming "4940123"; a national "040 123" stays
// "040123" (samePhone compares the tails).
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimPrefix(b.String(), "00")
}

// samePhone compares two numbers' digits, ignoring country and trunk
// prefixes: the last eight digits must agree.
func samePhone(a, b string) bool {
	if len(a) < 7 || len(b) < 7 {
		return false
	}
	n := min(8, len(a), len(b))
	return a[len(a)-n:] == b[len(b)-n:]
}
