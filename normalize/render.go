package normalize

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize/order"
)

// The MIME types of the rendered formats (RFC 1767 for EDI), for a
// payload's Content-Type.
const (
	ContentTypeX12     = "application/edi-x12"
	ContentTypeEDIFACT = "application/edifact"
	ContentTypeCSV     = "text/csv; charset=utf-8"
)

// ErrRender is the class of the renderers' errors: an order the target
// format cannot carry (a purpose without a code, an id holding a
// separator) or an envelope that is incomplete.
var ErrRender = errors.New("cannot render the order")

// fixedControls hands the writers the control numbers the caller chose.
type fixedControls [3]int64

func (f fixedControls) NextControl(_ context.Context, kind int) (int64, error) {
	if kind < 0 || kind >= len(f) || f[kind] <= 0 {
		return 0, fmt.Errorf("%w: no control number of kind %d given", ErrRender, kind)
	}
	return f[kind], nil
}

type x12Controls struct{ fixedControls }

func (c x12Controls) NextControl(ctx context.Context, kind x12.ControlKind) (int64, error) {
	return c.fixedControls.NextControl(ctx, int(kind))
}

type edifactControls struct{ fixedControls }

func (c edifactControls) NextControl(ctx context.Context, kind edifact.ControlKind) (int64, error) {
	return c.fixedControls.NextControl(ctx, int(kind))
}

// X12Envelope is the envelope of a rendered 850: who sends it to whom,
// the control numbers (the caller takes them from its per-partner
// counters), delimiters, version, test flag and time.
type X12Envelope struct {
	SenderQualifier, SenderID     string // ISA05, ISA06
	ReceiverQualifier, ReceiverID string // ISA07, ISA08
	// GroupSender and GroupReceiver are GS02 and GS03; empty means the
	// ISA ids.
	GroupSender, GroupReceiver string
	// InterchangeControl (ISA13/IEA02), GroupControl (GS06/GE02) and
	// SetControl (ST02/SE02, written with at least four digits): 1 to
	// 999999999, required.
	InterchangeControl, GroupControl, SetControl int64
	// Version is GS08; "" is "004010". ISA12 is its first five digits.
	Version string
	// Delimiters; the zero value is x12.DefaultDelimiters.
	Delimiters x12.Delimiters
	Test       bool      // ISA15 T
	Time       time.Time // ISA09/10, GS04/05; required
}

// RenderX12850 writes o as an X12 850 in an interchange of its own: the
// inverse of FromX12850, so that FromX12850 maps the result back to an
// order equal to o (apart from source and provenance) for every order it
// produces itself.
//
// Mapping: BEG01 from the purpose (original 00, cancel 01, change 04,
// replace 05, "" 00, a raw two-character code as it is), BEG02 the
// order type when it is an X12 code (two characters), else SA; BEG03 the
// PO number; BEG05 the PO date, else the envelope's date (BEG05 is
// mandatory); CUR*BY; REF per reference; DTM*002 the requested delivery;
// N9*L1 and one MSG per note (notes longer than 264 characters over
// several MSG); per party an N1 loop (role BY, ST, BT, VN, SF or the raw
// code; id scheme UL, 1, 91, 92 or raw; a name longer than 60 characters
// goes on in N2, cut at spaces; N3 two address lines each; N4 when the
// address has a city, region, postal code or country, or is empty); per
// line a PO1 (line number, quantity, unit, price, price basis, then BP
// buyer part, VP supplier part (or the SKU when there is none), UP/UK/EN
// GTIN by length, MG manufacturer part), PID*F the description, DTM*002,
// AMT*1 the line amount and one MSG per line note; CTT with the declared
// line count and quantity hash, AMT*TT the declared amount. Free text
// (notes, names, address lines, city, region, description) has line
// breaks and the delimiters replaced by spaces; an id or code holding a
// delimiter is an ErrRender error.
func RenderX12850(o *order.Order, env X12Envelope) ([]byte, error) {
	if o == nil {
		return nil, fmt.Errorf("rendering X12 850: %w: nil order", ErrRender)
	}
	b, err := renderX12850(o, env)
	if err != nil {
		return nil, fmt.Errorf("rendering X12 850 of order %s (PO %s): %w", o.ID, o.PONumber, err)
	}
	return b, nil
}

