package normalize

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/normalize/order"
)

// FromEDIFACTOrders maps an EDIFACT ORDERS message (D96A, D01B and their
// EANCOM subsets; the layout of other directories is read the same way)
// to the canonical order. file is recorded as source.file.
//
// What it reads, and the decisions where the standard leaves a choice:
//   - BGM: C002 1001 is order_type; 1004 (C106 in D01B) is po_number and
//     must be present; 1225 is the purpose: 9 (or none) original, 1
//     cancel, 5 replace, 4 change, 2 (addition) and 3 (deletion) change;
//     any other function (6 confirmation, 7 duplicate, 31 copy, ...) is
//     not an order to act on and gives a MappingError.
//   - DTM in the heading: 137 po_date; requested_delivery from 2, else 64
//     (earliest), else 63 (latest). DTM in a line: the same qualifiers for
//     the line's requested_delivery. Formats 102 CCYYMMDD, 203
//     CCYYMMDDHHMM, 204 CCYYMMDDHHMMSS, 101 YYMMDD, 718 CCYYMMDD-CCYYMMDD
//     (its first day); without 2379, 8 digits are 102 and 12 are 203. The
//     time of 203 and 204 must be a time of day (hours below 24).
//   - FTX: the C108 texts joined by a space, as a note of the order or,
//     inside a line, of the line.
//   - RFF in the heading (SG1): references. RFF inside a party or line
//     group is not mapped.
//   - NAD: role BY buyer, DP and ST ship_to, IV bill_to, SU supplier, any
//     other code kept raw; C082 3039 id with scheme 3055 9 GLN, 16 DUNS,
//     91 seller, 92 buyer, other codes raw; name from C080 (its parts
//     joined by a space) or else the first line of C058, whose other
//     lines become address lines; C059 street lines, 3164 city, 3229
//     region (C819 in D01B), 3251 postal code, 3207 country.
//   - CUX: the currency of the first CUX whose 6347 is 2 or 9 (else the
//     first CUX).
//   - LIN 1082 line_no (the line's ordinal when empty); C212 7140 by 7143:
//     EN, SRV, UP gtin, SA supplier_part, BP and IN buyer_part, MF
//     manufacturer_part (untyped ids are not mapped). PIA ids by the same
//     codes, not overwriting LIN's. IMD C273 7008 texts of all IMD of the
//     line joined by a space. QTY 21 quantity and unit (6411); without QTY
//     21 the line's first QTY; a line without QTY is a MappingError. PRI
//     AAA (else AAB) unit price as sent, 5284 (and its 6411) as
//     price_basis, e.g. "100 PCE". MOA 203 line amount.
//   - CNT 2 totals.line_count; MOA 86 (message total), else 128 (total
//     amount), else 79 (line items total) totals.amount.
//   - Numbers use the message's decimal mark; a value written with the
//     other mark ('.' for ',') is read too, as syntax 4 allows both.
//
// Provenance names the segment and the element as "segment N TAGnn" for
// a simple element and "segment N TAGnn:c" for component c of a composite
// (e.g. "segment 4 DTM01:2" is the date of C507).
func FromEDIFACTOrders(m *edi.Message, file string) (*order.Order, error) {
	if m.Standard != edi.EDIFACT || m.Type != "ORDERS" {
		return nil, fmt.Errorf("%s %s: %w", m.Standard, m.Type, ErrNotAnOrder)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	mp := ordersMapper{m: m, mark: m.DecimalMark, buf: sc.buf[:0], spans: sc.spans[:0]}
	defer func() { sc.buf, sc.spans = mp.buf[:0], mp.spans[:0] }()
	if mp.mark == 0 {
		mp.mark = '.'
	}
	return mp.run(file)
}

// scratch is the provenance buffer of one mapping, pooled across calls.
type scratch struct {
	buf   []byte
	spans [][3]int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, 0, 8<<10), spans: make([][3]int32, 0, 256)} }}

type section int

