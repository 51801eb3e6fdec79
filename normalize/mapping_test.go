package normalize

import "testing"

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		mark byte
		want string
		ok   bool
	}{
		{"12.50", '.', "12.50", true},
		{"12,50", ',', "12.50", true},
		{"-3", '.', "-3", true},
		{".5", '.', "0.5", true},
		{"-,5", ',', "-0.5", true},
		{"5.", '.', "5", true},
		{"1.5", ',', "", false},
		{"", '.', "", false},
		{"1e5", '.', "", false},
		{"abc", '.', "", false},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in, tt.mark)
		if (err == nil) != tt.ok || (tt.ok && got.String() != tt.want) {
			t.Errorf("ParseDecimal(%q, %q) = %s, %v; want %s ok=%v", tt.in, tt.mark, got, err, tt.want, tt.ok)
		}
	}
}

func TestImpliedDecimal(t *testing.T) {
	tests := []struct {
		in     string
		places int
		want   string
		ok     bool
	}{
		{"1250", 2, "12.50", true},
		{"-5", 1, "-0.5", true},
		{"12.5", 2, "", false},
		{"", 2, "", false},
	}
	for _, tt := range tests {
		got, err := ImpliedDecimal(tt.in, tt.places)
		if (err == nil) != tt.ok || (tt.ok && got.String() != tt.want) {
			t.Errorf("ImpliedDecimal(%q, %d) = %s, %v; want %s ok=%v", tt.in, tt.places, got, err, tt.want, tt.ok)
		}
	}
}
