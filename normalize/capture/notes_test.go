package capture

import (
	"context"
	"slices"
	"testing"

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