const (
	inHeading section = iota
	inParty
	inLine
	inSummary
)

type ordersMapper struct {
	m     *edi.Message
	mark  byte
	o     *order.Order
	errs  []error
	buf   []byte     // provenance paths and places, back to back
	spans [][3]int32 // path start, place start, place end in buf

	// The last place and path prefix written to buf, copied rather than
	// formatted again: most fields of a segment, and of a line, follow
	// one another.
	placeSeg         *edi.Segment // "segment N TAG" at buf[placeLo:placeHi]
	placeLo, placeHi int32
	pathPrefix       string // "lines[" with pathIdx: "lines[3]." at buf[pathLo:pathHi]
	pathIdx          int
	pathLo, pathHi   int32
	indexes          indexText // segment indexes of the places

	sec       section
	delivery  int // rank of the requested_delivery qualifier found (0 none)
	lineDeliv int
	line      *order.Line
	lineIdx   int
	lineSeg   *edi.Segment
	qtyRank   int // 2 for QTY 21, 1 for another QTY
	priceRank int // 2 for AAA, 1 for AAB
	totalRank int
	currency  bool

	decimals  []decimal.Decimal // backing of the order's amounts (newDecimal)
	addresses []order.Address   // backing of the parties' addresses
}

// newDecimal returns a pointer to a copy of d, in mp.decimals while it has
// room.
func (mp *ordersMapper) newDecimal(d decimal.Decimal) *decimal.Decimal {
	if len(mp.decimals) == cap(mp.decimals) {
		// A new variable, so that d itself does not escape: returning
		// &d would move every d to the heap, even on the path above.
		p := new(decimal.Decimal)
		*p = d
		return p
	}
	mp.decimals = append(mp.decimals, d)
	return &mp.decimals[len(mp.decimals)-1]
}

func (mp *ordersMapper) fail(s *edi.Segment, el, comp int, format string, args ...any) {
	mp.errs = append(mp.errs, &MappingError{Pos: s.Pos, Tag: s.Tag, Element: el, Component: comp, Err: fmt.Errorf(format, args...)})
}

// record notes the provenance of one field: the path (prefix, index and
// field, as "lines[3].quantity", or field alone when idx < 0, followed by
// "[sub]" when sub >= 0, as "notes[0]") and where the value was read,
// "segment N TAGnn" for a simple element, "segment N TAGnn:c" for a
// component. All paths and places of an order share one string, made
// when the mapping ends (flushProvenance).
func (mp *ordersMapper) record(prefix string, idx int, field string, sub int, s *edi.Segment, el, comp int) {
	b := mp.buf
	k0 := len(b)
	if idx >= 0 {
		if idx == mp.pathIdx && prefix == mp.pathPrefix && mp.pathHi > 0 {
			b = append(b, b[mp.pathLo:mp.pathHi]...)
		} else {
			b = append(b, prefix...)
			b = strconv.AppendInt(b, int64(idx), 10)
			b = append(b, "]."...)
			mp.pathPrefix, mp.pathIdx, mp.pathLo, mp.pathHi = prefix, idx, int32(k0), int32(len(b))
		}
	}
	b = append(b, field...)
	if sub >= 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(sub), 10)
		b = append(b, ']')
	}
	mp.place(b, k0, s, el, comp)
}

// recordInterned is record for the path internedPaths()[k].
func (mp *ordersMapper) recordInterned(k int, s *edi.Segment, el, comp int) {
	mp.place(mp.buf, -1-k, s, el, comp)
}

