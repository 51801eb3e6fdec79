package normalize

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize/order"
)

func dec(s string) *decimal.Decimal {
	d := decimal.MustParse(s)
	return &d
}

func TestX12POAck(t *testing.T) {
	o := mapAccepted(t, []byte(crafted850), "po.edi")[0]
	day := order.Date{Year: 2026, Month: 11, Day: 19}
	tests := []struct {
		name     string
		r        order.Response
		bak02    string
		statuses string // ACK01 per line
		ackQty   string // ACK02 per line
	}{
		{"accepted", order.Response{Status: order.ResponseAccepted, Date: day}, "AT", "IA IA IA", "24 3 1.5"},
		{"accepted with detail", order.Response{Status: order.ResponseAccepted, Date: day,
			Lines: []order.LineResponse{{LineNo: "1", Status: order.ResponseAccepted}}}, "AD", "IA IA IA", "24 3 1.5"},
		{"quantity changed", order.Response{Status: order.ResponseAccepted, Date: day,
			Lines: []order.LineResponse{{LineNo: "2", Status: order.ResponseChanged, Quantity: dec("2")}}}, "AC", "IA IQ IA", "24 2 1.5"},
		{"price changed", order.Response{Status: order.ResponseAccepted, Date: day,
			Lines: []order.LineResponse{{LineNo: "1", Status: order.ResponseChanged, UnitPrice: dec("12.00")}}}, "AC", "IC IA IA", "24 3 1.5"},
		{"backordered line", order.Response{Status: order.ResponseBackordered, Date: day,
			Lines: []order.LineResponse{{LineNo: "3", Status: order.ResponseBackordered, Delivery: order.Date{Year: 2027, Month: 1, Day: 5}}}}, "AC", "IB IB IB", "24 3 1.5"},
		{"line rejected", order.Response{Status: order.ResponseAccepted, Date: day,
			Lines: []order.LineResponse{{LineNo: "2", Status: order.ResponseRejected, Reason: "discontinued"}}}, "AC", "IA IR IA", "24 3 1.5"},
		{"rejected", order.Response{Status: order.ResponseRejected, Date: day}, "RJ", "IR IR IR", "24 3 1.5"},
		{"rejected with detail", order.Response{Status: order.ResponseRejected, Date: day,
			Lines: []order.LineResponse{{LineNo: "1", Status: order.ResponseRejected}}}, "RD", "IR IR IR", "24 3 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := X12POAck(o, &tt.r)
			var st, qty []string
			for _, l := range a.Lines {
				st = append(st, l.Status)
				qty = append(qty, l.AckQuantity)
			}
			if a.Type != tt.bak02 || strings.Join(st, " ") != tt.statuses || strings.Join(qty, " ") != tt.ackQty {
				t.Errorf("BAK02 %s, ACK01 %v, ACK02 %v; want %s, %s, %s", a.Type, st, qty, tt.bak02, tt.statuses, tt.ackQty)
			}
			if a.PONumber != "4500012345" || a.PODate != "20261118" || a.Date != "20261119" {
				t.Errorf("BAK %s %s %s", a.PONumber, a.PODate, a.Date)
			}
			// The 855 written from it is accepted by the 855 dictionary.
			var buf bytes.Buffer
			ctx := context.Background()
			at := time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC)
			w := x12.NewWriter(&buf, x12.DefaultDelimiters)
			if err := w.BeginInterchange(ctx, x12.InterchangeHeader{SenderQualifier: "ZZ", SenderID: "TOOLSUPPLY", ReceiverQualifier: "ZZ", ReceiverID: "BAUMARKTNORD", Time: at}); err != nil {
				t.Fatal(err)
			}
			if err := w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "PR", SenderCode: "TOOLSUPPLY", ReceiverCode: "BAUMARKTNORD", Time: at, Version: "004010"}); err != nil {
				t.Fatal(err)
			}
			if err := w.WritePOAck(ctx, &a); err != nil {
				t.Fatal(err)
			}
			if err := w.EndGroup(); err != nil {
				t.Fatal(err)
			}
			if err := w.EndInterchange(); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			d := x12.NewDecoder(&buf)
			tx, err := d.Next()
			if err != nil || !tx.Accepted {
				t.Fatalf("the 855 does not decode as accepted: %v %v\n%s", err, tx.Errors, buf.String())
			}
			if _, err := d.Next(); err != io.EOF {
				t.Errorf("after the 855: %v, want io.EOF", err)
			}
		})
	}
	a := X12POAck(o, &order.Response{Status: order.ResponseAccepted, Lines: []order.LineResponse{{LineNo: "1", Status: order.ResponseChanged, Quantity: dec("20"), Delivery: order.Date{Year: 2026, Month: 12, Day: 10}}}})
	if l := a.Lines[0]; l.Status != "IC" || l.AckQuantity != "20" || l.Date != "20261210" {
		t.Errorf("changed quantity and date: %+v, want IC 20 20261210", l)
	}
	if ids := a.Lines[0].IDs; len(ids) != 3 || ids[2].Qualifier != "UP" {
		t.Errorf("ids %+v, want BP, VP, UP", ids)
	}
}
