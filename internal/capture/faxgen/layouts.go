package faxgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

type fontID int

const (
	fSans fontID = iota
	fSansBold
	fMono
	fSerif
	fHand
)

type align int

const (
	left align = iota
	right
)

// canvas is what a layout draws on, in millimetres from the top left of
// the page; y is the text baseline.
type canvas interface {
	text(x, y float64, s string, f fontID, size float64, a align)
	// hand writes s as if by hand (jittered glyphs on a raster).
	hand(x, y float64, s string, size float64, a align)
	line(x1, y1, x2, y2, width float64)
	rect(x, y, w, h, width float64)
}

// layout is one sender's order form.
type layout struct {
	name     string
	customer string
	english  bool
	byGTIN   bool
	byPart   bool
	delivery bool
	maxLines int
	poNumber func(*rand.Rand) string
	draw     func(c canvas, t *Truth)
}

var layouts = []*layout{
	{name: "de-classic", customer: "C-1001", delivery: true, maxLines: 6,
		poNumber: func(r *rand.Rand) string { return fmt.Sprintf("45000%05d", r.IntN(100000)) }, draw: drawClassic},
	{name: "en-boxed", customer: "C-2000", english: true, maxLines: 5,
		poNumber: func(r *rand.Rand) string { return fmt.Sprintf("PO-2026-%04d", r.IntN(10000)) }, draw: drawBoxed},
	{name: "de-serif-parts", customer: "C-3000", byPart: true, maxLines: 6,
		poNumber: func(r *rand.Rand) string { return fmt.Sprintf("B26-%05d", r.IntN(100000)) }, draw: drawSerif},
	{name: "de-mono", customer: "C-1001", maxLines: 7,
		poNumber: func(r *rand.Rand) string { return fmt.Sprintf("%08d", 10000000+r.IntN(90000000)) }, draw: drawMono},
	{name: "en-gtin", customer: "C-2000", english: true, byGTIN: true, maxLines: 5,
		poNumber: func(r *rand.Rand) string { return fmt.Sprintf("NL%06d", r.IntN(1000000)) }, draw: drawGTIN},
	{name: "de-handwritten", customer: "C-1001", maxLines: 4,
		poNumber: func(r *rand.Rand) string { return fmt.Sprintf("%d", 1000+r.IntN(9000)) }, draw: drawHandwritten},
}

// Layouts returns the names of the sender layouts.
func Layouts() []string {
	out := make([]string, len(layouts))
	for i, l := range layouts {
		out[i] = l.name
	}
	return out
}

func layoutByName(name string) (*layout, error) {
	for _, l := range layouts {
		if l.name == name {
			return l, nil
		}
	}
	return nil, fmt.Errorf("faxgen: no layout %q", name)
}

func deDate(s string) string  { return mustDate(s).Format("02.01.2006") }
func deDate2(s string) string { return mustDate(s).Format("02.01.06") }

func letterhead(c canvas, t *Truth, f fontID) {
	cu := customers[t.CustomerID]
	c.text(20, 22, cu.name, fSansBold, 15, left)
	c.text(20, 29, cu.street+" · "+cu.city, f, 9, left)
	c.text(20, 34, "Tel. "+cu.phone+" · "+cu.email, f, 9, left)
	c.text(120, 50, "ToolSupply GmbH", f, 10, left)
	c.text(120, 55, "Vertrieb / Sales", f, 10, left)
	c.text(120, 60, "Hafenstrasse 1, 20095 Hamburg", f, 10, left)
}

type col struct {
	x     float64
	title string
	a     align
	get   func(i int, l TruthLine) string
}

func table(c canvas, y float64, cols []col, lines []TruthLine, f fontID, size, rowH float64, rule bool) float64 {
	for _, k := range cols {
		c.text(k.x, y, k.title, f, size, k.a)
	}
	if rule {
		c.line(18, y+2, 197, y+2, 0.3)
	}
	y += rowH + 1
	for i, l := range lines {
		for _, k := range cols {
			c.text(k.x, y, k.get(i, l), f, size, k.a)
		}
		y += rowH
	}
	if rule {
		c.line(18, y-rowH+2.5, 197, y-rowH+2.5, 0.3)
	}
	return y
}