// place appends where the value was read to b and notes the span, its
// path at b[k0:] or, when k0 < 0, internedPaths()[-1-k0].
func (mp *ordersMapper) place(b []byte, k0 int, s *edi.Segment, el, comp int) {
	k1 := len(b)
	if s == mp.placeSeg {
		b = append(b, b[mp.placeLo:mp.placeHi]...)
	} else {
		b = append(b, "segment "...)
		b = mp.indexes.append(b, s.Pos.Index)
		b = append(b, ' ')
		b = append(b, s.Tag...)
		mp.placeSeg, mp.placeLo, mp.placeHi = s, int32(k1), int32(len(b))
	}
	if el >= 0 && el < 100 {
		b = append(b, byte('0'+el/10), byte('0'+el%10))
	} else {
		b = strconv.AppendInt(b, int64(el), 10)
	}
	if comp > 0 {
		b = append(b, ':')
		if comp < 10 {
			b = append(b, byte('0'+comp))
		} else {
			b = strconv.AppendInt(b, int64(comp), 10)
		}
	}
	// Store the slices back without a pointer write (and its GC write
	// barrier) unless append moved them.
	if cap(b) == cap(mp.buf) {
		mp.buf = mp.buf[:len(b)]
	} else {
		mp.buf = b
	}
	if len(mp.spans) < cap(mp.spans) {
		mp.spans = mp.spans[:len(mp.spans)+1]
		mp.spans[len(mp.spans)-1] = [3]int32{int32(k0), int32(k1), int32(len(b))}
	} else {
		mp.spans = append(mp.spans, [3]int32{int32(k0), int32(k1), int32(len(b))})
	}
}

// flushProvenance fills the order's provenance from the recorded spans,
// later records of a path winning.
func (mp *ordersMapper) flushProvenance() {
	all := string(mp.buf)
	var paths []string
	// Appended to a local slice, stored in the order once: not a slice
	// header (and its GC write barrier) written back per entry.
	// Made here, when the number of entries is known: sized from the
	// order's lines up front, a quarter of it went unused.
	p := make(order.Provenance, 0, len(mp.spans))
	for _, sp := range mp.spans {
		if sp[0] < 0 {
			if paths == nil {
				paths = internedPaths()
			}
			p = append(p, order.ProvenanceEntry{Path: paths[-1-sp[0]], Where: all[sp[1]:sp[2]]})
		} else {
			p = append(p, order.ProvenanceEntry{Path: all[sp[0]:sp[1]], Where: all[sp[1]:sp[2]]})
		}
	}
	mp.o.Provenance = p
}

// lineField and partyField name the fields of a line and a party that
// have provenance; their paths for the first lines and parties,
// "lines[3].quantity", are made once and shared by every order.
type (
	lineField  int
	partyField int
)

const (
	lineNo lineField = iota
	lineGTIN
	lineSupplierPart
	lineBuyerPart
	lineManufacturerPart
	lineDescription
	lineQuantity
	lineUnit
	lineUnitPrice
	linePriceBasis
	lineAmount
	lineRequestedDelivery
)

const (
	partyRole partyField = iota
	partyID
	partyIDScheme
	partyName
	partyAddressCity
	partyAddressRegion
	partyAddressPostalCode
	partyAddressCountry
)

var (
	lineFields = [...]string{lineNo: "line_no", lineGTIN: "gtin", lineSupplierPart: "supplier_part", lineBuyerPart: "buyer_part",
		lineManufacturerPart: "manufacturer_part", lineDescription: "description", lineQuantity: "quantity", lineUnit: "unit",
		lineUnitPrice: "unit_price", linePriceBasis: "price_basis", lineAmount: "amount", lineRequestedDelivery: "requested_delivery"}
	partyFields = [...]string{partyRole: "role", partyID: "id", partyIDScheme: "id_scheme", partyName: "name",
		partyAddressCity: "address.city", partyAddressRegion: "address.region", partyAddressPostalCode: "address.postal_code",
		partyAddressCountry: "address.country"}
	internedPaths = sync.OnceValue(func() []string {
		paths := make([]string, 0, internedLines*len(lineFields)+internedParties*len(partyFields))
		for i := range internedLines {
			for _, f := range lineFields {
				paths = append(paths, "lines["+strconv.Itoa(i)+"]."+f)
			}
		}
		for i := range internedParties {
			for _, f := range partyFields {
				paths = append(paths, "parties["+strconv.Itoa(i)+"]."+f)
			}
		}
		return paths
	})
)

