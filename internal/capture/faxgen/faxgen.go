package faxgen

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"image"
	"math/rand/v2"
	"strings"

	"github.com/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"
)

// Doc is one generated order of a layout and seed.
type Doc struct {
	Truth  Truth
	layout *layout
	seed   uint64
}

// New draws the order of layout for seed.
func New(layoutName string, seed uint64) (*Doc, error) {
	l, err := layoutByName(layoutName)
	if err != nil {
		return nil, err
	}
	if err := loadFonts(); err != nil {
		return nil, fmt.Errorf("faxgen: loading fonts: %w", err)
	}
	t := newTruth(l, rand.New(rand.NewPCG(seed, stream(l.name, "order"))))
	return &Doc{Truth: t, layout: l, seed: seed}, nil
}

func stream(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// Name is the fixture's file stem, "de-classic-0007".
func (d *Doc) Name() string { return fmt.Sprintf("%s-%04d", d.layout.name, d.seed) }

// FaxImage renders the fax page as received (one bit per pixel).
func (d *Doc) FaxImage(res Resolution) *image.Paletted {
	rng := rand.New(rand.NewPCG(d.seed, stream(d.layout.name, "fax", string(res))))
	t := d.Truth
	return pageImage(d.layout, &t, res, rng)
}

// Fax renders the order as a received fax: a PDF with one 1-bit image
// page at the resolution's dpi.
func (d *Doc) Fax(res Resolution) ([]byte, error) {
	img := d.FaxImage(res)
	pngBytes, err := encodePNG(img)
	if err != nil {
		return nil, err
	}
	pdf := newPDF()
	pdf.AddPage()
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("page1", opt, bytes.NewReader(pngBytes))
	pdf.ImageOptions("page1", 0, 0, pageWmm, pageHmm, false, opt, 0, "")
	return output(pdf)
}

func output(pdf *fpdf.Fpdf) ([]byte, error) {
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("faxgen: writing the PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// TextPDF renders the order as a PDF with a text layer (as an ERP or a
// word processor would write it).
func (d *Doc) TextPDF() ([]byte, error) {
	pdf := newPDF()
	// In a fixed order, and on copies: fpdf's subsetter writes into the
	// bytes it is given, which the rasteriser's parsed fonts share.
	for _, id := range []fontID{fSans, fSansBold, fMono, fSerif, fHand} {
		pdf.AddUTF8FontFromBytes(pdfFamilies[id], "", bytes.Clone(fontBytes[id]))
	}
	pdf.AddPage()
	t := d.Truth
	d.layout.draw(&textPDF{pdf: pdf}, &t)
	return output(pdf)
}

// remarks are the free-text remarks some e-mail bodies carry.
var remarks = [][2]string{
	{"Bitte an Tor 3 liefern.", "Please deliver to gate 3."},
	{"Anlieferung nur vormittags.", "Deliveries in the morning only."},
	{"Bitte vor der Lieferung anrufen.", "Please call before delivery."},
}

// Remark is the remark of the order's e-mail body: every third seed has
// one (drawn from the seed alone, so the order and the faxes are the same
// with or without it); "" for the others.
func (d *Doc) Remark() string {
	if d.seed%3 != 0 {
		return ""
	}
	r := remarks[(d.seed/3)%uint64(len(remarks))]
	if d.layout.english {
		return r[1]
	}
	return r[0]
}

// Email returns the order as a plain-text e-mail body: German senders
// write sentences with "x" and "à", English ones an aligned table; with
// the Remark, if any, after the total.
func (d *Doc) Email() string {
	t := d.Truth
	var b strings.Builder
	remark := ""
	if r := d.Remark(); r != "" {
		remark = r + "\n\n"
	}
	if d.layout.english {
		fmt.Fprintf(&b, "Hello,\n\nplease supply the following.\n\nPO Number: %s\nDate: %s\nCustomer No.: %s\n", t.PONumber,
			mustDate(t.PODate).Format("2006-01-02"), t.CustomerID)
		if t.Delivery != "" {
			fmt.Fprintf(&b, "Delivery date: %s\n", mustDate(t.Delivery).Format("2006-01-02"))
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "%-16s %-30s %8s  %-5s %10s %12s\n", "Item", "Description", "Qty", "Unit", "Price", "Amount")
		for _, l := range t.Lines {
			fmt.Fprintf(&b, "%-16s %-30s %8s  %-5s %10s %12s\n", l.Printed, l.Desc, fmtNum(l.qty, false, 0), enUnit(l.Unit),
				fmtNum(l.price, false, 2), fmtAmount(0, l, false))
		}
		fmt.Fprintf(&b, "\nTotal EUR %s\n\n%sKind regards\n%s\n", fmtTotal(&t, false), remark, t.SenderName)
		return b.String()
	}
	fmt.Fprintf(&b, "Sehr geehrte Damen und Herren,\n\nhiermit bestellen wir:\n\nBestellnummer: %s\nDatum: %s\nKunden-Nr.: %s\n",
		t.PONumber, deDate(t.PODate), t.CustomerID)
	if t.Delivery != "" {
		fmt.Fprintf(&b, "Liefertermin: %s\n", deDate(t.Delivery))
	}
	b.WriteString("\n")
	for _, l := range t.Lines {
		fmt.Fprintf(&b, "%s %s %s %s à %s EUR\n", fmtNum(l.qty, true, 0), deUnit(l.Unit), l.Printed, l.Desc, fmtNum(l.price, true, 2))
	}
	fmt.Fprintf(&b, "\nGesamtsumme: %s EUR\n\n%sMit freundlichen Grüßen\n%s\n", fmtTotal(&t, true), remark, t.SenderName)
	return b.String()
}

// Rows returns the order as spreadsheet rows (a CSV or XLSX export):
// header fields as label/value pairs, a blank row, the table.
func (d *Doc) Rows() [][]string {
	t := d.Truth
	de := !d.layout.english
	rows := [][]string{
		{"Bestellnummer", t.PONumber}, {"Datum", deDate(t.PODate)}, {"Kundennummer", t.CustomerID}, {},
		{"Pos", "Artikelnummer", "Bezeichnung", "Menge", "Einheit", "Einzelpreis", "Gesamtpreis"},
	}
	if !de {
		rows = [][]string{
			{"PO Number", t.PONumber}, {"Order Date", mustDate(t.PODate).Format("2006-01-02")}, {"Customer No.", t.CustomerID}, {},
			{"Line", "Item", "Description", "Quantity", "Unit", "Unit Price", "Amount"},
		}
	}
	if t.Delivery != "" {
		// After the header fields, before the blank row.
		d := []string{"Liefertermin", deDate(t.Delivery)}
		if !de {
			d = []string{"Delivery Date", mustDate(t.Delivery).Format("2006-01-02")}
		}
		rows = append(rows[:3], append([][]string{d}, rows[3:]...)...)
	}
	for i, l := range t.Lines {
		unit := deUnit(l.Unit)
		if !de {
			unit = enUnit(l.Unit)
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), l.Printed, l.Desc, fmtNum(l.qty, de, 0), unit, fmtNum(l.price, de, 2), fmtAmount(i, l, de)})
	}
	rows = append(rows, []string{}, []string{"", "", "", "", "", "Summe", fmtTotal(&t, de)})
	if !de {
		rows[len(rows)-1][5] = "Total"
	}
	return rows
}

// CSV returns Rows as a semicolon-separated file (German) or a
// comma-separated one (English).
func (d *Doc) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if !d.layout.english {
		w.Comma = ';'
	}
	w.WriteAll(d.Rows())
	return buf.Bytes()
}

// XLSX returns Rows as a spreadsheet (one sheet, text cells). The same
// seed gives the same bytes: the workbook's properties carry a fixed
// date, and the zip entries none.
func (d *Doc) XLSX() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	fixed := "2026-01-01T00:00:00Z"
	if err := f.SetDocProps(&excelize.DocProperties{Created: fixed, Modified: fixed, Creator: "faxgen", LastModifiedBy: "faxgen"}); err != nil {
		return nil, fmt.Errorf("writing XLSX properties: %w", err)
	}
	sheet := f.GetSheetName(0)
	for y, row := range d.Rows() {
		for x, v := range row {
			cell, err := excelize.CoordinatesToCellName(x+1, y+1)
			if err != nil {
				return nil, err
			}
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				return nil, fmt.Errorf("writing XLSX cell %s: %w", cell, err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, fmt.Errorf("writing XLSX: %w", err)
	}
	return buf.Bytes(), nil
}
