package channels

import (
	"errors"
	"strings"
	"testing"
)

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"po_4711.edi", "po_4711.edi"},
		{"Bestellung März 2026.pdf", "Bestellung März 2026.pdf"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{`C:\orders\po.edi`, "C:_orders_po.edi"},
		{"a\x00b\nc", "a_b_c"},
		{"bad\xffutf8", "bad_utf8"},
		{"  .hidden  ", "hidden"},
		{"", "document"},
		{"..", "document"},
		{"/", "_"},
		{strings.Repeat("ä", 200), strings.Repeat("ä", 127)},
	}
	for _, tt := range tests {
		if got := SanitizeName(tt.in); got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"997_000004711.x12", true},
		{"order response ü.xml", true},
		{"", false},
		{"../x", false},
		{"a/b", false},
		{".hidden", false},
		{"x.part", false},
		{"x.tmp", false},
		{"a\x00", false},
		{"..", false},
	}
	for _, tt := range tests {
		err := CheckName(tt.name)
		if got := err == nil; got != tt.valid {
			t.Errorf("CheckName(%q) = %v, want valid %v", tt.name, err, tt.valid)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName", tt.name, err)
		}
	}
}