const internedLines, internedParties = 256, 16

func (mp *ordersMapper) prov(field string, s *edi.Segment, el, comp int) {
	mp.record("", -1, field, -1, s, el, comp)
}

func (mp *ordersMapper) provLine(f lineField, s *edi.Segment, el, comp int) {
	if i := mp.lineIdx; i < internedLines {
		mp.recordInterned(i*len(lineFields)+int(f), s, el, comp)
		return
	}
	mp.record("lines[", mp.lineIdx, lineFields[f], -1, s, el, comp)
}

func (mp *ordersMapper) provParty(i int, f partyField, s *edi.Segment, el, comp int) {
	if i < internedParties {
		mp.recordInterned(internedLines*len(lineFields)+i*len(partyFields)+int(f), s, el, comp)
		return
	}
	mp.record("parties[", i, partyFields[f], -1, s, el, comp)
}

func (mp *ordersMapper) run(file string) (*order.Order, error) {
	m := mp.m
	env := m.Envelope
	lines, nads := 0, 0
	for i := range m.Segments {
		switch m.Segments[i].Tag {
		case "LIN":
			lines++
		case "NAD":
			nads++
		}
	}
	// One allocation each for the amounts and addresses of the order.
	mp.decimals = make([]decimal.Decimal, 0, 2*lines+1)
	mp.addresses = make([]order.Address, 0, nads)
	mp.o = &order.Order{
		Channel: order.ChannelEDI,
		Source: order.Source{Standard: "EDIFACT", Version: env.Version, SenderID: env.SenderID, SenderQualifier: env.SenderQualifier,
			ReceiverID: env.ReceiverID, ReceiverQualifier: env.ReceiverQualifier, InterchangeControl: env.InterchangeControl,
			GroupControl: env.GroupControl, MessageControl: env.MessageControl, Test: env.Test, File: file},
		Lines: make([]order.Line, 0, lines),
	}
	if nads > 0 {
		mp.o.Parties = make([]order.Party, 0, nads)
	}
	sawBGM := false
	for i := range m.Segments {
		s := &m.Segments[i]
		switch s.Tag {
		case "UNH", "UNT":
		case "BGM":
			sawBGM = true
			mp.bgm(s)
		case "DTM":
			mp.dtm(s)
		case "FTX":
			mp.ftx(s)
		case "RFF":
			if mp.sec == inHeading {
				mp.o.References = append(mp.o.References, order.Reference{Qualifier: s.Component(1, 1), Value: s.Component(1, 2)})
				mp.record("references[", len(mp.o.References)-1, "qualifier", -1, s, 1, 1)
				mp.record("references[", len(mp.o.References)-1, "value", -1, s, 1, 2)
			}
		case "NAD":
			if mp.sec == inHeading || mp.sec == inParty {
				mp.sec = inParty
				mp.nad(s)
			}
		case "LOC", "FII", "CTA", "COM", "DOC":
			// Party group details, or line details not mapped.
		case "CUX":
			if mp.sec == inHeading || mp.sec == inParty {
				mp.sec = inHeading
				mp.cux(s)
			}
		case "LIN":
			mp.endLine()
			mp.lin(s)
		case "PIA":
			if mp.sec == inLine {
				mp.pia(s)
			}
		case "IMD":
			if mp.sec == inLine {
				mp.imd(s)
			}
		case "QTY":
			if mp.sec == inLine {
				mp.qty(s)
			}
		case "PRI":
			if mp.sec == inLine {
				mp.pri(s)
			}
		case "MOA":
			mp.moa(s)
		case "UNS":
			mp.endLine()
			mp.sec = inSummary
		case "CNT":
			mp.cnt(s)
		default:
			if mp.sec == inParty {
				mp.sec = inHeading
			}
		}
	}
	mp.endLine()
	mp.flushProvenance()
	if !sawBGM && len(m.Segments) > 0 {
		mp.fail(&m.Segments[0], 0, 0, "message has no BGM")
	}
	switch len(mp.errs) {
	case 0:
		return mp.o, nil
	case 1:
		return nil, mp.errs[0]
	default:
		return nil, errors.Join(mp.errs...)
	}
}

