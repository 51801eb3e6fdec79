package capture

import (
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

func lines(skus ...string) []order.Line {
	var out []order.Line
	for _, s := range skus {
		p := decimal.MustParse("1.00")
		out = append(out, order.Line{SKU: s, Quantity: decimal.MustParse("2"), Unit: "EA", UnitPrice: &p})
	}
	return out
}

func TestCompareAlignsLines(t *testing.T) {
	want := &order.Order{PONumber: "1", Lines: lines("A", "B", "C", "D")}
	tests := []struct {
		name             string
		draft            []order.Line
		right, total     int
		wrong, touchless bool
	}{
		{"all", lines("A", "B", "C", "D"), 4, 4, false, true},
		{"one missed", lines("A", "C", "D"), 3, 4, true, true},
		{"one extra", lines("A", "X", "B", "C", "D"), 4, 5, true, true},
		{"one misread", lines("A", "B", "Q", "D"), 3, 4, true, true},
		{"none", nil, 0, 4, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &order.Order{PONumber: "1", Lines: tt.draft, Status: order.StatusReceived}
			out := Compare(d, want)
			if out.LinesRight != tt.right || out.LinesTotal != tt.total || (len(out.Wrong) > 0) != tt.wrong || out.Touchless != tt.touchless {
				t.Errorf("right %d/%d wrong %v touchless %v, want %d/%d", out.LinesRight, out.LinesTotal, out.Wrong, out.Touchless, tt.right, tt.total)
			}
			var tl Tally
			tl.Add(out)
			if tt.wrong && tl.TouchlessWrong != 1 {
				t.Errorf("touchless with an error not counted")
			}
		})
	}
}
