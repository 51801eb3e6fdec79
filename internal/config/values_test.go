package config

import "testing"

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"512", 512, false},
		{"10MiB", 10 << 20, false},
		{"25 MiB", 25 << 20, false},
		{"64KiB", 64 << 10, false},
		{"1GiB", 1 << 30, false},
		{"500KB", 500000, false},
		{"2MB", 2000000, false},
		{"7B", 7, false},
		{"ten", 0, true},
		{"-1", 0, true},
		{"1.5MiB", 0, true},
		{"99999999999GiB", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseByteSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseByteSize(%q): got %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if got, want := ByteSize(10<<20).String(), "10MiB"; got != want {
		t.Errorf("String: got %s, want %s", got, want)
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in           string
		wantString   string
		wantFraction string
		wantErr      bool
	}{
		{"0.5%", "0.5%", "0.005", false},
		{" 2 %", "2%", "0.02", false},
		{"100%", "100%", "1", false},
		{"0.1234567%", "0.1234567%", "0.001234567", false},
		{"0.5", "", "", true},
		{"abc%", "", "", true},
		{"0,5%", "", "", true},
		{"-1%", "", "", true},
		{"101%", "", "", true},
	}
	for _, tc := range tests {
		p, err := ParsePercent(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParsePercent(%q): got error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got := p.String(); got != tc.wantString {
			t.Errorf("ParsePercent(%q).String: got %s, want %s", tc.in, got, tc.wantString)
		}
		if got := p.Fraction().Trim(0).String(); got != tc.wantFraction {
			t.Errorf("ParsePercent(%q).Fraction: got %s, want %s", tc.in, got, tc.wantFraction)
		}
	}
}