func (mp *ordersMapper) bgm(s *edi.Segment) {
	o := mp.o
	if t := s.Component(1, 1); t != "" {
		o.OrderType = t
		mp.prov("order_type", s, 1, 1)
	}
	po := s.Component(2, 1)
	if po == "" {
		mp.fail(s, 2, 0, "BGM has no document number (1004)")
	} else {
		o.PONumber = po
		mp.prov("po_number", s, 2, 0)
	}
	fn := s.Value(3)
	switch fn {
	case "", "9":
		o.Purpose = order.PurposeOriginal
	case "1":
		o.Purpose = order.PurposeCancel
	case "5":
		o.Purpose = order.PurposeReplace
	case "4", "2", "3":
		o.Purpose = order.PurposeChange
	default:
		mp.fail(s, 3, 0, "message function %q is not an order to act on (9 original, 1 cancel, 5 replace, 4 change)", fn)
		return
	}
	if fn != "" {
		mp.prov("purpose", s, 3, 0)
	}
}

// deliveryRank orders the delivery date qualifiers: 2 requested, 64
// earliest, 63 latest.
func deliveryRank(q string) int {
	switch q {
	case "2":
		return 3
	case "64":
		return 2
	case "63":
		return 1
	}
	return 0
}

func (mp *ordersMapper) dtm(s *edi.Segment) {
	q := s.Component(1, 1)
	switch mp.sec {
	case inHeading, inParty:
		if mp.sec == inParty {
			return // a date of the party group (SG3 RFF) is not the order's
		}
		if q == "137" {
			if d, ok := mp.date(s); ok {
				mp.o.PODate = d
				mp.prov("po_date", s, 1, 2)
			}
		} else if r := deliveryRank(q); r > mp.delivery {
			if d, ok := mp.date(s); ok {
				mp.o.RequestedDelivery, mp.delivery = d, r
				mp.prov("requested_delivery", s, 1, 2)
			}
		}
	case inLine:
		if r := deliveryRank(q); r > mp.lineDeliv {
			if d, ok := mp.date(s); ok {
				mp.line.RequestedDelivery, mp.lineDeliv = d, r
				mp.provLine(lineRequestedDelivery, s, 1, 2)
			}
		}
	}
}

// date reads DTM C507 2380 by its format 2379.
func (mp *ordersMapper) date(s *edi.Segment) (order.Date, bool) {
	v, f := s.Component(1, 2), s.Component(1, 3)
	if f == "" {
		switch len(v) {
		case 8:
			f = "102"
		case 12:
			f = "203"
		}
	}
	var d order.Date
	var err error
	switch {
	case f == "102" && len(v) == 8, f == "203" && len(v) == 12, f == "204" && len(v) == 14:
		d, err = order.ParseCompactDate(v[:8], time.Time{}) // the pivot is for two-digit years only
		if err == nil && !validClock(v[8:]) {
			err = fmt.Errorf("time %q of %q (format %s) is not a time of day", v[8:], v, f)
		}
	case f == "101" && len(v) == 6:
		d, err = order.ParseCompactDate(v, time.Now())
	case f == "718" && len(v) == 17 && v[8] == '-':
		d, err = order.ParseCompactDate(v[:8], time.Time{})
	default:
		err = fmt.Errorf("date %q in format %q is not one of 101, 102, 203, 204, 718", v, f)
	}
	if err != nil {
		mp.fail(s, 1, 2, "%v", err)
		return order.Date{}, false
	}
	return d, true
}