func renderX12850(o *order.Order, env X12Envelope) ([]byte, error) {
	if env.Time.IsZero() {
		return nil, fmt.Errorf("%w: the envelope has no time", ErrRender)
	}
	version := env.Version
	if version == "" {
		version = "004010"
	}
	if len(version) < 5 || !digits(version[:5]) {
		return nil, fmt.Errorf("%w: version %q is not like 004010", ErrRender, version)
	}
	d := env.Delimiters
	if d == (x12.Delimiters{}) {
		d = x12.DefaultDelimiters
	}
	purpose, err := x12Purpose(o.Purpose)
	if err != nil {
		return nil, err
	}
	ctx := context.Background() // the control numbers are given: nothing blocks
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, d, x12.WithControlNumbers(x12Controls{fixedControls{env.InterchangeControl, env.GroupControl, env.SetControl}}))
	text := func(s string) string { return x12Text(s, d) }
	w.BeginInterchange(ctx, x12.InterchangeHeader{
		SenderQualifier: env.SenderQualifier, SenderID: env.SenderID, ReceiverQualifier: env.ReceiverQualifier, ReceiverID: env.ReceiverID,
		Time: env.Time, Version: version[:5], Control: env.InterchangeControl, Test: env.Test,
	})
	w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "PO", SenderCode: or(env.GroupSender, env.SenderID),
		ReceiverCode: or(env.GroupReceiver, env.ReceiverID), Time: env.Time, Control: env.GroupControl, Version: version})
	w.BeginSet(ctx, "850", "")
	orderType := o.OrderType
	if len(orderType) != 2 {
		orderType = "SA"
	}
	poDate := compactDate(o.PODate)
	if poDate == "" {
		poDate = env.Time.Format("20060102")
	}
	w.Segment("BEG", purpose, orderType, o.PONumber, "", poDate)
	if o.Currency != "" {
		w.Segment("CUR", "BY", o.Currency)
	}
	for _, r := range o.References {
		w.Segment("REF", r.Qualifier, r.Value)
	}
	if !o.RequestedDelivery.IsZero() {
		w.Segment("DTM", "002", compactDate(o.RequestedDelivery))
	}
	if len(o.Notes) > 0 {
		w.Segment("N9", "L1", "", "NOTES")
		for _, n := range o.Notes {
			for _, part := range splitAtSpaces(text(n), 264) {
				w.Segment("MSG", part)
			}
		}
	}
	for i, p := range o.Parties {
		role, err := x12Role(p.Role)
		if err != nil {
			return nil, fmt.Errorf("party %d: %w", i+1, err)
		}
		names := splitAtSpaces(text(p.Name), 60)
		first := ""
		if len(names) > 0 {
			first = names[0]
		}
		scheme := ""
		if p.ID != "" {
			scheme = x12Scheme(p.IDScheme)
		}
		w.Segment("N1", role, first, scheme, p.ID)
		for k := 1; k < len(names); k += 2 {
			second := ""
			if k+1 < len(names) {
				second = names[k+1]
			}
			w.Segment("N2", names[k], second)
		}
		if a := p.Address; a != nil {
			for k := 0; k < len(a.Lines); k += 2 {
				second := ""
				if k+1 < len(a.Lines) {
					second = text(a.Lines[k+1])
				}
				w.Segment("N3", text(a.Lines[k]), second)
			}
			if a.City != "" || a.Region != "" || a.PostalCode != "" || a.Country != "" || len(a.Lines) == 0 {
				w.Segment("N4", text(a.City), text(a.Region), a.PostalCode, a.Country)
			}
		}
	}
	for _, l := range o.Lines {
		po1 := []string{l.LineNo, l.Quantity.String(), x12Unit(l.Unit), decString(l.UnitPrice), l.PriceBasis}
		supplierPart := l.SupplierPart
		if supplierPart == "" {
			supplierPart = l.SKU
		}
		line := order.Line{BuyerPart: l.BuyerPart, SupplierPart: supplierPart, GTIN: l.GTIN, ManufacturerPart: l.ManufacturerPart}
		for _, id := range productIDs(line) {
			po1 = append(po1, id.Qualifier, id.ID)
		}
		// The line's other ids go back as the pairs they came in.
		for _, r := range l.References {
			if r.Qualifier != "" && r.Value != "" {
				po1 = append(po1, r.Qualifier, r.Value)
			}
		}
		if err := w.Segment("PO1", po1...); err != nil {
			return nil, fmt.Errorf("line %s: %w", l.LineNo, err)
		}
		if l.Description != "" {
			w.Segment("PID", "F", "", "", "", text(l.Description))
		}
		if !l.RequestedDelivery.IsZero() {
			w.Segment("DTM", "002", compactDate(l.RequestedDelivery))
		}
		if l.Amount != nil {
			w.Segment("AMT", "1", l.Amount.String())
		}
		for _, n := range l.Notes {
			for _, part := range splitAtSpaces(text(n), 264) {
				w.Segment("MSG", part)
			}
		}
	}
	if t := o.Totals; t != nil && (t.LineCount != nil || t.QuantityHash != nil || t.Amount != nil) {
		count := len(o.Lines)
		if t.LineCount != nil {
			count = *t.LineCount
		}
		w.Segment("CTT", strconv.Itoa(count), decString(t.QuantityHash))
		if t.Amount != nil {
			w.Segment("AMT", "TT", t.Amount.String())
		}
	}
	w.EndSet()
	w.EndGroup()
	w.EndInterchange()
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func decString(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// code reports whether s is a raw code a segment can carry: one to three
// letters or digits.
func code(s string) bool {
	if len(s) < 1 || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// x12Units are the X12 355 codes of the UN/ECE Recommendation 20 units
// (EDIFACT 6411) that do not fit PO103's two characters.
var x12Units = map[string]string{
	"PCE": "EA", "C62": "EA", "H87": "EA", "EA": "EA", "KGM": "KG", "GRM": "GR", "LBR": "LB", "LTR": "LT", "MTR": "LM",
	"MTK": "SM", "MTQ": "CR", "CMT": "CM", "MMT": "MM", "PR": "PR", "SET": "SET", "DZN": "DZ",
}

// x12Unit is the PO103 of a unit: the unit itself when it has two
// characters or fewer, else its X12 code when known, else as it is.
func x12Unit(u string) string {
	if len(u) <= 2 {
		return u
	}
	if c, ok := x12Units[u]; ok {
		return c
	}
	return u
}

func x12Purpose(p order.Purpose) (string, error) {
	switch p {
	case order.PurposeOriginal, "":
		return "00", nil
	case order.PurposeCancel:
		return "01", nil
	case order.PurposeChange:
		return "04", nil
	case order.PurposeReplace:
		return "05", nil
	}
	if len(p) == 2 && code(string(p)) {
		return string(p), nil
	}
	return "", fmt.Errorf("%w: purpose %q has no BEG01 code", ErrRender, p)
}

func x12Role(role string) (string, error) {
	switch role {
	case order.RoleBuyer:
		return "BY", nil
	case order.RoleShipTo:
		return "ST", nil
	case order.RoleBillTo:
		return "BT", nil
	case order.RoleSupplier:
		return "VN", nil
	case order.RoleShipFrom:
		return "SF", nil
	}
	if code(role) {
		return role, nil
	}
	return "", fmt.Errorf("%w: role %q has no N101 code", ErrRender, role)
}

func x12Scheme(scheme string) string {
	switch scheme {
	case order.SchemeGLN:
		return "UL"
	case order.SchemeDUNS:
		return "1"
	case order.SchemeSeller:
		return "91"
	case order.SchemeBuyer:
		return "92"
	}
	return scheme
}

// x12Text makes free text writable: line breaks, tabs and the
// delimiters become spaces.
func x12Text(s string, d x12.Delimiters) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t',
			r < utf8.RuneSelf && (byte(r) == d.Element || byte(r) == d.Component || d.Repetition != 0 && byte(r) == d.Repetition),
			string(r) == d.Segment:
			return ' '
		}
		return r
	}, s)
}

