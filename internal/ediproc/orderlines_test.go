package ediproc

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

func TestOrderLinesAreJSONLines(t *testing.T) {
	orders := []*order.Order{
		{PONumber: "4500012345", Currency: "EUR", Notes: []string{"<fragile> & \"dry\""},
			Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("12.50"), Unit: "EA", SKU: "SCR-100"}}},
		{PONumber: "short"},
	}
	var got, want bytes.Buffer
	l := &OrderLines{W: &got}
	for _, o := range orders {
		if err := l.Write(o); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		want.Write(append(b, '\n'))
	}
	if got.String() != want.String() {
		t.Errorf("OrderLines wrote\n%s\nwant\n%s", got.String(), want.String())
	}
}