// validClock tells whether hm is "", HHMM or HHMMSS with hours below
// 24 and minutes and seconds below 60.
func validClock(hm string) bool {
	for i := 0; i < len(hm); i++ {
		if hm[i] < '0' || hm[i] > '9' {
			return false
		}
	}
	for i, limit := range [3]byte{'2', '5', '5'} {
		if 2*i+1 >= len(hm) {
			break
		}
		if hm[2*i] > limit || i == 0 && hm[0] == '2' && hm[1] > '3' {
			return false
		}
	}
	return true
}

func (mp *ordersMapper) ftx(s *edi.Segment) {
	text := joinNonEmpty(s.Components(4))
	if text == "" {
		return
	}
	switch mp.sec {
	case inLine:
		mp.line.Notes = append(mp.line.Notes, text)
		mp.record("lines[", mp.lineIdx, "notes", len(mp.line.Notes)-1, s, 4, 1)
	case inHeading, inParty:
		mp.sec = inHeading
		mp.o.Notes = append(mp.o.Notes, text)
		mp.record("", -1, "notes", len(mp.o.Notes)-1, s, 4, 1)
	}
}

var partyRoles = map[string]string{"BY": order.RoleBuyer, "DP": order.RoleShipTo, "ST": order.RoleShipTo, "IV": order.RoleBillTo, "SU": order.RoleSupplier}

var idSchemes = map[string]string{"9": order.SchemeGLN, "16": order.SchemeDUNS, "91": order.SchemeSeller, "92": order.SchemeBuyer}

func (mp *ordersMapper) nad(s *edi.Segment) {
	code := s.Value(1)
	role, ok := partyRoles[code]
	if !ok {
		role = code
	}
	p := order.Party{Role: role}
	i := len(mp.o.Parties)
	mp.provParty(i, partyRole, s, 1, 0)
	if id := s.Component(2, 1); id != "" {
		p.ID = id
		mp.provParty(i, partyID, s, 2, 1)
		if ag := s.Component(2, 3); ag != "" {
			if sc, ok := idSchemes[ag]; ok {
				p.IDScheme = sc
			} else {
				p.IDScheme = ag
			}
			mp.provParty(i, partyIDScheme, s, 2, 3)
		}
	}
	var addr order.Address
	addLine := func(v string, el, comp int) {
		if v = trimSpace(v); v != "" {
			mp.record("parties[", i, "address.lines", len(addr.Lines), s, el, comp)
			addr.Lines = append(addr.Lines, v)
		}
	}
	if name := joinNonEmpty(s.Components(4)); name != "" {
		p.Name = name
		mp.provParty(i, partyName, s, 4, 1)
	} else if comps := s.Components(3); len(comps) > 0 {
		for k, v := range comps {
			if p.Name == "" {
				if v = trimSpace(v); v != "" {
					p.Name = v
					mp.provParty(i, partyName, s, 3, k+1)
				}
				continue
			}
			addLine(v, 3, k+1)
		}
	}
	for k, v := range s.Components(5) {
		addLine(v, 5, k+1)
	}
	set := func(dst *string, el int, field partyField) {
		if v := s.Component(el, 1); v != "" {
			*dst = v
			comp := 0
			if len(s.Components(el)) > 1 {
				comp = 1
			}
			mp.provParty(i, field, s, el, comp)
		}
	}
	set(&addr.City, 6, partyAddressCity)
	set(&addr.Region, 7, partyAddressRegion)
	set(&addr.PostalCode, 8, partyAddressPostalCode)
	set(&addr.Country, 9, partyAddressCountry)
	if len(addr.Lines) > 0 || addr.City != "" || addr.Region != "" || addr.PostalCode != "" || addr.Country != "" {
		if len(mp.addresses) < cap(mp.addresses) {
			mp.addresses = append(mp.addresses, addr)
			p.Address = &mp.addresses[len(mp.addresses)-1]
		} else {
			p.Address = new(order.Address) // not &addr, which would move every addr to the heap
			*p.Address = addr
		}
	}
	mp.o.Parties = append(mp.o.Parties, p)
}

