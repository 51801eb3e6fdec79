package capture

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// TestExtractNotes: free-text remarks reach Order.Notes with where they
// were read: a fax's "Bemerkung:" block (same line or the next), an
// English "Remarks" line, and the text of an e-mail body that is neither
// header field, order line, total, greeting, lead-in nor signature.
// A mail without such text has no notes.
func TestExtractNotes(t *testing.T) {
	faxWith := func(extra ...[]any) *Document {
		lines := [][]any{
			{200, "Bestellnummer:", 600, "4500012345"},
			{200, "Datum:", 600, "18.11.2026"},
			{200, "Kunden-Nr.:", 600, "C-1001"},
			{200, "Pos", 300, "Art.-Nr.", 600, "Bezeichnung", 1200, "Menge", 1350, "Einheit", 1550, "Preis", 1800, "Gesamt"},
			{200, "1", 300, "SCR-100", 600, "Holzschrauben", 1220, "500", 1350, "Stk", 1550, "0,09", 1800, "45,00"},
			{1200, "Gesamtsumme", 1800, "45,00"},
		}
		return ocrDoc(0.95, append(lines, extra...)...)
	}
	mailBody := func(extra string) *Document {
		return FromText("Sehr geehrte Damen und Herren,\n\nhiermit bestellen wir:\n\nBestellnummer: 4500012345\nDatum: 18.11.2026\nKunden-Nr.: C-1001\n\n" +
			"500 Stk SCR-100 Holzschrauben 4x40 à 0,09 EUR\n\nGesamtsumme: 45,00 EUR\n\n" + extra + "Mit freundlichen Grüßen\nErika Muster\nBaumarkt Nord GmbH\n")
	}
	tests := []struct {
		name string
		doc  *Document
		want []string
		page int // the page of the first note's box (0: no box)
	}{
		{"fax, remark on the label's line", faxWith([]any{200, "Bemerkung:", 600, "Bitte", 720, "an", 780, "Tor", 860, "3", 900, "liefern"}),
			[]string{"Bitte an Tor 3 liefern"}, 1},
		{"fax, remark below its label", faxWith([]any{200, "Hinweis:"}, []any{200, "Anlieferung", 500, "nur", 600, "vormittags"}),
			[]string{"Anlieferung nur vormittags"}, 1},
		{"fax, English remarks", faxWith([]any{200, "Remarks:", 500, "Call", 600, "before", 750, "delivery"}),
			[]string{"Call before delivery"}, 1},
		{"fax without remark", faxWith(), nil, 0},
		{"mail with a remark", mailBody("Bitte an Tor 3 liefern.\n\n"), []string{"Bitte an Tor 3 liefern."}, 0},
		{"mail with a labelled remark", mailBody("Hinweis: Lieferung bis 12 Uhr\n\n"), []string{"Lieferung bis 12 Uhr"}, 0},
		{"mail without a remark", mailBody(""), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, err := Extract(context.Background(), tt.doc, Options{MasterData: demoMD(), Now: now, Channel: order.ChannelFax})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Notes, tt.want) {
				t.Fatalf("notes = %q, want %q", o.Notes, tt.want)
			}
			if len(tt.want) == 0 {
				return
			}
			prov, _ := o.Provenance.Get("notes[0]")
			if got := ReadText(prov); got != tt.want[0] {
				t.Errorf("provenance of notes[0] reads %q, want %q", got, tt.want[0])
			}
			b, ok := o.Boxes["notes[0]"]
			if tt.page > 0 && (!ok || b.Page != tt.page || b.W <= 0) {
				t.Errorf("box of notes[0] = %+v, %v", b, ok)
			}
			if o.CustomerID != "C-1001" || len(o.Lines) != 1 {
				t.Errorf("the note disturbed the order: customer %q, %d lines", o.CustomerID, len(o.Lines))
			}
			if err := o.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestLearnFromReview: a sender's table titles its price column
// "Kondition", which the core does not know, and its PO number stands
// without a label at the top right. Reviewers correct two drafts; the
// corrections (with the draft's page sizes and what stood under the
// unknown title) propose a profile with a column hint and a region, and
// the profile applied reads the price and the PO number.
func TestLearnFromReview(t *testing.T) {
	page := func(po, price1, price2 string) *Document {
		return ocrDoc(0.97,
			[]any{1500, po},
			[]any{200, "Datum:", 600, "18.11.2026"},
			[]any{200, "Kunden-Nr.:", 600, "C-1001"},
			[]any{200, "Art.-Nr.", 600, "Bezeichnung", 1200, "Menge", 1550, "Kondition"},
			[]any{200, "SCR-100", 600, "Holzschrauben", 1220, "500", 1550, price1},
			[]any{200, "HAM-200", 600, "Hammer", 1240, "2", 1550, price2},
		)
	}
	var cs []Correction
	for i, d := range []struct{ po, p1, p2 string }{{"PO-4711", "0,09", "12,50"}, {"PO-4712", "0,08", "11,50"}} {
		draft, _, err := Extract(context.Background(), page(d.po, d.p1, d.p2), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if draft.PONumber != "" || draft.Lines[0].UnitPrice != nil {
			t.Fatalf("draft %d read the unlabelled PO %q or the price %v without a profile", i, draft.PONumber, draft.Lines[0].UnitPrice)
		}
		final := *draft
		final.Lines = slices.Clone(draft.Lines)
		final.PONumber = d.po
		for j, p := range []string{d.p1, d.p2} {
			v := decimal.MustParse(strings.Replace(p, ",", ".", 1))
			final.Lines[j].UnitPrice = &v
		}
		// The reviewer marked where the PO number is.
		draft.Boxes["po_number"] = order.Box{Page: 1, X: 1500, Y: 300, W: 126, H: 30}
		cs = append(cs, Corrections("einkauf@acme.example", draft, &final, nil, PageSize(draft))...)
	}
	p := ProposeProfile("acme", cs)
	if got := p.Profile.Columns[ColPrice]; !slices.Equal(got, []string{"Kondition"}) {
		t.Errorf("price column hint %q, want [Kondition] (%v)", got, p.Why)
	}
	if h := p.Profile.Fields[FieldPONumber]; h.Region == nil {
		t.Fatalf("no region for the PO number (%v)", p.Why)
	}
	prof := p.Profile
	o, _, err := Extract(context.Background(), page("PO-4713", "0,07", "10,50"), Options{Now: now, Profile: &prof})
	if err != nil {
		t.Fatal(err)
	}
	if o.PONumber != "PO-4713" {
		t.Errorf("with the profile: PO %q, want PO-4713", o.PONumber)
	}
	if len(o.Lines) != 2 || o.Lines[0].UnitPrice == nil || o.Lines[0].UnitPrice.String() != "0.07" {
		t.Errorf("with the profile: lines %+v, want the price 0.07 read", o.Lines)
	}
}

// TestProfileRegion: a profile's region anchors a header field. A label
// found outside the region is passed over for the one inside it; a value
// without any label is taken from the region; a region with nothing valid
// in it finds nothing (rather than a value elsewhere); extra labels of the
// profile are found together with the region.
func TestProfileRegion(t *testing.T) {
	// Page 2000 x 2800; lines from y = 300, 60 apart.
	doc := ocrDoc(0.97,
		[]any{200, "Bestellnummer:", 600, "4500099999", 1500, "12345678"},
		[]any{1500, "Unser", 1620, "Zeichen:", 1800, "PO-4711"},
		[]any{200, "Datum:", 600, "18.11.2026"},
		[]any{200, "Art.-Nr.", 600, "Bezeichnung", 1200, "Menge"},
		[]any{200, "SCR-100", 600, "Holzschrauben", 1220, "500"},
	)
	right := &Region{Page: 1, X: 0.7, Y: 0.1, W: 0.3, H: 0.05} // y 280..420, x 1400..2000
	tests := []struct {
		name string
		hint FieldHint
		want string
	}{
		{"no profile: the labelled value", FieldHint{}, "4500099999"},
		{"region: the cell inside it, not the labelled one outside", FieldHint{Region: right}, "12345678"},
		{"region and the sender's own label", FieldHint{Region: right, Labels: []string{"Unser Zeichen"}}, "PO-4711"},
		{"region with nothing valid in it", FieldHint{Region: &Region{Page: 1, X: 0.7, Y: 0.5, W: 0.3, H: 0.1}}, ""},
		{"region on another page", FieldHint{Region: &Region{Page: 2, X: 0, Y: 0, W: 1, H: 1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prof *Profile
			if tt.hint.Region != nil || len(tt.hint.Labels) > 0 {
				prof = &Profile{Name: "p", Fields: map[string]FieldHint{FieldPONumber: tt.hint}}
			}
			o, _, err := Extract(context.Background(), doc, Options{Now: now, Profile: prof})
			if err != nil {
				t.Fatal(err)
			}
			if o.PONumber != tt.want {
				t.Errorf("po_number %q, want %q", o.PONumber, tt.want)
			}
			if tt.want == "" {
				return
			}
			b, ok := o.Boxes["po_number"]
			if !ok {
				t.Fatal("no box for po_number")
			}
			if tt.hint.Region != nil && !tt.hint.Region.contains(b, doc) {
				t.Errorf("box %+v is outside the region %+v", b, *tt.hint.Region)
			}
		})
	}
}
