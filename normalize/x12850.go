package normalize

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/normalize/order"
)

// x12Purposes maps BEG01 to the canonical purpose. Other codes (06
// confirmation, 07 duplicate, ...) are kept raw in Purpose: order.Validate
// then reports them, so such an order goes to a human instead of being
// taken for an original.
var x12Purposes = map[string]order.Purpose{
	"00": order.PurposeOriginal,
	"01": order.PurposeCancel,
	"04": order.PurposeChange,
	"05": order.PurposeReplace,
}

var x12Roles = map[string]string{
	"BY": order.RoleBuyer,
	"ST": order.RoleShipTo,
	"BT": order.RoleBillTo,
	"SE": order.RoleSupplier,
	"VN": order.RoleSupplier,
	"SF": order.RoleShipFrom,
}

var x12Schemes = map[string]string{
	"UL": order.SchemeGLN,
	"1":  order.SchemeDUNS,
	"9":  order.SchemeDUNS,
	"91": order.SchemeSeller,
	"92": order.SchemeBuyer,
}

// inN1Loop reports whether tag belongs to the 850 header N1 loop after N1.
func inN1Loop(tag string) bool {
	switch tag {
	case "N2", "N3", "N4", "NX2", "REF", "PER", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG":
		return true
	}
	return false
}

// x12DatePivot decides the century of six-digit dates (YYMMDD, used
// before version 004010): 1950..2049.
var x12DatePivot = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// FromX12850 maps an X12 850 transaction set to the canonical order.
//
// Mapping: BEG01 purpose (00 original, 01 cancel, 04 change, 05 replace,
// other codes kept raw), BEG02 order type, BEG03 po_number, BEG05
// po_date; header CUR02 currency; header DTM 002 (delivery requested)
// or, without it, 010 (requested ship) as requested_delivery, the same
// per line; MSG01 and NTE02 as notes (per line inside the PO1 loop);
// header REF as references (REF02, or REF03 when REF02 is empty); each
// header N1 loop as a party (N101 role BY buyer, ST ship_to, BT bill_to,
// SE/VN supplier, SF ship_from, other codes raw; N103 scheme UL GLN, 1/9
// DUNS, 91 seller, 92 buyer, others raw; N102 and N2 the name, N3 the
// address lines, N4 city, region, postal code, country as sent); PO1 as
// lines with every (qualifier, id) pair: BP/IN/CB/PI buyer_part,
// VP/VN/VA/VC supplier_part, UP/EN/UK gtin, MG manufacturer_part; SK, a
// retailer's stock keeping unit, is the buyer's id, so it is buyer_part
// when no BP/IN came, else a line reference like any other pair the
// model has no field for (qualifier "SK", value "123"; never a note);
// the first PID05 is the description, further PID05 are line notes; AMT*1
// in the PO1 loop is the line amount; CTT01/CTT02 and AMT*TT the totals.
// A PO1 without PO101 gets its ordinal as line number (provenance names
// the PO1 segment). SAC, TXI, line-level REF and N1 are not mapped.
//
// Every field set has provenance ("segment 4 BEG03"); envelope fields
// point at their element ("ISA06", "GS08", "segment 3 ST02"). A value
// that cannot be used (a quantity that is not a number, a date that does
// not exist) is a *MappingError.
func FromX12850(m *edi.Message, file string) (*order.Order, error) {
	if m.Standard != edi.X12 || m.Type != "850" {
		return nil, fmt.Errorf("%s %s: %w", m.Standard, m.Type, ErrNotAnOrder)
	}
	env := &m.Envelope
	o := &order.Order{
		Channel: order.ChannelEDI,
		Source: order.Source{
			Standard: "X12", Version: env.Version,
			SenderID: env.SenderID, SenderQualifier: env.SenderQualifier,
			ReceiverID: env.ReceiverID, ReceiverQualifier: env.ReceiverQualifier,
			InterchangeControl: env.InterchangeControl, GroupControl: env.GroupControl, MessageControl: env.MessageControl,
			Test: env.Test, File: file,
		},
	}
	mp := x12Mapper{o: o, mark: m.DecimalMark, party: -1, line: -1}
	lines, parties := 0, 0
	for i := range m.Segments {
		switch m.Segments[i].Tag {
		case "PO1":
			lines++
		case "N1":
			parties++
		}
	}
	o.Lines = make([]order.Line, 0, lines)
	// One allocation for the amounts of the order: unit prices and line
	// amounts, then the totals.
	mp.decimals = make([]decimal.Decimal, 0, 2*lines+2)
	if parties > 0 {
		o.Parties = make([]order.Party, 0, parties)
	}
	buf := provBuffers.Get().(*provBuffer)
	defer provBuffers.Put(buf)
	mp.prov, mp.spans = buf.b[:0], buf.spans[:0]
	defer func() { buf.b, buf.spans = mp.prov, mp.spans }()
	if mp.mark == 0 {
		mp.mark = '.'
	}
	for i := range m.Segments {
		if err := mp.segment(&m.Segments[i]); err != nil {
			return nil, err
		}
	}
	if mp.deliveryQual == "" && mp.shipQual != "" {
		o.RequestedDelivery = mp.ship.date
		mp.at(topRequestedDelivery, mp.ship.seg, mp.ship.n)
	}
	for i := range o.Lines {
		if ld, ok := mp.lineShip[i]; ok && o.Lines[i].RequestedDelivery.IsZero() {
			o.Lines[i].RequestedDelivery = ld.date
			mp.atLine(i, lineRequestedDelivery, ld.seg, ld.n)
		}
	}
	mp.flush()
	return o, nil
}