func drawClassic(c canvas, t *Truth) {
	letterhead(c, t, fSans)
	c.text(20, 75, "BESTELLUNG", fSansBold, 16, left)
	c.text(20, 88, "Bestellnummer:", fSans, 10, left)
	c.text(55, 88, t.PONumber, fSans, 10, left)
	c.text(20, 94, "Datum:", fSans, 10, left)
	c.text(55, 94, deDate(t.PODate), fSans, 10, left)
	c.text(20, 100, "Kunden-Nr.:", fSans, 10, left)
	c.text(55, 100, t.CustomerID, fSans, 10, left)
	c.text(120, 88, "Liefertermin:", fSans, 10, left)
	c.text(148, 88, deDate(t.Delivery), fSans, 10, left)
	c.text(20, 112, "Sehr geehrte Damen und Herren, bitte liefern Sie uns:", fSans, 10, left)
	cols := []col{
		{20, "Pos", left, nil},
		{31, "Art.-Nr.", left, func(i int, l TruthLine) string { return l.Printed }},
		{58, "Bezeichnung", left, func(i int, l TruthLine) string { return l.Desc }},
		{131, "Menge", right, func(i int, l TruthLine) string { return fmtNum(l.qty, true, 0) }},
		{135, "Einheit", left, func(i int, l TruthLine) string { return deUnit(l.Unit) }},
		{172, "Einzelpreis", right, func(i int, l TruthLine) string { return fmtNum(l.price, true, 2) }},
		{196, "Gesamt", right, func(i int, l TruthLine) string { return fmtAmount(i, l, true) }},
	}
	lines := t.Lines
	cols[0].get = func(i int, _ TruthLine) string { return fmt.Sprint(i + 1) }
	y := table(c, 124, cols, lines, fSans, 10, 7, true)
	c.text(120, y+4, "Gesamtsumme netto EUR", fSansBold, 10, left)
	c.text(196, y+4, fmtTotal(t, true), fSansBold, 10, right)
	c.text(20, y+20, "Mit freundlichen Gruessen", fSans, 10, left)
	c.text(20, y+26, "Einkauf", fSans, 10, left)
}

func fmtAmount(_ int, l TruthLine, de bool) string {
	a, _ := l.qty.Mul(l.price)
	return fmtNum(a, de, 2)
}

func fmtTotal(t *Truth, de bool) string {
	sum := decimalZero()
	for _, l := range t.Lines {
		a, _ := l.qty.Mul(l.price)
		sum, _ = sum.Add(a)
	}
	return fmtNum(sum, de, 2)
}

func deUnit(u string) string {
	switch u {
	case "EA":
		return "Stk"
	case "M":
		return "m"
	}
	return u
}

func enUnit(u string) string {
	switch u {
	case "EA":
		return "pcs"
	case "M":
		return "m"
	}
	return u
}

func drawBoxed(c canvas, t *Truth) {
	letterhead(c, t, fSans)
	c.text(20, 75, "PURCHASE ORDER", fSansBold, 16, left)
	bx := []struct{ label, value string }{{"PO No.", t.PONumber}, {"Date", mustDate(t.PODate).Format("January 2, 2006")}, {"Customer No.", t.CustomerID}}
	for i, b := range bx {
		x := 20 + float64(i)*58
		c.rect(x, 82, 55, 16, 0.4)
		c.text(x+3, 87, b.label, fSans, 8, left)
		c.text(x+3, 95, b.value, fSansBold, 11, left)
	}
	c.text(20, 110, "Please supply the following items:", fSans, 10, left)
	cols := []col{
		{22, "Item", left, func(i int, l TruthLine) string { return l.Printed }},
		{50, "Description", left, func(i int, l TruthLine) string { return l.Desc }},
		{128, "Qty", right, func(i int, l TruthLine) string { return fmtNum(l.qty, false, 0) }},
		{132, "UOM", left, func(i int, l TruthLine) string { return enUnit(l.Unit) }},
		{168, "Unit Price", right, func(i int, l TruthLine) string { return fmtNum(l.price, false, 2) }},
		{195, "Amount", right, func(i int, l TruthLine) string { return fmtAmount(i, l, false) }},
	}
	top := 116.0
	y := table(c, top+6, cols, t.Lines, fSans, 10, 8, false)
	// The grid.
	c.rect(18, top, 179, y-top-4, 0.4)
	c.line(18, top+8.5, 197, top+8.5, 0.4)
	for _, x := range []float64{47, 112, 130, 145, 171} {
		c.line(x, top, x, y-4, 0.4)
	}
	c.text(130, y+4, "Total EUR", fSansBold, 10, left)
	c.text(195, y+4, fmtTotal(t, false), fSansBold, 10, right)
	c.text(20, y+18, "Kind regards, Purchasing", fSans, 10, left)
}