// splitAtSpaces cuts s into pieces of at most n runes at single spaces
// (a space between two other characters), so that joining the pieces
// with a space gives s back; where there is no such space within n runes
// the piece runs on to the next one. "" gives no piece.
func splitAtSpaces(s string, n int) []string {
	if s == "" {
		return nil
	}
	var out []string
	for utf8.RuneCountInString(s) > n {
		cut, count := -1, 0
		for i, r := range s {
			if count > n && cut > 0 {
				break
			}
			if r == ' ' && i > 0 && s[i-1] != ' ' && i+1 < len(s) && s[i+1] != ' ' {
				cut = i
			}
			count++
		}
		if cut <= 0 {
			break
		}
		out = append(out, s[:cut])
		s = s[cut+1:]
	}
	return append(out, s)
}

// EDIFACTEnvelope is the envelope of a rendered ORDERS: who sends it to
// whom, the control references (the caller takes them from its
// per-partner counters), syntax, separators, directory, test flag and
// time.
type EDIFACTEnvelope struct {
	SenderID, SenderQualifier     string // UNB S002
	ReceiverID, ReceiverQualifier string // UNB S003
	// InterchangeControl is UNB/UNZ 0020, required.
	InterchangeControl string
	// MessageControl is UNH/UNT 0062, 1 or more, required.
	MessageControl int64
	// SyntaxID and SyntaxVersion are UNB S001; "" are "UNOC" and "3".
	SyntaxID, SyntaxVersion string
	// Separators; the zero value is edifact.DefaultSeparators (and '*'
	// as repetition separator in syntax 4).
	Separators edifact.Separators
	// UNA writes the service string advice also for default separators.
	UNA bool
	// LineBreaks writes a line break after each segment.
	LineBreaks bool
	// Directory is the UNH message version and release; "" is "D96A".
	Directory string
	// Association is UNH 0057, e.g. "EAN008"; optional.
	Association string
	Test        bool      // UNB 0035 = 1
	Time        time.Time // UNB S004; required
}

