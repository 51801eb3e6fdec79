package normalize

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/normalize/order"
)

func TestEDIFACTOrderResponse(t *testing.T) {
	m := edifactMessages(t, []byte(craftedORDERS))[0]
	o, err := FromEDIFACTOrders(&m.Message, "")
	if err != nil {
		t.Fatal(err)
	}
	ten := decimal.MustNew(10, 0)
	price := decimal.MustNew(1199, 2)
	respDate, _ := order.NewDate(2026, time.November, 19)
	later, _ := order.NewDate(2026, time.December, 10)
	tests := []struct {
		name      string
		resp      order.Response
		function  edifact.ResponseFunction
		actions   []edifact.LineAction
		wantSegs  []string
		forbidden []string
	}{
		{"accepted", order.Response{Status: order.ResponseAccepted, Date: respDate}, edifact.ResponseAccepted,
			[]edifact.LineAction{edifact.LineAccepted, edifact.LineAccepted},
			[]string{"BGM+231+4500012345+29'", "RFF+ON:4500012345'", "DTM+171:20261118:102'", "LIN+1+5+4000000000017:EN'", "LIN+2+5'", "CNT+2:2'"},
			[]string{"QTY+"}},
		{"rejected", order.Response{Status: order.ResponseRejected, Date: respDate, Notes: []string{"Kunde gesperrt"}}, edifact.ResponseNotAccepted,
			[]edifact.LineAction{edifact.LineNotAccepted, edifact.LineNotAccepted},
			[]string{"BGM+231+4500012345+27'", "FTX+AAI+++Kunde gesperrt'", "LIN+1+7+4000000000017:EN'"}, nil},
		{"one line changed", order.Response{Status: order.ResponseAccepted, Date: respDate, Lines: []order.LineResponse{
			{LineNo: "2", Status: order.ResponseChanged, Quantity: &ten, UnitPrice: &price, Delivery: later, Reason: "nur 10 lieferbar"}}},
			edifact.ResponseChanged, []edifact.LineAction{edifact.LineAccepted, edifact.LineChanged},
			[]string{"BGM+231+4500012345+4'", "LIN+2+3'", "PIA+5+BN-9:BP'", "QTY+113:10:C62'", "DTM+2:20261210:102'", "FTX+AAI+++nur 10 lieferbar'", "PRI+AAA:11,99'"},
			[]string{"QTY+113:24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := EDIFACTOrderResponse(o, &tt.resp)
			if r.Function != tt.function {
				t.Errorf("function %q, want %q", r.Function, tt.function)
			}
			for i, want := range tt.actions {
				if r.Lines[i].Action != want {
					t.Errorf("line %d action %q, want %q", i+1, r.Lines[i].Action, want)
				}
			}
			if len(r.Parties) != 5 || r.Parties[0].Function != "BY" || r.Parties[0].Agency != "9" || r.Parties[1].Function != "DP" || r.Parties[1].Agency != "92" {
				t.Errorf("parties %+v", r.Parties)
			}
			var buf bytes.Buffer
			w := edifact.NewWriter(&buf, edifact.Separators{Component: ':', Element: '+', Decimal: ',', Release: '?', Terminator: '\''})
			ctx := context.Background()
			if err := w.BeginInterchange(ctx, edifact.InterchangeHeader{SyntaxID: "UNOC", SenderID: "4000000000001", SenderQual: "14",
				RecipientID: "4012345000009", RecipQual: "14", Time: time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC)}); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteOrderResponse(ctx, &r); err != nil {
				t.Fatal(err)
			}
			if err := w.EndInterchange(); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, s := range tt.wantSegs {
				if !strings.Contains(out, s) {
					t.Errorf("ORDRSP lacks %s:\n%s", s, strings.ReplaceAll(out, "'", "'\n"))
				}
			}
			for _, s := range tt.forbidden {
				if strings.Contains(out, s) {
					t.Errorf("ORDRSP has %s", s)
				}
			}
			msgs := edifactMessages(t, buf.Bytes())
			if len(msgs) != 1 || !msgs[0].Accepted {
				t.Errorf("the ORDRSP does not validate: %v", msgs[0].Errors)
			}
		})
	}
}
