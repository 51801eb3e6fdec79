package edifact

import (
	"strings"
	"testing"
)

// TestD01BDifferences checks the D96A -> D01B changes of the ORDERS
// segments: each value is valid in D01B and invalid in D96A (or the other
// way round), with the code a CONTRL would report.
func TestD01BDifferences(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	tests := []struct {
		name     string
		segment  string // replaces "QTY+21:5:PCE'"
		d96aCode ErrorCode
		d01bCode ErrorCode // 0: no error
	}{
		{"QTY 6060 alphanumeric", "QTY+21:5 PCS'", CodeInvalidCharType, 0},
		{"QTY 6060 35 characters", "QTY+21:" + long(35, "7") + "'", CodeTooLong, 0},
		{"QTY 6060 36 characters", "QTY+21:" + long(36, "7") + "'", CodeTooLong, CodeTooLong},
		{"MOA 5004 30 digits", "QTY+21:5'MOA+203:" + long(30, "1") + "'", CodeTooLong, 0},
		{"MOA 5004 not numeric", "QTY+21:5'MOA+203:12A'", CodeInvalidCharType, CodeInvalidCharType},
		{"PRI 5118 16 digits", "QTY+21:5'PRI+AAA:" + long(16, "1") + "'", CodeTooLong, CodeTooLong},
		{"FTX 4440 100 characters", "QTY+21:5'FTX+AAI+++" + long(100, "x") + "'", CodeTooLong, 0},
		{"FTX 4447", "QTY+21:5'FTX+AAI+++note+EN+1'", CodeTooManyConstituents, 0},
		{"FTX 4441 an..3 in D96A", "QTY+21:5'FTX+AAI++ABCD'", CodeTooLong, 0},
		{"RFF 1154 50 characters", "QTY+21:5'RFF+ON:" + long(50, "R") + "'", CodeTooLong, 0},
		{"RFF 1060", "QTY+21:5'RFF+ON:1:2:3:4'", CodeTooManyConstituents, 0},
		{"PIA 1131 an..17", "PIA+1+ABC:SA:" + long(10, "L") + ":9'QTY+21:5'", CodeTooLong, 0},
		{"LIN 1082 an..6", "QTY+21:5'LIN+2A++4000000000024:EN'QTY+21:1'", CodeInvalidCharType, 0},
	}
	for _, tt := range tests {
		for _, v := range []struct {
			version string
			want    ErrorCode
		}{{"96A", tt.d96aCode}, {"01B", tt.d01bCode}} {
			t.Run(tt.name+" D"+v.version, func(t *testing.T) {
				in := strings.NewReplacer("ORDERS:D:96A:UN:EAN008", "ORDERS:D:"+v.version+":UN:EAN010", "QTY+21:5:PCE'", tt.segment).Replace(baseInterchange)
				// the UNT count follows the segments added
				n := strings.Count(in[strings.Index(in, "UNH"):strings.Index(in, "UNZ")], "'")
				in = strings.Replace(in, "UNT+9+M1'", "UNT+"+itoa(n)+"+M1'", 1)
				msgs, _ := decodeAll(t, in)
				if len(msgs) != 1 {
					t.Fatalf("%d messages, want 1", len(msgs))
				}
				m := msgs[0]
				if v.want == 0 {
					if !m.Accepted || len(m.Errors) > 0 {
						t.Errorf("rejected: %v", m.Errors)
					}
					return
				}
				if m.Accepted || !hasErrorCode(m.Errors, v.want) {
					t.Errorf("accepted %v, errors %v; want code %d", m.Accepted, m.Errors, v.want)
				}
			})
		}
	}
}

func hasErrorCode(errs []error, c ErrorCode) bool {
	for _, err := range errs {
		if se, ok := err.(*SyntaxError); ok && se.Code == c {
			return true
		}
	}
	return false
}