// RenderEDIFACTOrders writes o as an EDIFACT ORDERS message in an
// interchange of its own: the inverse of FromEDIFACTOrders, so that it
// maps the result back to an order equal to o (apart from source and
// provenance) for every order it produces itself.
//
// Mapping: BGM C002 the order type when it is an EDIFACT code (one to
// three letters and digits, not a two-letter X12 code), else 220; 1004
// the PO number; 1225 from the purpose (original or "" 9, cancel 1,
// replace 5, change 4; other purposes are an ErrRender error); DTM+137
// the PO date, else DTM+97 the envelope's date (DTM is mandatory and
// that date is not the PO date); DTM+2 the requested delivery; FTX+AAI
// per note (C108 in pieces of up to 70 characters, cut at spaces; a note
// longer than five pieces goes on in another FTX); RFF per reference;
// NAD per party (role BY, DP, IV, SU, SF or the raw code; C082 id with
// agency 9 GLN, 16 DUNS, 91, 92 or raw; C080 the name in pieces of up to
// 35 characters; C059 the address lines; city, region, postal code,
// country); CUX+2:<currency>:9; per line LIN (line number, GTIN as EN),
// PIA+5 (SA supplier part or the SKU when there is none, BP buyer part,
// MF manufacturer part), IMD+F the description (two pieces of up to 35
// characters per IMD), QTY+21 quantity and unit, DTM+2, MOA+203 the line
// amount, FTX+AAI per line note, PRI+AAA the price with its basis (5284
// and 6411 from "100 PCE"); UNS+S; CNT+2 the declared line count; MOA+86
// the declared amount. Decimals use the separators' decimal mark; line
// breaks in free text become spaces; a character the syntax's character
// set cannot carry is an error (choose UNOW for UTF-8).
func RenderEDIFACTOrders(o *order.Order, env EDIFACTEnvelope) ([]byte, error) {
	if o == nil {
		return nil, fmt.Errorf("rendering EDIFACT ORDERS: %w: nil order", ErrRender)
	}
	b, err := renderEDIFACTOrders(o, env)
	if err != nil {
		return nil, fmt.Errorf("rendering EDIFACT ORDERS of order %s (PO %s): %w", o.ID, o.PONumber, err)
	}
	return b, nil
}