// provBuffer is the reusable scratch of a mapping's provenance.
type provBuffer struct {
	b     []byte
	spans [][3]int32
}

var provBuffers = sync.Pool{New: func() any { return &provBuffer{b: make([]byte, 0, 4<<10), spans: make([][3]int32, 0, 256)} }}

// x12EnvProvenance is the provenance of the envelope fields, the same
// for every order.
var x12EnvProvenance = order.Provenance{{Path: "source.version", Where: "GS08"}, {Path: "source.sender_id", Where: "ISA06"},
	{Path: "source.sender_qualifier", Where: "ISA05"}, {Path: "source.receiver_id", Where: "ISA08"},
	{Path: "source.receiver_qualifier", Where: "ISA07"}, {Path: "source.interchange_control", Where: "ISA13"},
	{Path: "source.group_control", Where: "GS06"}, {Path: "source.test", Where: "ISA15"}}

// x12Top names the order-level fields with provenance.
type x12Top int

const (
	topMessageControl x12Top = iota
	topPurpose
	topOrderType
	topPONumber
	topPODate
	topCurrency
	topRequestedDelivery
	topTotalsAmount
	topTotalsLineCount
	topTotalsQuantityHash
)

var x12TopPaths = [...]string{topMessageControl: "source.message_control", topPurpose: "purpose", topOrderType: "order_type",
	topPONumber: "po_number", topPODate: "po_date", topCurrency: "currency", topRequestedDelivery: "requested_delivery",
	topTotalsAmount: "totals.amount", topTotalsLineCount: "totals.line_count", topTotalsQuantityHash: "totals.quantity_hash"}

// datedProv is a date and where it was read, for dates whose use is
// decided at the end (DTM 010 where no 002 came).
type datedProv struct {
	date order.Date
	seg  *edi.Segment
	n    int
}

type x12Mapper struct {
	o            *order.Order
	mark         byte
	party        int // index of the party of the open N1 loop, -1 outside
	line         int // index of the open PO1 loop, -1 in the header
	summary      bool
	deliveryQual string
	shipQual     string
	ship         datedProv
	lineShip     map[int]datedProv
	// Provenance: the places ("segment 4 BEG03") and the paths that are
	// not shared ("lines[2].notes[0]") are written into one buffer and
	// turned into one string at the end. Each span is a path (its start
	// in prov, ending where the place starts, or -1-k for the shared
	// path k: x12TopPaths, then internedPaths) and the place's start and
	// end in prov.
	prov  []byte
	spans [][3]int32
	// decimals is the backing of the order's amounts (newDecimal).
	decimals []decimal.Decimal
	// The last "segment N TAG" (of segAt, kept as words in pre) and
	// where in prov the last "outer[i]" key prefix was written, to store
	// or copy instead of formatting.
	segAt          *edi.Segment
	pre            [4]uint64 // "segment N TAG" of segAt, preLen bytes (0: not kept)
	preLen         int
	keyOuter       string
	keyI           int
	keyFrom, keyTo int
	indexes        indexText
}

