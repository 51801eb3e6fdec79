package x12

import (
	"context"
	"fmt"
)

// POAck is a purchase order acknowledgement (855) in neutral terms: what
// the supplier answers to a purchase order, header and lines. Values are
// written as they are (dates CCYYMMDD, decimals with '.'); mapping an
// order and its decision to a POAck is normalize's business.
type POAck struct {
	Purpose   string // BAK01; "" means "00" (original)
	Type      string // BAK02: AC, AD, AT, RD, RJ, ...
	PONumber  string // BAK03
	PODate    string // BAK04, CCYYMMDD
	Reference string // BAK08: the seller's order number, optional
	Date      string // BAK09: the acknowledgement date, optional
	Currency  string // CUR*SE*<Currency>, optional
	Notes     []string
	Lines     []POAckLine
}

// POAckLine echoes one ordered line (PO1) with its status (ACK).
type POAckLine struct {
	LineNo     string // PO101
	Quantity   string // PO102: the quantity ordered
	Unit       string // PO103
	UnitPrice  string // PO104
	PriceBasis string // PO105
	IDs        []ProductID
	// Status is ACK01: IA accepted, IB backordered, IR rejected, IC
	// changed, IQ quantity changed, ...
	Status      string
	AckQuantity string // ACK02: the quantity the status applies to
	AckUnit     string // ACK03
	// Date is ACK05 with ACK04 "068" (current schedule ship), optional.
	Date string
}

// ProductID is a (qualifier, id) pair: BP buyer part, VP vendor part, UP,
// EN, UK GTINs, MG manufacturer part.
type ProductID struct {
	Qualifier string
	ID        string
}

// WritePOAck writes one 855 transaction set into the open functional
// group (which should be GS01 "PR").
func (w *Writer) WritePOAck(ctx context.Context, a *POAck) error {
	if a.PONumber == "" || a.PODate == "" || a.Type == "" {
		return w.fail("an 855 needs BAK02 type, BAK03 PO number and BAK04 PO date")
	}
	if _, err := w.BeginSet(ctx, "855", ""); err != nil {
		return err
	}
	if err := w.Segment("BAK", or(a.Purpose, "00"), a.Type, a.PONumber, a.PODate, "", "", "", a.Reference, a.Date); err != nil {
		return err
	}
	if a.Currency != "" {
		if err := w.Segment("CUR", "SE", a.Currency); err != nil {
			return err
		}
	}
	if len(a.Notes) > 0 {
		if err := w.Segment("N9", "L1", "", "NOTES"); err != nil {
			return err
		}
		for _, n := range a.Notes {
			if err := w.Segment("MSG", truncate(n, 264)); err != nil {
				return err
			}
		}
	}
	for i, l := range a.Lines {
		po1 := []string{l.LineNo, l.Quantity, l.Unit, l.UnitPrice, l.PriceBasis}
		for _, id := range l.IDs {
			if id.ID != "" {
				po1 = append(po1, id.Qualifier, id.ID)
			}
		}
		if err := w.Segment("PO1", po1...); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		dq := ""
		if l.Date != "" {
			dq = "068"
		}
		if err := w.Segment("ACK", l.Status, l.AckQuantity, l.AckUnit, dq, l.Date); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	if err := w.Segment("CTT", fmt.Sprint(len(a.Lines))); err != nil {
		return err
	}
	return w.EndSet()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
