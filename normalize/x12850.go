package normalize

import (
	"fmt"
	"strconv"
	"strings"
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

// x12N1Loop are the segments of the 850 header N1 loop after N1.
var x12N1Loop = map[string]bool{"N2": true, "N3": true, "N4": true, "NX2": true, "REF": true, "PER": true, "SI": true,
	"FOB": true, "TD1": true, "TD5": true, "TD3": true, "TD4": true, "PKG": true}

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
// when no BP/IN came, else a line note like any other pair ("SK 123");
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
		Lines: []order.Line{},
	}
	mp := x12Mapper{o: o, mark: m.DecimalMark, party: -1, line: -1}
	if mp.mark == 0 {
		mp.mark = '.'
	}
	for _, f := range [][2]string{{"source.version", "GS08"}, {"source.sender_id", "ISA06"}, {"source.sender_qualifier", "ISA05"},
		{"source.receiver_id", "ISA08"}, {"source.receiver_qualifier", "ISA07"}, {"source.interchange_control", "ISA13"},
		{"source.group_control", "GS06"}, {"source.test", "ISA15"}} {
		o.SetProvenance(f[0], f[1])
	}
	for i := range m.Segments {
		if err := mp.segment(&m.Segments[i]); err != nil {
			return nil, err
		}
	}
	if mp.deliveryQual == "" && mp.shipQual != "" {
		o.RequestedDelivery = mp.shipDate
		o.SetProvenance("requested_delivery", mp.shipProv)
	}
	for i := range o.Lines {
		if ld := mp.lineShip[i]; o.Lines[i].RequestedDelivery.IsZero() && !ld.date.IsZero() {
			o.Lines[i].RequestedDelivery = ld.date
			o.SetProvenance(order.LinePath(i, "requested_delivery"), ld.prov)
		}
	}
	return o, nil
}

type datedProv struct {
	date order.Date
	prov string
}

type x12Mapper struct {
	o            *order.Order
	mark         byte
	party        int // index of the party of the open N1 loop, -1 outside
	line         int // index of the open PO1 loop, -1 in the header
	summary      bool
	deliveryQual string
	shipQual     string
	shipDate     order.Date
	shipProv     string
	lineShip     map[int]datedProv
	description  map[int]bool
}

func where(s *edi.Segment, n int) string { return s.Pos.String() + " " + s.Ref(n) }

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
	d, err := ParseDecimal(s.Value(n), mp.mark)
	if err != nil {
		return decimal.Decimal{}, mappingErr(s, n, fmt.Errorf("%s %w", what, err))
	}
	return d, nil
}

func (mp *x12Mapper) note(s *edi.Segment, n int) {
	v := strings.TrimSpace(s.Value(n))
	if v == "" {
		return
	}
	o := mp.o
	if mp.line >= 0 && !mp.summary {
		l := &o.Lines[mp.line]
		o.SetProvenance(order.LinePath(mp.line, fmt.Sprintf("notes[%d]", len(l.Notes))), where(s, n))
		l.Notes = append(l.Notes, v)
		return
	}
	o.SetProvenance(fmt.Sprintf("notes[%d]", len(o.Notes)), where(s, n))
	o.Notes = append(o.Notes, v)
}