// value appends "segment N TAGnn" (or "segment N TAG" for n = 0) and
// records the span with the path path. The "segment N TAG" part is
// formatted once per segment and kept in four words (pre), which are
// stored for its other elements instead of a copy.
func (mp *x12Mapper) value(path int, s *edi.Segment, n int) {
	b := mp.prov
	if cap(b)-len(b) < 64 {
		b = slices.Grow(b, 64)
	}
	start := len(b)
	if s == mp.segAt && mp.preLen > 0 {
		w := b[start : start+32]
		binary.LittleEndian.PutUint64(w, mp.pre[0])
		binary.LittleEndian.PutUint64(w[8:], mp.pre[1])
		binary.LittleEndian.PutUint64(w[16:], mp.pre[2])
		binary.LittleEndian.PutUint64(w[24:], mp.pre[3])
		b = b[:start+mp.preLen]
	} else {
		b = append(b, "segment "...)
		b = mp.indexes.append(b, s.Pos.Index)
		b = append(b, ' ')
		b = append(b, s.Tag...)
		mp.segAt, mp.preLen = s, 0
		if l := len(b) - start; l <= 32 {
			if cap(b)-start < 32 {
				b = slices.Grow(b, 32)
			}
			w := b[start : start+32]
			mp.pre = [4]uint64{binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:]),
				binary.LittleEndian.Uint64(w[16:]), binary.LittleEndian.Uint64(w[24:])}
			mp.preLen = l
		}
	}
	if n > 0 {
		if n < 100 {
			b = append(b, byte('0'+n/10), byte('0'+n%10))
		} else {
			b = strconv.AppendInt(b, int64(n), 10)
		}
	}
	// Store the slices back without a pointer write (and its GC write
	// barrier) unless append moved them.
	if cap(b) == cap(mp.prov) {
		mp.prov = mp.prov[:len(b)]
	} else {
		mp.prov = b
	}
	if len(mp.spans) < cap(mp.spans) {
		mp.spans = mp.spans[:len(mp.spans)+1]
		mp.spans[len(mp.spans)-1] = [3]int32{int32(path), int32(start), int32(len(b))}
	} else {
		mp.spans = append(mp.spans, [3]int32{int32(path), int32(start), int32(len(b))})
	}
}

