package normalize

import (
	"strconv"
	"strings"
	"testing"
)

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

func TestIndexText(t *testing.T) {
	var x indexText
	for _, n := range []int{0, 1, 2, 9, 10, 11, 99, 100, 101, 98, 99, 100, 999, 1000, 5, 77986, 77987, 77999, 78000, -1, 0, 1<<62 - 1, 1 << 62, -1 << 63, 1<<63 - 1, 3} {
		if got, want := string(x.append([]byte("x"), n)), "x"+strconv.Itoa(n); got != want {
			t.Fatalf("append(%d) = %q, want %q", n, got, want)
		}
	}
	for n := 0; n < 100000; n++ {
		if got, want := string(x.append(nil, n)), strconv.Itoa(n); got != want {
			t.Fatalf("append(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTrimSpace(t *testing.T) {
	for _, v := range []string{"", " ", "a", " a", "a ", "\ta\n", "ab", "a b", "\u00a0a\u00a0", "\u0085x", "x\u0085", "\x7f", "é", " é ", "\x00a", "a\x00"} {
		if got, want := trimSpace(v), strings.TrimSpace(v); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", v, got, want)
		}
	}
}
