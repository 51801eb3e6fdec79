package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/govalues/decimal"
)

func envWithTotal(total string) exprEnv {
	return exprEnv{Order: exprOrder{Total: exprDecimal{decimal.MustParse(total)}, TotalComplete: true}}
}

func TestWhenExact(t *testing.T) {
	tests := []struct {
		when, total string
		want        bool
	}{
		{"order.total > 10000", "10000.00", false},
		{"order.total > 10000", "10000.01", true},
		{"order.total >= 10000", "10000", true},
		{"order.total >= 10000.50", "10000.49", false},
		{"order.total >= 10000.50", "10000.50", true},
		{"order.total == 0.1", "0.10", true},
		{"order.total == 0.3", "0.30", true},
		{"0.1 + order.total == 0.3", "0.2", true},
		{"order.total != 5", "5.000", false},
		{"order.total < 1e3", "999.999", true},
		{"order.total <= 1e30", "1", true},
		{"10000 < order.total", "10000.001", true},
		{"order.total * 2 > 100", "50.01", true},
		{"order.total - 1 == 99.5", "100.5", true},
		{"order.total / 4 == 2.5", "10", true},
		{"order.total > customer.credit_limit", "1", true},
		{"order.total == customer.open_balance", "0", true},
	}
	for _, tt := range tests {
		p, _, err := compileWhen(tt.when)
		if err != nil {
			t.Fatalf("compileWhen(%q): %v", tt.when, err)
		}
		got, err := evalWhen(p, envWithTotal(tt.total))
		if err != nil {
			t.Fatalf("%q with total %s: %v", tt.when, tt.total, err)
		}
		if got != tt.want {
			t.Errorf("%q with total %s = %v, want %v", tt.when, tt.total, got, tt.want)
		}
	}
}

func TestWhenUsesTotal(t *testing.T) {
	for when, want := range map[string]bool{
		"order.total > 1":                      true,
		"customer.first_order":                 false,
		"order.ship_to.new || order.total > 5": true,
		"any(order.lines, .quantity > 100)":    false,
	} {
		_, got, err := compileWhen(when)
		if err != nil {
			t.Fatalf("%q: %v", when, err)
		}
		if got != want {
			t.Errorf("%q uses order.total = %v, want %v", when, got, want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error
	}{
		{"unknown identifier", Config{Approvals: []Approval{{Name: "big", When: "order.totl > 1", Role: "r"}}},
			[]string{"approval big", "totl", "(1:7)"}},
		{"unknown root", Config{Approvals: []Approval{{Name: "x", When: "cust.blocked", Role: "r"}}},
			[]string{"approval x", "unknown name cust"}},
		{"not bool", Config{Approvals: []Approval{{Name: "n", When: "order.line_count", Role: "r"}}},
			[]string{"approval n", "bool"}},
		{"syntax", Config{Approvals: []Approval{{Name: "s", When: "order.total >", Role: "r"}}},
			[]string{"approval s", "unexpected"}},
		{"decimal vs string", Config{Approvals: []Approval{{Name: "d", When: `order.total > "5"`, Role: "r"}}},
			[]string{"approval d", "mismatched types"}},
		{"unary minus on decimal", Config{Approvals: []Approval{{Name: "u", When: "-order.total < 0", Role: "r"}}},
			[]string{"approval u"}},
		{"no role", Config{Approvals: []Approval{{Name: "a", When: "true"}}},
			[]string{"approval a: has neither role nor levels"}},
		{"both", Config{Approvals: []Approval{{Name: "a", When: "true", Role: "r", Levels: []string{"x"}}}},
			[]string{"both role and levels"}},
		{"duplicate name", Config{Approvals: []Approval{{Name: "a", When: "true", Role: "r"}, {Name: "a", When: "true", Role: "r"}}},
			[]string{"approval a: is defined twice"}},
		{"no name, no when", Config{Approvals: []Approval{{Role: "r"}}},
			[]string{"approval #1: has no name", "approval #1: has no when"}},
		{"policies", Config{PricePolicy: "maybe", ItemPolicy: "ignore", DuplicatePolicy: "merge"},
			[]string{`price policy "maybe"`, `item policy "ignore"`, `duplicate policy "merge"`}},
		{"negative tolerance", Config{PriceTolerance: ptr(decimal.MustParse("-1"))},
			[]string{"price tolerance -1% is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.cfg)
			if err == nil {
				t.Fatal("Compile: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	_, err := Compile(Config{Approvals: []Approval{{Name: "big", When: "order.totl > 1", Role: "r"}}})
	var ae *ApprovalError
	if !errors.As(err, &ae) || ae.Name != "big" || ae.Index != 0 {
		t.Errorf("error %v is not an *ApprovalError for big at 0", err)
	}
}

func ptr[T any](v T) *T { return &v }