// joinNonEmpty joins the trimmed non-empty components (of an element's
// first repetition) with a space; a single one is returned as it is,
// without a copy.
func joinNonEmpty(comps []string) string {
	first, n, size := "", 0, 0
	for _, v := range comps {
		if v = trimSpace(v); v != "" {
			if n == 0 {
				first = v
			}
			n++
			size += len(v) + 1
		}
	}
	if n <= 1 {
		return first
	}
	var b strings.Builder
	b.Grow(size - 1)
	for _, v := range comps {
		if v = trimSpace(v); v != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

func (mp *ordersMapper) cux(s *edi.Segment) {
	if mp.currency {
		return
	}
	cur := s.Component(1, 2)
	if cur == "" {
		return
	}
	if use := s.Component(1, 1); use == "2" || use == "9" || len(mp.o.Currency) == 0 {
		mp.o.Currency = cur
		mp.prov("currency", s, 1, 2)
		mp.currency = use == "2" || use == "9"
	}
}

func (mp *ordersMapper) lin(s *edi.Segment) {
	mp.sec = inLine
	mp.o.Lines = append(mp.o.Lines, order.Line{})
	mp.lineIdx = len(mp.o.Lines) - 1
	mp.line = &mp.o.Lines[mp.lineIdx]
	mp.lineSeg = s
	mp.qtyRank, mp.priceRank, mp.lineDeliv = 0, 0, 0
	if no := s.Value(1); no != "" {
		mp.line.LineNo = no
		mp.provLine(lineNo, s, 1, 0)
	} else {
		mp.line.LineNo = strconv.Itoa(mp.lineIdx + 1)
	}
	mp.itemID(s, 3, s.Component(3, 1), s.Component(3, 2), true)
}

// itemID maps an item number by its type (7143).
func (mp *ordersMapper) itemID(s *edi.Segment, el int, id, typ string, overwrite bool) {
	if id == "" {
		return
	}
	var dst *string
	var field lineField
	l := mp.line
	switch typ {
	case "EN", "SRV", "UP":
		dst, field = &l.GTIN, lineGTIN
	case "SA":
		dst, field = &l.SupplierPart, lineSupplierPart
	case "BP", "IN":
		dst, field = &l.BuyerPart, lineBuyerPart
	case "MF":
		dst, field = &l.ManufacturerPart, lineManufacturerPart
	default:
		return
	}
	if *dst != "" && !overwrite {
		return
	}
	*dst = id
	mp.provLine(field, s, el, 1)
}

func (mp *ordersMapper) pia(s *edi.Segment) {
	for el := 2; el <= s.Len(); el++ {
		mp.itemID(s, el, s.Component(el, 1), s.Component(el, 2), false)
	}
}

func (mp *ordersMapper) imd(s *edi.Segment) {
	comps := s.Components(3)
	for k := 3; k < len(comps) && k < 5; k++ {
		t := trimSpace(comps[k])
		if t == "" {
			continue
		}
		if mp.line.Description == "" {
			mp.provLine(lineDescription, s, 3, k+1)
			mp.line.Description = t
		} else {
			mp.line.Description += " " + t
		}
	}
}

// number reads a numeric value with the message's decimal mark, or the
// other one.
func (mp *ordersMapper) number(s *edi.Segment, el, comp int, v string) (decimal.Decimal, bool) {
	d, err := parseNumber(v, mp.mark)
	if err != nil {
		other := byte(',')
		if mp.mark == ',' {
			other = '.'
		}
		if strings.IndexByte(v, other) >= 0 {
			if d2, err2 := parseNumber(v, other); err2 == nil {
				return d2, true
			}
		}
		mp.fail(s, el, comp, "%v", err)
		return decimal.Decimal{}, false
	}
	return d, true
}

// parseNumber is ParseDecimal with a fast path for what messages carry:
// an optional minus sign and at most 18 digits with at most one mark
// between digits, read without a copy. Anything else goes to
// ParseDecimal, so results and errors are the same.
func parseNumber(v string, mark byte) (decimal.Decimal, error) {
	body, neg := v, false
	if len(body) > 0 && body[0] == '-' {
		body, neg = body[1:], true
	}
	if len(body) == 0 || len(body) > 19 || body[0] == mark || body[len(body)-1] == mark {
		return ParseDecimal(v, mark)
	}
	var coef int64
	digits, scale, marks := 0, 0, 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
			scale += marks
		case c == mark && marks == 0:
			marks = 1
		default:
			return ParseDecimal(v, mark)
		}
	}
	if digits > 18 {
		return ParseDecimal(v, mark)
	}
	if neg {
		coef = -coef
	}
	return decimal.New(coef, scale)
}

