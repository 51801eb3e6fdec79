package capture

import (
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in       string
		loc      Locale
		want     string
		ok, amb  bool
		repaired int
	}{
		{"1.260,00", LocaleAuto, "1260.00", true, false, 0},
		{"1,260.00", LocaleAuto, "1260.00", true, false, 0},
		{"12,50", LocaleAuto, "12.50", true, false, 0},
		{"12.5", LocaleAuto, "12.5", true, false, 0},
		{"1.260", LocaleDE, "1260", true, false, 0},
		{"1.260", LocaleEN, "1.260", true, false, 0},
		{"1.260", LocaleAuto, "1260", true, true, 0},
		{"1 260,00 €", LocaleAuto, "1260.00", true, false, 0},
		{"EUR 0,09", LocaleAuto, "0.09", true, false, 0},
		{"12,-", LocaleDE, "12", true, false, 0},
		{"1.260.000", LocaleAuto, "1260000", true, false, 0},
		{"1O,5O", LocaleDE, "10.50", true, false, 2},
		{"l2", LocaleDE, "12", true, false, 1},
		{"12.34.5", LocaleAuto, "", false, false, 0},
		{"1,26,00", LocaleAuto, "", false, false, 0},
		{"abc", LocaleAuto, "", false, false, 0},
		{"", LocaleAuto, "", false, false, 0},
		{"Stk", LocaleAuto, "", false, false, 0},
	}
	for _, tt := range tests {
		got, ok := ParseNumber(tt.in, tt.loc)
		if ok != tt.ok {
			t.Errorf("ParseNumber(%q, %q) ok = %v, want %v", tt.in, tt.loc, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.Value.String() != tt.want || got.Ambiguous != tt.amb || got.Repaired != tt.repaired {
			t.Errorf("ParseNumber(%q, %q) = %s amb %v rep %d, want %s amb %v rep %d", tt.in, tt.loc, got.Value, got.Ambiguous, got.Repaired, tt.want, tt.amb, tt.repaired)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		ord  DateOrder
		want string
		amb  bool
		ok   bool
	}{
		{"01.02.2025", "", "2025-02-01", false, true},
		{"1.2.25", "", "2025-02-01", false, true},
		{"2025-02-01", "", "2025-02-01", false, true},
		{"01/02/2025", MDY, "2025-01-02", false, true},
		{"01/02/2025", DMY, "2025-02-01", false, true},
		{"01/02/2025", "", "2025-02-01", true, true},
		{"13/02/2025", MDY, "2025-02-13", false, true},
		{"02/13/2025", "", "2025-02-13", false, true},
		{"1. Februar 2025", "", "2025-02-01", false, true},
		{"February 1, 2025", "", "2025-02-01", false, true},
		{"18 Nov 2026", "", "2026-11-18", false, true},
		{"O1.O2.2O25", "", "2025-02-01", false, true},
		{"31.02.2025", "", "", false, false},
		{"4711", "", "", false, false},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in, tt.ord)
		if ok != tt.ok {
			t.Errorf("ParseDate(%q, %q) ok = %v, want %v", tt.in, tt.ord, ok, tt.ok)
			continue
		}
		if ok && (got.Date.String() != tt.want || got.Ambiguous != tt.amb) {
			t.Errorf("ParseDate(%q, %q) = %s amb %v, want %s amb %v", tt.in, tt.ord, got.Date, got.Ambiguous, tt.want, tt.amb)
		}
	}
}

func TestCleanID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{{"4500012345", true}, {"PO-2026-0815", true}, {"B26/123", true}, {"632)", false}, {"_4328", false}, {"4500,", false}, {"-12", false}, {"", false}} {
		if got := cleanID(tt.in); got != tt.want {
			t.Errorf("cleanID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
