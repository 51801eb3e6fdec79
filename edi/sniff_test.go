package edi

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Standard
	}{
		{"x12", "ISA*00*          *00*", X12},
		{"x12 pipe", "ISA|00|", X12},
		{"x12 bom and blank lines", "\xEF\xBB\xBF\r\n  ISA*00*", X12},
		{"edifact una", "UNA:+.? 'UNB+UNOC:3+", EDIFACT},
		{"edifact unb", "UNB+UNOA:1+SENDER", EDIFACT},
		{"edifact bom", "\xEF\xBB\xBFUNB+UNOA:1", EDIFACT},
		{"not isa", "ISAX*00", Unknown},
		{"xml", "<?xml version=\"1.0\"?>", Unknown},
		{"pdf", "%PDF-1.4", Unknown},
		{"too short", "ISA", Unknown},
		{"empty", "", Unknown},
		{"bare unh", "UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'", EDIFACT},
		{"junk before unb", "#####@@@@@#####\r\n#####@@@@@#####\r\nUNB+UNOA:3+PARTNER1:14+PARTNER2:14+050824:1727+T1'", EDIFACT},
		{"junk before una", "banner\nUNA:+.? '\nUNB+UNOC:3+S:14+R:14+200101:1200+IC1'", EDIFACT},
		{"junk before unh", "-- spooled 2026-11-18 --\nUNH+M1+ORDERS:D:01B:UN:EAN010'", EDIFACT},
		{"junk before isa", "#### banner ####\r\nISA*00*          *00*          *ZZ*BAUMARKTNORD   *ZZ*TOOLSUPPLY     *261118*1230*U*00401*000004711*0*P*>~GS*PO*A*B~", X12},
		{"text mentioning unb", "Please send the UNB segment with the order.", Unknown},
		{"text mentioning isa", "Our ISA 2026 order follows", Unknown},
		{"isa not a whole segment after junk", "junk\nISA*00*short*", Unknown},
		{"unh without message type", "note: UNH+1+ABC'", Unknown},
		{"unb in a word", "XUNB+UNOA:3+S", Unknown},
		{"json quoting edi", `{"note": "UNB+UNOA:3+S:14+R:14+200101:1200+IC1'"}`, Unknown},
		{"xml quoting edi", "<edi>\nUNB+UNOA:3+S:14+R:14+200101:1200+IC1'</edi>", Unknown},
		{"beyond sniff len", strings.Repeat("#", SniffLen) + "\nUNB+UNOA:3+S:14+R:14+200101:1200+IC1'", Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff([]byte(tt.in)); got != tt.want {
				t.Errorf("Sniff(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSegmentAccessors(t *testing.T) {
	s := NewSegment("PO1", Element{{"1"}}, Element{{"24"}}, Element{{"EA"}}, Element{}, Element{{"A", "B"}, {"C"}})
	tests := []struct {
		n, c int
		want string
	}{
		{1, 1, "1"}, {2, 1, "24"}, {4, 1, ""}, {5, 1, "A"}, {5, 2, "B"}, {5, 3, ""}, {6, 1, ""}, {0, 1, ""},
	}
	for _, tt := range tests {
		if got := s.Component(tt.n, tt.c); got != tt.want {
			t.Errorf("Component(%d, %d) = %q, want %q", tt.n, tt.c, got, tt.want)
		}
	}
	if got := s.Ref(2); got != "PO102" {
		t.Errorf("Ref(2) = %q, want PO102", got)
	}
	if got := len(s.Repetitions(5)); got != 2 {
		t.Errorf("Repetitions(5) has %d, want 2", got)
	}
	c := s.Clone()
	c.Components(1)[0] = "changed"
	if s.Value(1) != "1" {
		t.Errorf("Clone shares memory with the original")
	}
	if got, want := s.String(), "PO1*1*24*EA**A:B^C"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestWhere(t *testing.T) {
	tests := []struct {
		seg, elem, comp int
		tag, want       string
	}{
		{4, 0, 0, "BEG", "segment 4 (BEG)"},
		{12, 2, 0, "PO1", "segment 12 (PO1) element 2"},
		{7, 3, 2, "NAD", "segment 7 (NAD) element 3 component 2"},
		{7, 0, 2, "NAD", "segment 7 (NAD)"},
	}
	for _, tt := range tests {
		if got := Where(tt.seg, tt.tag, tt.elem, tt.comp); got != tt.want {
			t.Errorf("Where(%d, %q, %d, %d) = %q, want %q", tt.seg, tt.tag, tt.elem, tt.comp, got, tt.want)
		}
	}
}