func (mp *ordersMapper) qty(s *edi.Segment) {
	rank := 1
	if s.Component(1, 1) == "21" {
		rank = 2
	}
	if rank <= mp.qtyRank {
		return
	}
	q, ok := mp.number(s, 1, 2, s.Component(1, 2))
	mp.qtyRank = rank // also when unreadable: reported once, not again as missing
	if !ok {
		return
	}
	mp.line.Quantity = q
	mp.provLine(lineQuantity, s, 1, 2)
	mp.line.Unit = s.Component(1, 3)
	if mp.line.Unit != "" {
		mp.provLine(lineUnit, s, 1, 3)
	}
}

func (mp *ordersMapper) pri(s *edi.Segment) {
	rank := 0
	switch s.Component(1, 1) {
	case "AAA":
		rank = 2
	case "AAB":
		rank = 1
	}
	if rank <= mp.priceRank {
		return
	}
	v := s.Component(1, 2)
	if v == "" {
		return
	}
	p, ok := mp.number(s, 1, 2, v)
	if !ok {
		return
	}
	mp.priceRank = rank
	mp.line.UnitPrice = mp.newDecimal(p)
	mp.provLine(lineUnitPrice, s, 1, 2)
	mp.line.PriceBasis = ""
	if basis := s.Component(1, 5); basis != "" {
		if u := s.Component(1, 6); u != "" {
			basis += " " + u
		}
		mp.line.PriceBasis = basis
		mp.provLine(linePriceBasis, s, 1, 5)
	}
}

func (mp *ordersMapper) moa(s *edi.Segment) {
	q := s.Component(1, 1)
	switch mp.sec {
	case inLine:
		if q != "203" {
			return
		}
		if a, ok := mp.number(s, 1, 2, s.Component(1, 2)); ok {
			mp.line.Amount = mp.newDecimal(a)
			mp.provLine(lineAmount, s, 1, 2)
		}
	case inSummary:
		rank := 0
		switch q {
		case "86":
			rank = 3
		case "128":
			rank = 2
		case "79":
			rank = 1
		}
		if rank <= mp.totalRank {
			return
		}
		if a, ok := mp.number(s, 1, 2, s.Component(1, 2)); ok {
			mp.totals().Amount = mp.newDecimal(a)
			mp.totalRank = rank
			mp.prov("totals.amount", s, 1, 2)
		}
	}
}

func (mp *ordersMapper) totals() *order.Totals {
	if mp.o.Totals == nil {
		mp.o.Totals = &order.Totals{}
	}
	return mp.o.Totals
}

func (mp *ordersMapper) cnt(s *edi.Segment) {
	if s.Component(1, 1) != "2" {
		return
	}
	v := s.Component(1, 2)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		mp.fail(s, 1, 2, "line count %q is not a whole number", v)
		return
	}
	mp.totals().LineCount = &n
	mp.prov("totals.line_count", s, 1, 2)
}

// endLine checks the line just finished.
func (mp *ordersMapper) endLine() {
	if mp.line != nil && mp.qtyRank == 0 {
		mp.fail(mp.lineSeg, 0, 0, "line %s has no quantity (QTY)", mp.line.LineNo)
	}
	mp.line, mp.lineSeg = nil, nil
}