// newDecimal returns a pointer to a copy of d, in mp.decimals while it
// has room.
func (mp *x12Mapper) newDecimal(d decimal.Decimal) *decimal.Decimal {
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

// at records where the order-level field f was read.
func (mp *x12Mapper) at(f x12Top, s *edi.Segment, n int) {
	mp.value(-1-int(f), s, n)
}

func (mp *x12Mapper) index(prefix string, i int) {
	mp.prov = append(mp.prov, prefix...)
	mp.prov = append(mp.prov, '[')
	mp.prov = strconv.AppendInt(mp.prov, int64(i), 10)
	mp.prov = append(mp.prov, ']')
}

// atIdx records "prefix[i]".
func (mp *x12Mapper) atIdx(prefix string, i int, s *edi.Segment, n int) {
	start := len(mp.prov)
	mp.index(prefix, i)
	mp.value(start, s, n)
}

func (mp *x12Mapper) atNested(outer string, i int, field string, j int, s *edi.Segment, n int) {
	start := len(mp.prov)
	// "outer[i]" is formatted once per line or party and copied after.
	if outer == mp.keyOuter && i == mp.keyI && mp.keyTo > mp.keyFrom {
		mp.prov = append(mp.prov, mp.prov[mp.keyFrom:mp.keyTo]...)
	} else {
		mp.index(outer, i)
		mp.keyOuter, mp.keyI, mp.keyFrom, mp.keyTo = outer, i, start, len(mp.prov)
	}
	mp.prov = append(mp.prov, '.')
	if j < 0 {
		mp.prov = append(mp.prov, field...)
	} else {
		mp.index(field, j)
	}
	mp.value(start, s, n)
}

// atLine records where field f of line i was read; the paths of the
// first lines are shared (internedPaths).
func (mp *x12Mapper) atLine(i int, f lineField, s *edi.Segment, n int) {
	if i < internedLines {
		mp.value(-1-len(x12TopPaths)-(i*len(lineFields)+int(f)), s, n)
		return
	}
	mp.atNested("lines", i, lineFields[f], -1, s, n)
}

func (mp *x12Mapper) atLineIdx(i int, field string, j int, s *edi.Segment, n int) {
	mp.atNested("lines", i, field, j, s, n)
}

// atParty records where field f of party i was read; the paths of the
// first parties are shared (internedPaths).
func (mp *x12Mapper) atParty(i int, f partyField, s *edi.Segment, n int) {
	if i < internedParties {
		mp.value(-1-len(x12TopPaths)-(internedLines*len(lineFields)+i*len(partyFields)+int(f)), s, n)
		return
	}
	mp.atNested("parties", i, partyFields[f], -1, s, n)
}

func (mp *x12Mapper) atPartyIdx(i int, field string, j int, s *edi.Segment, n int) {
	mp.atNested("parties", i, field, j, s, n)
}

// flush builds the order's provenance, the envelope's first; later
// entries for a path win.
func (mp *x12Mapper) flush() {
	all := string(mp.prov)
	shared := internedPaths()
	p := make(order.Provenance, len(x12EnvProvenance), len(x12EnvProvenance)+len(mp.spans))
	copy(p, x12EnvProvenance)
	for _, sp := range mp.spans {
		var path string
		switch k := -1 - int(sp[0]); {
		case k < 0:
			path = all[sp[0]:sp[1]]
		case k < len(x12TopPaths):
			path = x12TopPaths[k]
		default:
			path = shared[k-len(x12TopPaths)]
		}
		p = append(p, order.ProvenanceEntry{Path: path, Where: all[sp[1]:sp[2]]})
	}
	mp.o.Provenance = p
}

func mappingErr(s *edi.Segment, n int, err error) error {
	return &MappingError{Pos: s.Pos, Tag: s.Tag, Element: n, Err: err}
}

func (mp *x12Mapper) date(s *edi.Segment, n int) (order.Date, error) {
	v := s.Value(n)
	d, err := order.ParseCompactDate(v, x12DatePivot)
	if err != nil {
		return order.Date{}, mappingErr(s, n, err)
	}
	return d, nil
}

func (mp *x12Mapper) decimal(s *edi.Segment, n int, what string) (decimal.Decimal, error) {
	d, err := parseDecimal(s.Value(n), mp.mark)
	if err != nil {
		return decimal.Decimal{}, mappingErr(s, n, fmt.Errorf("%s %w", what, err))
	}
	return d, nil
}

func (mp *x12Mapper) note(s *edi.Segment, n int) {
	v := trimSpace(s.Value(n))
	if v == "" {
		return
	}
	o := mp.o
	if mp.line >= 0 && !mp.summary {
		l := &o.Lines[mp.line]
		mp.atLineIdx(mp.line, "notes", len(l.Notes), s, n)
		l.Notes = append(l.Notes, v)
		return
	}
	mp.atIdx("notes", len(o.Notes), s, n)
	o.Notes = append(o.Notes, v)
}

func (mp *x12Mapper) segment(s *edi.Segment) error {
	o := mp.o
	if mp.party >= 0 && s.Tag != "N1" && !inN1Loop(s.Tag) {
		mp.party = -1
	}
	switch s.Tag {
	case "ST":
		mp.at(topMessageControl, s, 2)
	case "BEG":
		code := s.Value(1)
		if p, ok := x12Purposes[code]; ok {
			o.Purpose = p
		} else {
			o.Purpose = order.Purpose(code)
		}
		mp.at(topPurpose, s, 1)
		if v := s.Value(2); v != "" {
			o.OrderType = v
			mp.at(topOrderType, s, 2)
		}
		o.PONumber = s.Value(3)
		mp.at(topPONumber, s, 3)
		if s.Value(5) != "" {
			d, err := mp.date(s, 5)
			if err != nil {
				return err
			}
			o.PODate = d
			mp.at(topPODate, s, 5)
		}
	case "CUR":
		if mp.line < 0 && s.Value(2) != "" {
			o.Currency = s.Value(2)
			mp.at(topCurrency, s, 2)
		}
	case "REF":
		if mp.line >= 0 || mp.party >= 0 {
			return nil
		}
		n := 2
		if s.Value(2) == "" {
			n = 3
		}
		if v := s.Value(n); v != "" {
			mp.atIdx("references", len(o.References), s, n)
			o.References = append(o.References, order.Reference{Qualifier: s.Value(1), Value: v})
		}
	case "DTM":
		return mp.dtm(s)
	case "MSG":
		mp.note(s, 1)
	case "NTE":
		mp.note(s, 2)
	case "N1":
		if mp.line >= 0 {
			return nil // line-level parties are not mapped
		}
		mp.n1(s)
	case "N2", "N3", "N4":
		if mp.party >= 0 {
			mp.address(s)
		}
	case "PO1":
		return mp.po1(s)
	case "PID":
		if mp.line < 0 || mp.summary {
			return nil
		}
		v := trimSpace(s.Value(5))
		if v == "" {
			return nil
		}
		l := &o.Lines[mp.line]
		if l.Description == "" {
			l.Description = v
			mp.atLine(mp.line, lineDescription, s, 5)
		} else {
			mp.note(s, 5)
		}
	case "AMT":
		switch {
		case s.Value(1) == "TT" && (mp.line < 0 || mp.summary):
			v, err := mp.decimal(s, 2, "total amount")
			if err != nil {
				return err
			}
			mp.totals().Amount = mp.newDecimal(v)
			mp.at(topTotalsAmount, s, 2)
		case s.Value(1) == "1" && mp.line >= 0 && !mp.summary:
			v, err := mp.decimal(s, 2, "line amount")
			if err != nil {
				return err
			}
			o.Lines[mp.line].Amount = mp.newDecimal(v)
			mp.atLine(mp.line, lineAmount, s, 2)
		}
	case "CTT":
		mp.summary = true
		n, err := strconv.Atoi(s.Value(1))
		if err != nil {
			return mappingErr(s, 1, fmt.Errorf("number of line items %q is not an integer", s.Value(1)))
		}
		mp.totals().LineCount = &n
		mp.at(topTotalsLineCount, s, 1)
		if s.Value(2) != "" {
			v, err := mp.decimal(s, 2, "hash total")
			if err != nil {
				return err
			}
			mp.totals().QuantityHash = mp.newDecimal(v)
			mp.at(topTotalsQuantityHash, s, 2)
		}
	}
	return nil
}

func (mp *x12Mapper) totals() *order.Totals {
	if mp.o.Totals == nil {
		mp.o.Totals = &order.Totals{}
	}
	return mp.o.Totals
}

func (mp *x12Mapper) dtm(s *edi.Segment) error {
	q := s.Value(1)
	if q != "002" && q != "010" || s.Value(2) == "" {
		return nil
	}
	d, err := mp.date(s, 2)
	if err != nil {
		return err
	}
	o := mp.o
	if mp.line >= 0 && !mp.summary {
		if q == "002" {
			o.Lines[mp.line].RequestedDelivery = d
			mp.atLine(mp.line, lineRequestedDelivery, s, 2)
		} else {
			if mp.lineShip == nil {
				mp.lineShip = map[int]datedProv{}
			}
			if _, seen := mp.lineShip[mp.line]; !seen {
				mp.lineShip[mp.line] = datedProv{d, s, 2}
			}
		}
		return nil
	}
	switch {
	case q == "002" && mp.deliveryQual == "":
		mp.deliveryQual = q
		o.RequestedDelivery = d
		mp.at(topRequestedDelivery, s, 2)
	case q == "010" && mp.shipQual == "":
		mp.shipQual, mp.ship = q, datedProv{d, s, 2}
	}
	return nil
}

func (mp *x12Mapper) n1(s *edi.Segment) {
	o := mp.o
	i := len(o.Parties)
	p := order.Party{Role: s.Value(1)}
	if r, ok := x12Roles[p.Role]; ok {
		p.Role = r
	}
	mp.atParty(i, partyRole, s, 1)
	if v := trimSpace(s.Value(2)); v != "" {
		p.Name = v
		mp.atParty(i, partyName, s, 2)
	}
	if v := trimSpace(s.Value(4)); v != "" {
		p.ID = v
		mp.atParty(i, partyID, s, 4)
		if q := s.Value(3); q != "" {
			p.IDScheme = q
			if sc, ok := x12Schemes[q]; ok {
				p.IDScheme = sc
			}
			mp.atParty(i, partyIDScheme, s, 3)
		}
	}
	o.Parties = append(o.Parties, p)
	mp.party = i
}

func (mp *x12Mapper) address(s *edi.Segment) {
	o := mp.o
	i := mp.party
	p := &o.Parties[i]
	if s.Tag == "N2" {
		for n := 1; n <= 2; n++ {
			if v := trimSpace(s.Value(n)); v != "" {
				if p.Name != "" {
					p.Name += " "
				}
				p.Name += v
				mp.atParty(i, partyName, s, n)
			}
		}
		return
	}
	if p.Address == nil {
		p.Address = &order.Address{}
	}
	a := p.Address
	if s.Tag == "N3" {
		for n := 1; n <= 2; n++ {
			if v := trimSpace(s.Value(n)); v != "" {
				mp.atPartyIdx(i, "address.lines", len(a.Lines), s, n)
				a.Lines = append(a.Lines, v)
			}
		}
		return
	}
	for n, f := range []*string{&a.City, &a.Region, &a.PostalCode, &a.Country} {
		if v := trimSpace(s.Value(n + 1)); v != "" {
			*f = v
			mp.atParty(i, [...]partyField{partyAddressCity, partyAddressRegion, partyAddressPostalCode, partyAddressCountry}[n], s, n+1)
		}
	}
}

func (mp *x12Mapper) po1(s *edi.Segment) error {
	o := mp.o
	i := len(o.Lines)
	l := order.Line{LineNo: trimSpace(s.Value(1))}
	if l.LineNo != "" {
		mp.atLine(i, lineNo, s, 1)
	} else {
		l.LineNo = strconv.Itoa(i + 1)
		mp.atLine(i, lineNo, s, 0)
	}
	if s.Value(2) != "" {
		q, err := mp.decimal(s, 2, "quantity")
		if err != nil {
			return err
		}
		l.Quantity = q
		mp.atLine(i, lineQuantity, s, 2)
	}
	if v := s.Value(3); v != "" {
		l.Unit = v
		mp.atLine(i, lineUnit, s, 3)
	}
	if s.Value(4) != "" {
		p, err := mp.decimal(s, 4, "unit price")
		if err != nil {
			return err
		}
		l.UnitPrice = mp.newDecimal(p)
		mp.atLine(i, lineUnitPrice, s, 4)
	}
	if v := s.Value(5); v != "" {
		l.PriceBasis = v
		mp.atLine(i, linePriceBasis, s, 5)
	}
	var sku string
	skuAt := 0
	for n := 6; n+1 <= s.Len(); n += 2 {
		q, id := s.Value(n), trimSpace(s.Value(n+1))
		if id == "" {
			continue
		}
		var field *string
		var name lineField
		switch q {
		case "BP", "IN", "CB", "PI":
			field, name = &l.BuyerPart, lineBuyerPart
		case "VP", "VN", "VA", "VC":
			field, name = &l.SupplierPart, lineSupplierPart
		case "UP", "EN", "UK":
			field, name = &l.GTIN, lineGTIN
		case "MG":
			field, name = &l.ManufacturerPart, lineManufacturerPart
		case "SK":
			if sku == "" {
				sku, skuAt = id, n+1
				continue
			}
		}
		if field != nil && *field == "" {
			*field = id
			mp.atLine(i, name, s, n+1)
			continue
		}
		// An id pair the model has no field for is a reference of the
		// line, not a note: notes are free text for the sales rep.
		mp.atLineIdx(i, "references", len(l.References), s, n+1)
		l.References = append(l.References, order.Reference{Qualifier: q, Value: id})
	}
	if sku != "" {
		if l.BuyerPart == "" {
			l.BuyerPart = sku
			mp.atLine(i, lineBuyerPart, s, skuAt)
		} else {
			mp.atLineIdx(i, "references", len(l.References), s, skuAt)
			l.References = append(l.References, order.Reference{Qualifier: "SK", Value: sku})
		}
	}
	o.Lines = append(o.Lines, l)
	mp.line = i
	mp.party = -1
	return nil
}