// TestKeyCodeLists: the ORDERS key code lists (1001, 1225, 2005, 3035,
// 3055) are checked per directory, with CONTRL code 12 for a value not in
// the list; "" as want means accepted.
func TestKeyCodeLists(t *testing.T) {
	tests := []struct {
		name, from, to string
		d96a, d01b     ErrorCode
	}{
		{"1001 order", "BGM+220+", "BGM+220+", 0, 0},
		{"1001 blanket", "BGM+220+", "BGM+221+", 0, 0},
		{"1001 EAN008 cross docking (not in EAN010)", "BGM+220+", "BGM+50E+", 0, CodeInvalidValue},
		{"1001 EAN010 manufacturer raised consignment", "BGM+220+", "BGM+23E+", CodeInvalidValue, 0},
		{"1001 EAN010 cross docking", "BGM+220+", "BGM+402+", CodeInvalidValue, 0},
		{"1001 not a code", "BGM+220+", "BGM+XYZ+", CodeInvalidValue, CodeInvalidValue},
		{"1001 gap of D96A", "BGM+220+", "BGM+102+", CodeInvalidValue, 0},
		{"1225 original", "PO1+9'", "PO1+9'", 0, 0},
		{"1225 54", "PO1+9'", "PO1+54'", 0, 0},
		{"1225 55 (D97A on)", "PO1+9'", "PO1+55'", CodeInvalidValue, 0},
		{"1225 77", "PO1+9'", "PO1+77'", CodeInvalidValue, CodeInvalidValue},
		{"1225 letters", "PO1+9'", "PO1+X'", CodeInvalidValue, CodeInvalidValue},
		{"2005 document date", "DTM+137:", "DTM+137:", 0, 0},
		{"2005 ZZZ", "DTM+137:", "DTM+ZZZ:", 0, 0},
		{"2005 217 (D97A on)", "DTM+137:", "DTM+217:", CodeInvalidValue, 0},
		{"2005 not a code", "DTM+137:", "DTM+AB:", CodeInvalidValue, CodeInvalidValue},
		{"3035 buyer", "NAD+BY+", "NAD+BY+", 0, 0},
		{"3035 ultimate consignee", "NAD+BY+", "NAD+UC+", 0, 0},
		{"3035 AS (D97A on)", "NAD+BY+", "NAD+AS+", CodeInvalidValue, 0},
		{"3035 not a code", "NAD+BY+", "NAD+Q9+", CodeInvalidValue, CodeInvalidValue},
		{"3055 GS1", "::9'", "::9'", 0, 0},
		{"3055 DUNS", "::9'", "::16'", 0, 0},
		{"3055 72 (D97A on)", "::9'", "::72'", CodeInvalidValue, 0},
		{"3055 not a code", "::9'", "::9X'", CodeInvalidValue, CodeInvalidValue},
	}
	for _, tt := range tests {
		for _, v := range []struct {
			version string
			want    ErrorCode
		}{{"96A", tt.d96a}, {"01B", tt.d01b}} {
			t.Run(tt.name+" D"+v.version, func(t *testing.T) {
				in := strings.Replace(baseInterchange, tt.from, tt.to, 1)
				in = strings.Replace(in, "ORDERS:D:96A:UN:EAN008", "ORDERS:D:"+v.version+":UN", 1)
				msgs, _ := decodeAll(t, in)
				if len(msgs) != 1 {
					t.Fatalf("%d messages, want 1", len(msgs))
				}
				m := msgs[0]
				if v.want == 0 {
					if !m.Accepted || len(m.Errors) > 0 {
						t.Errorf("rejected: %v", m.Errors)
					}
					return
				}
				if m.Accepted || !hasErrorCode(m.Errors, v.want) {
					t.Errorf("accepted %v, errors %v; want code %d", m.Accepted, m.Errors, v.want)
				}
			})
		}
	}
	// The CONTRL reports the element with 12.
	in := strings.Replace(baseInterchange, "NAD+BY+", "NAD+Q9+", 1)
	_, rep := decodeAll(t, in)
	got, err := Acknowledge(rep, AckOptions{Always: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "UCS+4'UCD+12+1'") {
		t.Errorf("CONTRL lacks UCS+4'UCD+12+1':\n%s", got)
	}
}