func drawSerif(c canvas, t *Truth) {
	letterhead(c, t, fSerif)
	c.text(20, 76, "Bestellung", fSerif, 18, left)
	c.text(20, 88, "Bestell-Nr.: "+t.PONumber, fSerif, 11, left)
	c.text(85, 88, "Bestelldatum: "+deDate2(t.PODate), fSerif, 11, left)
	c.text(150, 88, "Ihre Kunden-Nr.:", fSerif, 11, left)
	c.text(150, 94, t.CustomerID, fSerif, 11, left)
	cols := []col{
		{20, "Pos", left, nil},
		{31, "Unsere Art.-Nr.", left, func(i int, l TruthLine) string { return l.Printed }},
		{68, "Bezeichnung", left, func(i int, l TruthLine) string { return l.Desc }},
		{138, "Menge", right, func(i int, l TruthLine) string { return fmtNum(l.qty, true, 0) }},
		{141, "ME", left, func(i int, l TruthLine) string { return deUnit(l.Unit) }},
		{172, "Preis", right, func(i int, l TruthLine) string { return fmtNum(l.price, true, 2) + " €" }},
		{196, "Betrag", right, func(i int, l TruthLine) string { return fmtAmount(i, l, true) + " €" }},
	}
	lines := t.Lines
	cols[0].get = func(i int, _ TruthLine) string { return fmt.Sprint(i+1) + "." }
	y := table(c, 108, cols, lines, fSerif, 10.5, 7.5, true)
	c.text(130, y+4, "Summe", fSerif, 11, left)
	c.text(196, y+4, fmtTotal(t, true)+" €", fSerif, 11, right)
	c.text(20, y+18, "Lieferung frei Haus. Bitte Bestell-Nr. auf dem Lieferschein angeben.", fSerif, 10, left)
}

func drawMono(c canvas, t *Truth) {
	cu := customers[t.CustomerID]
	c.text(20, 20, strings.ToUpper(cu.name), fMono, 11, left)
	c.text(20, 25, cu.street+", "+cu.city, fMono, 9, left)
	c.text(20, 30, "Telefon "+cu.phone, fMono, 9, left)
	c.text(20, 50, "An ToolSupply GmbH, Hafenstrasse 1, 20095 Hamburg", fMono, 9, left)
	c.text(20, 65, "B E S T E L L U N G", fMono, 12, left)
	c.text(20, 75, "Bestell-Nr. : "+t.PONumber, fMono, 10, left)
	c.text(20, 80, "Datum       : "+deDate(t.PODate), fMono, 10, left)
	c.text(20, 85, "Kd.-Nr.     : "+t.CustomerID, fMono, 10, left)
	dash := strings.Repeat("-", 78)
	c.text(20, 95, dash, fMono, 9, left)
	cols := []col{
		{20, "Pos", left, nil},
		{30, "Artikel", left, func(i int, l TruthLine) string { return l.Printed }},
		{55, "Bezeichnung", left, func(i int, l TruthLine) string { return l.Desc }},
		{130, "Menge", right, func(i int, l TruthLine) string { return fmtNum(l.qty, true, 0) }},
		{133, "ME", left, func(i int, l TruthLine) string { return deUnit(l.Unit) }},
		{165, "E-Preis", right, func(i int, l TruthLine) string { return fmtNum(l.price, true, 2) }},
		{193, "G-Preis", right, func(i int, l TruthLine) string { return fmtAmount(i, l, true) }},
	}
	lines := t.Lines
	cols[0].get = func(i int, _ TruthLine) string { return fmt.Sprintf("%03d", i+1) }
	y := table(c, 100, cols, lines, fMono, 9.5, 6, false)
	c.text(20, y, dash, fMono, 9, left)
	c.text(120, y+6, "Summe EUR", fMono, 10, left)
	c.text(193, y+6, fmtTotal(t, true), fMono, 10, right)
	c.text(20, y+20, "Gedruckt am "+deDate(t.PODate)+" / Seite 1 von 1", fMono, 8, left)
}