func (mp *x12Mapper) segment(s *edi.Segment) error {
	o := mp.o
	if mp.party >= 0 && s.Tag != "N1" && !x12N1Loop[s.Tag] {
		mp.party = -1
	}
	switch s.Tag {
	case "ST":
		o.SetProvenance("source.message_control", where(s, 2))
	case "BEG":
		code := s.Value(1)
		if p, ok := x12Purposes[code]; ok {
			o.Purpose = p
		} else {
			o.Purpose = order.Purpose(code)
		}
		o.SetProvenance("purpose", where(s, 1))
		if v := s.Value(2); v != "" {
			o.OrderType = v
			o.SetProvenance("order_type", where(s, 2))
		}
		o.PONumber = s.Value(3)
		o.SetProvenance("po_number", where(s, 3))
		if s.Value(5) != "" {
			d, err := mp.date(s, 5)
			if err != nil {
				return err
			}
			o.PODate = d
			o.SetProvenance("po_date", where(s, 5))
		}
	case "CUR":
		if mp.line < 0 && s.Value(2) != "" {
			o.Currency = s.Value(2)
			o.SetProvenance("currency", where(s, 2))
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
			o.SetProvenance(fmt.Sprintf("references[%d]", len(o.References)), where(s, n))
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
		v := strings.TrimSpace(s.Value(5))
		if v == "" {
			return nil
		}
		l := &o.Lines[mp.line]
		if mp.description == nil {
			mp.description = map[int]bool{}
		}
		if !mp.description[mp.line] {
			mp.description[mp.line] = true
			l.Description = v
			o.SetProvenance(order.LinePath(mp.line, "description"), where(s, 5))
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
			mp.totals().Amount = &v
			o.SetProvenance("totals.amount", where(s, 2))
		case s.Value(1) == "1" && mp.line >= 0 && !mp.summary:
			v, err := mp.decimal(s, 2, "line amount")
			if err != nil {
				return err
			}
			o.Lines[mp.line].Amount = &v
			o.SetProvenance(order.LinePath(mp.line, "amount"), where(s, 2))
		}
	case "CTT":
		mp.summary = true
		n, err := strconv.Atoi(s.Value(1))
		if err != nil {
			return mappingErr(s, 1, fmt.Errorf("number of line items %q is not an integer", s.Value(1)))
		}
		mp.totals().LineCount = &n
		o.SetProvenance("totals.line_count", where(s, 1))
		if s.Value(2) != "" {
			v, err := mp.decimal(s, 2, "hash total")
			if err != nil {
				return err
			}
			mp.totals().QuantityHash = &v
			o.SetProvenance("totals.quantity_hash", where(s, 2))
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
			o.SetProvenance(order.LinePath(mp.line, "requested_delivery"), where(s, 2))
		} else {
			if mp.lineShip == nil {
				mp.lineShip = map[int]datedProv{}
			}
			if _, seen := mp.lineShip[mp.line]; !seen {
				mp.lineShip[mp.line] = datedProv{d, where(s, 2)}
			}
		}
		return nil
	}
	switch {
	case q == "002" && mp.deliveryQual == "":
		mp.deliveryQual = q
		o.RequestedDelivery = d
		o.SetProvenance("requested_delivery", where(s, 2))
	case q == "010" && mp.shipQual == "":
		mp.shipQual, mp.shipDate, mp.shipProv = q, d, where(s, 2)
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
	o.SetProvenance(order.PartyPath(i, "role"), where(s, 1))
	if v := strings.TrimSpace(s.Value(2)); v != "" {
		p.Name = v
		o.SetProvenance(order.PartyPath(i, "name"), where(s, 2))
	}
	if v := strings.TrimSpace(s.Value(4)); v != "" {
		p.ID = v
		o.SetProvenance(order.PartyPath(i, "id"), where(s, 4))
		if q := s.Value(3); q != "" {
			p.IDScheme = q
			if sc, ok := x12Schemes[q]; ok {
				p.IDScheme = sc
			}
			o.SetProvenance(order.PartyPath(i, "id_scheme"), where(s, 3))
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
			if v := strings.TrimSpace(s.Value(n)); v != "" {
				if p.Name != "" {
					p.Name += " "
				}
				p.Name += v
				o.SetProvenance(order.PartyPath(i, "name"), where(s, n))
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
			if v := strings.TrimSpace(s.Value(n)); v != "" {
				o.SetProvenance(order.PartyPath(i, fmt.Sprintf("address.lines[%d]", len(a.Lines))), where(s, n))
				a.Lines = append(a.Lines, v)
			}
		}
		return
	}
	for n, f := range []*string{&a.City, &a.Region, &a.PostalCode, &a.Country} {
		if v := strings.TrimSpace(s.Value(n + 1)); v != "" {
			*f = v
			o.SetProvenance(order.PartyPath(i, "address."+[]string{"city", "region", "postal_code", "country"}[n]), where(s, n+1))
		}
	}
}

func (mp *x12Mapper) po1(s *edi.Segment) error {
	o := mp.o
	i := len(o.Lines)
	l := order.Line{LineNo: strings.TrimSpace(s.Value(1))}
	if l.LineNo != "" {
		o.SetProvenance(order.LinePath(i, "line_no"), where(s, 1))
	} else {
		l.LineNo = strconv.Itoa(i + 1)
		o.SetProvenance(order.LinePath(i, "line_no"), s.Pos.String()+" PO1")
	}
	if s.Value(2) != "" {
		q, err := mp.decimal(s, 2, "quantity")
		if err != nil {
			return err
		}
		l.Quantity = q
		o.SetProvenance(order.LinePath(i, "quantity"), where(s, 2))
	}
	if v := s.Value(3); v != "" {
		l.Unit = v
		o.SetProvenance(order.LinePath(i, "unit"), where(s, 3))
	}
	if s.Value(4) != "" {
		p, err := mp.decimal(s, 4, "unit price")
		if err != nil {
			return err
		}
		l.UnitPrice = &p
		o.SetProvenance(order.LinePath(i, "unit_price"), where(s, 4))
	}
	if v := s.Value(5); v != "" {
		l.PriceBasis = v
		o.SetProvenance(order.LinePath(i, "price_basis"), where(s, 5))
	}
	var sku, skuProv string
	for n := 6; n+1 <= s.Len(); n += 2 {
		q, id := s.Value(n), strings.TrimSpace(s.Value(n+1))
		if id == "" {
			continue
		}
		var field *string
		var name string
		switch q {
		case "BP", "IN", "CB", "PI":
			field, name = &l.BuyerPart, "buyer_part"
		case "VP", "VN", "VA", "VC":
			field, name = &l.SupplierPart, "supplier_part"
		case "UP", "EN", "UK":
			field, name = &l.GTIN, "gtin"
		case "MG":
			field, name = &l.ManufacturerPart, "manufacturer_part"
		case "SK":
			if sku == "" {
				sku, skuProv = id, where(s, n+1)
				continue
			}
		}
		if field != nil && *field == "" {
			*field = id
			o.SetProvenance(order.LinePath(i, name), where(s, n+1))
			continue
		}
		o.SetProvenance(order.LinePath(i, fmt.Sprintf("notes[%d]", len(l.Notes))), where(s, n+1))
		l.Notes = append(l.Notes, q+" "+id)
	}
	if sku != "" {
		if l.BuyerPart == "" {
			l.BuyerPart = sku
			o.SetProvenance(order.LinePath(i, "buyer_part"), skuProv)
		} else {
			o.SetProvenance(order.LinePath(i, fmt.Sprintf("notes[%d]", len(l.Notes))), skuProv)
			l.Notes = append(l.Notes, "SK "+sku)
		}
	}
	o.Lines = append(o.Lines, l)
	mp.line = i
	mp.party = -1
	return nil
}
