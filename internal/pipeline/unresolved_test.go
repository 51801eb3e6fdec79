package pipeline

import (
	"fmt"
	"testing"
)

// TestUnresolvedSummary: the reason of a "normalized" event names up to
// five unresolved fields and counts the others.
func TestUnresolvedSummary(t *testing.T) {
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("lines[%d].sku: no item", i)
	}
	cases := []struct {
		in   []string
		want string
	}{
		{[]string{"customer_id: unknown"}, "customer_id: unknown"},
		{many[:5], "lines[0].sku: no item; lines[1].sku: no item; lines[2].sku: no item; lines[3].sku: no item; lines[4].sku: no item"},
		{many, "lines[0].sku: no item; lines[1].sku: no item; lines[2].sku: no item; lines[3].sku: no item; lines[4].sku: no item; and 25 more"},
	}
	for _, c := range cases {
		if got := unresolvedSummary(c.in); got != c.want {
			t.Errorf("unresolvedSummary(%d fields) = %q, want %q", len(c.in), got, c.want)
		}
	}
}