func renderEDIFACTOrders(o *order.Order, env EDIFACTEnvelope) ([]byte, error) {
	if env.Time.IsZero() {
		return nil, fmt.Errorf("%w: the envelope has no time", ErrRender)
	}
	if env.InterchangeControl == "" || env.MessageControl <= 0 {
		return nil, fmt.Errorf("%w: the envelope needs an interchange and a message control reference", ErrRender)
	}
	dir := env.Directory
	if dir == "" {
		dir = "D96A"
	}
	if len(dir) != 4 {
		return nil, fmt.Errorf("%w: directory %q is not like D96A", ErrRender, dir)
	}
	seps := env.Separators
	if seps == (edifact.Separators{}) {
		seps = edifact.DefaultSeparators
		if env.SyntaxVersion == "4" {
			seps.Repetition = '*'
		}
	}
	function, err := edifactFunction(o.Purpose)
	if err != nil {
		return nil, err
	}
	opts := []edifact.WriterOption{edifact.WithControlNumbers(edifactControls{fixedControls{0, 0, env.MessageControl}})}
	if env.UNA {
		opts = append(opts, edifact.WithUNA())
	}
	if env.LineBreaks {
		opts = append(opts, edifact.WithLineBreaks())
	}
	ctx := context.Background() // the control references are given: nothing blocks
	var buf bytes.Buffer
	w := edifact.NewWriter(&buf, seps, opts...)
	num := func(d decimal.Decimal) string {
		s := d.String()
		if seps.Decimal == ',' {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	w.BeginInterchange(ctx, edifact.InterchangeHeader{
		SyntaxID: env.SyntaxID, SyntaxVersion: env.SyntaxVersion, SenderID: env.SenderID, SenderQual: env.SenderQualifier,
		RecipientID: env.ReceiverID, RecipQual: env.ReceiverQualifier, Time: env.Time, Control: env.InterchangeControl, Test: env.Test,
	})
	w.BeginMessage(ctx, edifact.MessageID{Type: "ORDERS", Version: dir[:1], Release: dir[1:], Agency: "UN", Association: env.Association})
	orderType := o.OrderType
	if !code(orderType) || len(orderType) == 2 && !digits(orderType) {
		orderType = "220" // none, or an X12 BEG02 code
	}
	w.SegmentElements("BGM", []string{orderType}, []string{o.PONumber}, []string{function})
	if !o.PODate.IsZero() {
		w.SegmentElements("DTM", []string{"137", compactDate(o.PODate), "102"})
	} else {
		// DTM is mandatory; without a PO date the message says when it
		// was made (97 transaction creation date), which is no PO date.
		w.SegmentElements("DTM", []string{"97", env.Time.Format("20060102"), "102"})
	}
	if !o.RequestedDelivery.IsZero() {
		w.SegmentElements("DTM", []string{"2", compactDate(o.RequestedDelivery), "102"})
	}
	for _, n := range o.Notes {
		edifactNote(w, n)
	}
	for _, r := range o.References {
		w.SegmentElements("RFF", []string{r.Qualifier, r.Value})
	}
	for i, p := range o.Parties {
		role, err := edifactRole(p.Role)
		if err != nil {
			return nil, fmt.Errorf("party %d: %w", i+1, err)
		}
		var id, street, city, region, postal, country []string
		if p.ID != "" {
			id = []string{p.ID, "", idAgency(p.IDScheme)}
		}
		name := splitAtSpaces(edifactText(p.Name), 35)
		if a := p.Address; a != nil {
			for _, l := range a.Lines {
				street = append(street, edifactText(l))
			}
			city, region, postal, country = []string{edifactText(a.City)}, []string{edifactText(a.Region)}, []string{a.PostalCode}, []string{a.Country}
		}
		w.SegmentElements("NAD", []string{role}, id, nil, name, street, city, region, postal, country)
	}
	if o.Currency != "" {
		w.SegmentElements("CUX", []string{"2", o.Currency, "9"})
	}
	for _, l := range o.Lines {
		var item []string
		if l.GTIN != "" {
			item = []string{l.GTIN, "EN"}
		}
		if err := w.SegmentElements("LIN", []string{l.LineNo}, nil, item); err != nil {
			return nil, fmt.Errorf("line %s: %w", l.LineNo, err)
		}
		supplierPart := l.SupplierPart
		if supplierPart == "" {
			supplierPart = l.SKU
		}
		pia := [][]string{{"5"}}
		for _, id := range [][2]string{{supplierPart, "SA"}, {l.BuyerPart, "BP"}, {l.ManufacturerPart, "MF"}} {
			if id[0] != "" {
				pia = append(pia, []string{id[0], id[1]})
			}
		}
		if len(pia) > 1 {
			w.SegmentElements("PIA", pia...)
		}
		desc := splitAtSpaces(edifactText(l.Description), 35)
		for k := 0; k < len(desc); k += 2 {
			c := []string{"", "", "", desc[k]}
			if k+1 < len(desc) {
				c = append(c, desc[k+1])
			}
			w.SegmentElements("IMD", []string{"F"}, nil, c)
		}
		w.SegmentElements("QTY", []string{"21", num(l.Quantity), l.Unit})
		if !l.RequestedDelivery.IsZero() {
			w.SegmentElements("DTM", []string{"2", compactDate(l.RequestedDelivery), "102"})
		}
		if l.Amount != nil {
			w.SegmentElements("MOA", []string{"203", num(*l.Amount)})
		}
		for _, n := range l.Notes {
			edifactNote(w, n)
		}
		if l.UnitPrice != nil {
			basis, unit, _ := strings.Cut(l.PriceBasis, " ")
			if !digits(basis) {
				basis, unit = "", "" // an X12 basis code ("PE"), not a quantity
			}
			w.SegmentElements("PRI", []string{"AAA", num(*l.UnitPrice), "", "", basis, unit})
		}
	}
	w.Segment("UNS", "S")
	if t := o.Totals; t != nil {
		if t.Amount != nil {
			w.SegmentElements("MOA", []string{"86", num(*t.Amount)})
		}
		if t.LineCount != nil {
			w.SegmentElements("CNT", []string{"2", strconv.Itoa(*t.LineCount)})
		}
	}
	w.EndMessage()
	w.EndInterchange()
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// edifactNote writes a note as FTX+AAI, its text in pieces of up to 70
// characters cut at spaces, five per FTX.
func edifactNote(w *edifact.Writer, n string) {
	parts := splitAtSpaces(edifactText(n), 70)
	for k := 0; k < len(parts); k += 5 {
		w.SegmentElements("FTX", []string{"AAI"}, nil, nil, parts[k:min(k+5, len(parts))])
	}
}

func edifactFunction(p order.Purpose) (string, error) {
	switch p {
	case order.PurposeOriginal, "":
		return "9", nil
	case order.PurposeCancel:
		return "1", nil
	case order.PurposeReplace:
		return "5", nil
	case order.PurposeChange:
		return "4", nil
	}
	return "", fmt.Errorf("%w: purpose %q has no BGM 1225 message function", ErrRender, p)
}

func edifactRole(role string) (string, error) {
	switch role {
	case order.RoleBuyer:
		return "BY", nil
	case order.RoleShipTo:
		return "DP", nil
	case order.RoleBillTo:
		return "IV", nil
	case order.RoleSupplier:
		return "SU", nil
	case order.RoleShipFrom:
		return "SF", nil
	}
	if code(role) {
		return role, nil
	}
	return "", fmt.Errorf("%w: role %q has no NAD 3035 code", ErrRender, role)
}

// edifactText makes free text writable: line breaks and tabs become
// spaces (the writer escapes the service characters).
func edifactText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// CSVColumns are the columns RenderCSV writes, in order: the order's
// fields, repeated on every row, then the line's.
var CSVColumns = []string{
	"order_id", "channel", "po_number", "po_date", "purpose", "order_type", "currency", "requested_delivery",
	"customer_id", "sender_id", "buyer_id", "buyer_name",
	"ship_to_id", "ship_to_name", "ship_to_address", "ship_to_postal_code", "ship_to_city", "ship_to_region", "ship_to_country",
	"notes", "total_amount", "line_count",
	"line_no", "sku", "quantity", "unit", "unit_price", "price_basis", "line_amount",
	"gtin", "buyer_part", "supplier_part", "manufacturer_part", "description", "line_requested_delivery", "line_notes",
}

// RenderCSV writes o as CSV (RFC 4180: comma, double quotes where
// needed, CRLF line ends): a header row of CSVColumns, then one row per
// order line with the order's fields repeated. Decimals are written as in
// the canonical JSON ("12.50"), dates as YYYY-MM-DD; address lines and
// notes are joined with " | ". A cell that starts with = + - @, a tab or
// a carriage return gets a leading single quote, so that a spreadsheet
// shows it as text instead of running it as a formula (a negative number
// therefore reads as text too). An order without lines gives the header
// row only.
func RenderCSV(o *order.Order) ([]byte, error) {
	if o == nil {
		return nil, fmt.Errorf("rendering CSV: %w: nil order", ErrRender)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write(CSVColumns)
	head := csvHead(o)
	row := make([]string, 0, len(CSVColumns))
	for _, l := range o.Lines {
		row = append(row[:0], head...)
		row = append(row, l.LineNo, l.SKU, l.Quantity.String(), l.Unit, decString(l.UnitPrice), l.PriceBasis, decString(l.Amount),
			l.GTIN, l.BuyerPart, l.SupplierPart, l.ManufacturerPart, l.Description, l.RequestedDelivery.String(), strings.Join(l.Notes, " | "))
		for i := range row {
			row[i] = neutralizeFormula(row[i])
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("rendering CSV of order %s (PO %s): %w", o.ID, o.PONumber, err)
	}
	return buf.Bytes(), nil
}

func csvHead(o *order.Order) []string {
	var buyer, shipTo order.Party
	if p := o.Party(order.RoleBuyer); p != nil {
		buyer = *p
	}
	if p := o.Party(order.RoleShipTo); p != nil {
		shipTo = *p
	}
	var addr order.Address
	if shipTo.Address != nil {
		addr = *shipTo.Address
	}
	total, count := "", ""
	if t := o.Totals; t != nil {
		total = decString(t.Amount)
		if t.LineCount != nil {
			count = strconv.Itoa(*t.LineCount)
		}
	}
	return []string{
		o.ID, string(o.Channel), o.PONumber, o.PODate.String(), string(o.Purpose), o.OrderType, o.Currency, o.RequestedDelivery.String(),
		o.CustomerID, o.Source.SenderID, buyer.ID, buyer.Name,
		shipTo.ID, shipTo.Name, strings.Join(addr.Lines, " | "), addr.PostalCode, addr.City, addr.Region, addr.Country,
		strings.Join(o.Notes, " | "), total, count,
	}
}

// neutralizeFormula prefixes a cell a spreadsheet would take for a
// formula with a single quote.
func neutralizeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