func drawGTIN(c canvas, t *Truth) {
	letterhead(c, t, fSans)
	c.text(20, 74, "ORDER", fSansBold, 16, left)
	c.text(20, 86, "Order Number:", fSans, 10, left)
	c.text(52, 86, t.PONumber, fSans, 10, left)
	c.text(20, 92, "Order Date:", fSans, 10, left)
	c.text(52, 92, mustDate(t.PODate).Format("01/02/2006"), fSans, 10, left)
	c.text(110, 86, "Account No.:", fSans, 10, left)
	c.text(140, 86, t.CustomerID, fSans, 10, left)
	cols := []col{
		{20, "EAN", left, func(i int, l TruthLine) string { return l.Printed }},
		{55, "Description", left, func(i int, l TruthLine) string { return l.Desc }},
		{130, "Qty", right, func(i int, l TruthLine) string { return fmtNum(l.qty, false, 0) }},
		{134, "Unit", left, func(i int, l TruthLine) string { return enUnit(l.Unit) }},
		{168, "Price", right, func(i int, l TruthLine) string { return fmtNum(l.price, false, 2) }},
		{195, "Total", right, func(i int, l TruthLine) string { return fmtAmount(i, l, false) }},
	}
	y := table(c, 106, cols, t.Lines, fSans, 10, 7, true)
	c.text(130, y+4, "Order Total EUR", fSansBold, 10, left)
	c.text(195, y+4, fmtTotal(t, false), fSansBold, 10, right)
}

func drawHandwritten(c canvas, t *Truth) {
	c.text(20, 20, "FAX-BESTELLFORMULAR", fSansBold, 16, left)
	c.text(20, 27, "an ToolSupply GmbH · Fax 040 555 0000", fSans, 9, left)
	c.text(20, 36, "Kunde: Baumarkt Nord GmbH, Tel. "+customers[t.CustomerID].phone, fSans, 9, left)
	fields := []struct {
		label, value string
		x, y         float64
	}{{"Bestell-Nr.:", t.PONumber, 20, 52}, {"Datum:", deDate(t.PODate), 110, 52}, {"Kunden-Nr.:", t.CustomerID, 20, 64}}
	for _, f := range fields {
		c.text(f.x, f.y, f.label, fSans, 10, left)
		c.line(f.x+24, f.y+1, f.x+80, f.y+1, 0.3)
		c.hand(f.x+27, f.y-0.5, f.value, 13, left)
	}
	top := 78.0
	heads := []struct {
		x     float64
		title string
	}{{21, "Art.-Nr."}, {52, "Bezeichnung"}, {117, "Menge"}, {136, "Einheit"}, {155, "Preis"}, {177, "Gesamt"}}
	for _, h := range heads {
		c.text(h.x, top+6, h.title, fSansBold, 10, left)
	}
	rows := 8
	rowH := 11.0
	c.rect(18, top, 179, 9+float64(rows)*rowH, 0.4)
	c.line(18, top+9, 197, top+9, 0.4)
	for i := 1; i < rows; i++ {
		c.line(18, top+9+float64(i)*rowH, 197, top+9+float64(i)*rowH, 0.2)
	}
	for _, x := range []float64{50, 115, 134, 153, 175} {
		c.line(x, top, x, top+9+float64(rows)*rowH, 0.3)
	}
	for i, l := range t.Lines {
		y := top + 9 + float64(i)*rowH + 8
		c.hand(21, y, l.Printed, 12, left)
		c.hand(52, y, l.Desc, 11, left)
		c.hand(132, y, fmtNum(l.qty, true, 0), 12, right)
		c.hand(136, y, deUnit(l.Unit), 12, left)
		c.hand(173, y, fmtNum(l.price, true, 2), 12, right)
		c.hand(195, y, fmtAmount(i, l, true), 12, right)
	}
	y := top + 9 + float64(rows)*rowH + 10
	c.text(140, y, "Summe:", fSansBold, 10, left)
	c.hand(195, y, fmtTotal(t, true), 12, right)
	c.text(20, y+16, "Bitte per Fax an 040 555 0000 senden.", fSans, 9, left)
}
