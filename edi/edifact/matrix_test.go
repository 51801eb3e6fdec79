package edifact

import (
	"io"
	"strings"
	"testing"
	"time"
)

const baseInterchange = "UNB+UNOC:3+S:14+R:14+200101:1200+IC1++++1'" +
	"UNH+M1+ORDERS:D:96A:UN:EAN008'" +
	"BGM+220+PO1+9'" +
	"DTM+137:20200101:102'" +
	"NAD+BY+4000000000000::9'" +
	"LIN+1++4000000000017:EN'" +
	"QTY+21:5:PCE'" +
	"UNS+S'" +
	"CNT+2:1'" +
	"UNT+9+M1'" +
	"UNZ+1+IC1'"

// decodeAll decodes in and returns the messages and the report.
func decodeAll(t *testing.T, in string, opts ...Option) ([]*Message, *Report) {
	t.Helper()
	d := NewDecoder(strings.NewReader(in), opts...)
	var msgs []*Message
	for {
		m, err := d.Next()
		if err == io.EOF {
			return msgs, d.Report()
		}
		if _, ok := err.(*SyntaxError); err != nil && !ok {
			t.Fatalf("Next: %v", err)
		}
		if m != nil {
			msgs = append(msgs, m)
		}
	}
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC) }

// TestErrorMatrix crafts envelope and syntax errors and checks the exact
// CONTRL segments each one yields.
func TestErrorMatrix(t *testing.T) {
	r := strings.NewReplacer
	tests := []struct {
		name     string
		in       string
		opts     []Option
		accepted []bool   // per message
		want     []string // CONTRL segments that must appear
	}{
		{"valid", baseInterchange, nil, []bool{true},
			[]string{"UCI+IC1+S:14+R:14+7'", "UCM+M1+ORDERS:D:96A:UN:EAN008+7'"}},
		{"UNZ missing", strings.TrimSuffix(baseInterchange, "UNZ+1+IC1'"), nil, []bool{true},
			[]string{"UCI+IC1+S:14+R:14+7+13+UNZ'", "UCM+M1+ORDERS:D:96A:UN:EAN008+7'"}},
		{"UNZ reference", r("UNZ+1+IC1'", "UNZ+1+IC2'").Replace(baseInterchange), nil, []bool{true},
			[]string{"UCI+IC1+S:14+R:14+7+28+UNZ+2'"}},
		{"UNZ count", r("UNZ+1+IC1'", "UNZ+2+IC1'").Replace(baseInterchange), nil, []bool{true},
			[]string{"UCI+IC1+S:14+R:14+7+29+UNZ+1'"}},
		{"UNT count", r("UNT+9+M1'", "UNT+8+M1'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCI+IC1+S:14+R:14+7'", "UCM+M1+ORDERS:D:96A:UN:EAN008+4+29+UNT+1'"}},
		{"UNT reference", r("UNT+9+M1'", "UNT+9+M2'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCM+M1+ORDERS:D:96A:UN:EAN008+4+28+UNT+2'"}},
		{"UNT missing", r("UNT+9+M1'", "").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCM+M1+ORDERS:D:96A:UN:EAN008+4+13+UNT'"}},
		{"duplicate UNH reference",
			r("UNZ+1+IC1'", "UNH+M1+ORDERS:D:96A:UN:EAN008'BGM+220+PO2+9'DTM+137:20200101:102'UNS+S'UNT+5+M1'UNZ+2+IC1'").Replace(baseInterchange),
			nil, []bool{true, false}, []string{"UCM+M1+ORDERS:D:96A:UN:EAN008+7'", "UCM+M1+ORDERS:D:96A:UN:EAN008+4+26+UNH+1'"}},
		{"syntax identifier not supported", r("UNOC:3", "UNOX:3").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCI+IC1+S:14+R:14+4+2+UNB+1:1'"}},
		{"syntax version not supported", r("UNOC:3", "UNOC:9").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCI+IC1+S:14+R:14+4+2+UNB+1:2'"}},
		{"UNB time too short", r("200101:1200", "200101:12").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCI+IC1+S:14+R:14+4+40+UNB+4:2'"}},
		{"unknown sender", baseInterchange, []Option{WithKnownSender(func(id, q string) bool { return id == "OTHER" })}, []bool{false},
			[]string{"UCI+IC1+S:14+R:14+4+23+UNB+2:1'"}},
		{"invalid UNA", "UNA:+.+ '" + baseInterchange, nil, []bool{false},
			[]string{"UCI+IC1+S:14+R:14+4+22+UNA'"}},
		{"invalid character in UNOA", r("UNOC:3", "UNOA:3", "BGM+220+PO1+9'", "BGM+220+po1+9'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCM+M1+ORDERS:D:96A:UN:EAN008+4'", "UCS+2'", "UCD+21+2'"}},
		{"invalid code value", r("BGM+220+PO1+9'", "BGM+220+PO1+99'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+2'", "UCD+12+3'"}},
		{"invalid type of characters", r("QTY+21:5:PCE'", "QTY+21:5A:PCE'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+6'", "UCD+37+1:2'"}},
		{"element too long", r("BGM+220+PO1+9'", "BGM+220+"+strings.Repeat("9", 36)+"+9'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+2'", "UCD+39+2'"}},
		{"too many components", r("QTY+21:5:PCE'", "QTY+21:5:PCE:X'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+6'", "UCD+16+1:4'"}},
		{"too many elements", r("UNS+S'", "UNS+S+X'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+7'", "UCD+16+2'"}},
		{"mandatory element missing", r("QTY+21:5:PCE'", "QTY+:5:PCE'").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+6'", "UCD+13+1:1'"}},
		{"segment out of place", r("QTY+21:5:PCE'", "QTY+21:5:PCE'BGM+220+PO1+9'", "UNT+9", "UNT+10").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+7+15'"}},
		{"unknown segment", r("UNS+S'", "XYZ+1'UNS+S'", "UNT+9", "UNT+10").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+7+15'"}},
		{"mandatory segment missing", r("UNS+S'", "", "UNT+9", "UNT+8").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+7+13'"}},
		{"too many repetitions", r("UNS+S'", "UNS+S'UNS+S'", "UNT+9", "UNT+10").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+8+35'"}},
		{"too many group repetitions", r("QTY+21:5:PCE'", "QTY+21:5:PCE'"+strings.Repeat("RFF+ON:1'", 11), "UNT+9", "UNT+20").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+17+36'"}},
		{"bad segment tag", r("UNS+S'", "U#S+S'UNS+S'", "UNT+9", "UNT+10").Replace(baseInterchange), nil, []bool{false},
			[]string{"UCS+7+12'"}},
		{"group reference", r("UNH+M1", "UNG+ORDERS+S:14+R:14+200101:1200+G1+UN+D:96A'UNH+M1", "UNZ+1+IC1'", "UNE+1+G2'UNZ+1+IC1'").Replace(baseInterchange), nil, []bool{true},
			[]string{"UCF+G1+S:14+R:14+7+28+UNE+2'", "UCM+M1+ORDERS:D:96A:UN:EAN008+7'"}},
		{"group count", r("UNH+M1", "UNG+ORDERS+S:14+R:14+200101:1200+G1+UN+D:96A'UNH+M1", "UNZ+1+IC1'", "UNE+3+G1'UNZ+1+IC1'").Replace(baseInterchange), nil, []bool{true},
			[]string{"UCF+G1+S:14+R:14+7+29+UNE+1'"}},
		{"group trailer missing", r("UNH+M1", "UNG+ORDERS+S:14+R:14+200101:1200+G1+UN+D:96A'UNH+M1").Replace(baseInterchange), nil, []bool{true},
			[]string{"UCF+G1+S:14+R:14+7+13+UNE'"}},
		{"empty interchange", "UNB+UNOC:3+S:14+R:14+200101:1200+IC1++++1'UNZ+0+IC1'", nil, nil,
			[]string{"UCI+IC1+S:14+R:14+7+32+UNZ'"}},
	}
	if len(tests) < 20 {
		t.Fatalf("the matrix has %d cases, want at least 20", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, rep := decodeAll(t, tt.in, tt.opts...)
			if len(msgs) != len(tt.accepted) {
				t.Fatalf("got %d messages, want %d", len(msgs), len(tt.accepted))
			}
			for i, m := range msgs {
				if m.Accepted != tt.accepted[i] {
					t.Errorf("message %d accepted = %v, want %v (errors %v)", i+1, m.Accepted, tt.accepted[i], m.Errors)
				}
			}
			ack, err := Acknowledge(rep, AckOptions{Always: true, Now: fixedNow})
			if err != nil {
				t.Fatalf("Acknowledge: %v", err)
			}
			got := string(ack)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("CONTRL lacks %s:\n%s", w, strings.ReplaceAll(got, "'", "'\n"))
				}
			}
			// The CONTRL itself must be a valid CONTRL.
			acks, _ := decodeAll(t, got)
			if len(acks) != 1 || !acks[0].Accepted {
				t.Errorf("the CONTRL does not decode as one accepted message: %v", acks)
			}
		})
	}
}
