package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// base850 is a valid interchange with one 850; the matrix cases change it
// with string replacements.
const base850 = `ISA*00*          *00*          *ZZ*BAUMARKTNORD   *ZZ*TOOLSUPPLY     *261118*1230*U*00401*000004711*0*P*>~
GS*PO*BAUMARKTNORD*TOOLSUPPLY*20261118*1230*4711*X*004010~
ST*850*0001~
BEG*00*SA*4500012345**20261118~
CUR*BY*EUR~
DTM*002*20261201~
N1*ST*Baumarkt Nord Lager Hamburg*92*ST-HH-01~
N3*Lagerstrasse 5~
N4*Hamburg**20457*DE~
PO1*1*24*EA*12.50*PE*BP*BN-4711*VP*SCR-100*UP*012345678905~
PID*F****Wood screws 4x40~
CTT*1~
AMT*TT*300.00~
SE*12*0001~
GE*1*4711~
IEA*1*000004711~
`

// decodeAll reads input to its end and returns the transactions.
func decodeAll(t *testing.T, input string, opts ...Option) ([]*Transaction, *Decoder, error) {
	t.Helper()
	d := NewDecoder(strings.NewReader(input), opts...)
	var txs []*Transaction
	for {
		tx, err := d.Next()
		if err == io.EOF {
			return txs, d, nil
		}
		if err != nil {
			return txs, d, err
		}
		txs = append(txs, tx)
	}
}

// summarize renders the acknowledgement codes of a report in one line:
// "TA1 001; AK9 R 1/1/0 5; AK5 R 4; AK3 BEG 2 8; AK4 1 353 7".
func summarize(rep *Report) string {
	var parts []string
	for i := range rep.Interchanges {
		ic := &rep.Interchanges[i]
		if ic.NeedsTA1() {
			parts = append(parts, "TA1 "+ic.Note.Value())
		}
		if ic.Rejected {
			continue
		}
		for _, g := range ic.Groups {
			s := fmt.Sprintf("AK9 %s %d/%d/%d", g.Status, g.Declared, g.Received, g.Accepted)
			for _, c := range g.Codes {
				s += " " + c.Value()
			}
			parts = append(parts, s)
			for _, set := range g.Sets {
				s := "AK5 " + set.Status.String()
				for _, c := range set.Codes {
					s += " " + c.Value()
				}
				parts = append(parts, s)
				for _, se := range set.Segments {
					parts = append(parts, fmt.Sprintf("AK3 %s %d %s", se.Tag, se.Position, se.Code.Value()))
					for _, el := range se.Elements {
						pos := fmt.Sprint(el.Position)
						if el.Component > 0 {
							pos += fmt.Sprintf(":%d", el.Component)
						}
						parts = append(parts, fmt.Sprintf("AK4 %s %d %s", pos, el.Ref, el.Code.Value()))
					}
				}
			}
		}
	}
	return strings.Join(parts, "; ")
}

type edit struct{ old, new string }

func apply(s string, edits ...edit) string {
	for _, e := range edits {
		if !strings.Contains(s, e.old) {
			panic("test edit does not apply: " + e.old)
		}
		s = strings.Replace(s, e.old, e.new, 1)
	}
	return s
}

const (
	isaFields = "ISA*00*          *00*          *ZZ*BAUMARKTNORD   *ZZ*TOOLSUPPLY     *261118*1230*U*00401*000004711*0*P*>~"
	seg850End = "SE*12*0001~"
)

func TestEnvelopeMatrix(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		input string // instead of edits
		opts  []Option
		want  string
		fatal error // the error Next ends with, when not io.EOF
		noAck bool  // the ISA cannot be answered (no sender or receiver to address)
	}{
		{name: "valid", want: "AK9 A 1/1/1; AK5 A"},
		{name: "ack requested", edits: []edit{{"*0*P*>~", "*1*P*>~"}}, want: "TA1 000; AK9 A 1/1/1; AK5 A"},
		// TA1 interchange notes
		{name: "TA1 001 IEA02 differs", edits: []edit{{"IEA*1*000004711", "IEA*1*000004712"}}, want: "TA1 001; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 003 version not supported", edits: []edit{{"*U*00401*", "*U*00100*"}}, want: "TA1 003"},
		{name: "TA1 004 invalid terminator", edits: []edit{{"*0*P*>~\nGS", "*0*P*>QGS"}}, want: "TA1 004", fatal: ErrSeparators},
		{name: "TA1 005 sender qualifier", edits: []edit{{"*ZZ*BAUMARKTNORD", "*XX*BAUMARKTNORD"}}, want: "TA1 005"},
		{name: "TA1 006 sender not padded", edits: []edit{{"BAUMARKTNORD   *", "BAUMARKTNORD*"}}, want: "TA1 006"},
		{name: "TA1 007 receiver qualifier", edits: []edit{{"*ZZ*TOOLSUPPLY", "*X*TOOLSUPPLY"}}, want: "TA1 007"},
		{name: "TA1 008 receiver blank", edits: []edit{{"TOOLSUPPLY     *261118", "               *261118"}}, want: "TA1 008", noAck: true},
		{name: "TA1 010 authorization qualifier", edits: []edit{{"ISA*00*", "ISA*99*"}}, want: "TA1 010"},
		{name: "TA1 011 authorization information width", edits: []edit{{"ISA*00*          *", "ISA*00*         *"}}, want: "TA1 011"},
		{name: "TA1 012 security qualifier", edits: []edit{{"*00*          *ZZ", "*02*          *ZZ"}}, want: "TA1 012"},
		{name: "TA1 014 date", edits: []edit{{"*261118*1230*U", "*261318*1230*U"}}, want: "TA1 014"},
		{name: "TA1 015 time", edits: []edit{{"*261118*1230*U", "*261118*2561*U"}}, want: "TA1 015"},
		{name: "TA1 016 standards identifier", edits: []edit{{"*1230*U*", "*1230*X*"}}, want: "TA1 016"},
		{name: "TA1 017 version", edits: []edit{{"*U*00401*", "*U*0040A*"}}, want: "TA1 017"},
		{name: "TA1 018 control number", edits: []edit{{"*00401*000004711*", "*00401*00000471A*"}}, want: "TA1 018"},
		{name: "TA1 018 IEA02 not a control number", edits: []edit{{"IEA*1*000004711", "IEA*1*4711"}}, want: "TA1 018; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 019 ack requested", edits: []edit{{"*0*P*>~", "*2*P*>~"}}, want: "TA1 019"},
		{name: "TA1 020 test indicator", edits: []edit{{"*0*P*>~", "*0*X*>~"}}, want: "TA1 020"},
		{name: "TA1 021 group count", edits: []edit{{"IEA*1*", "IEA*2*"}}, want: "TA1 021; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 022 GE without GS", edits: []edit{{"GE*1*4711~\n", "GE*1*4711~\nGE*1*4711~\n"}}, want: "TA1 022; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 023 no IEA", edits: []edit{{"IEA*1*000004711~\n", ""}}, want: "TA1 023; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 023 input ends in the set", edits: []edit{{"SE*12*0001~\nGE*1*4711~\nIEA*1*000004711~\n", ""}},
			want: "TA1 023; AK9 R 0/0/0 3; AK5 R 2"},
		{name: "TA1 024 segment outside a set", edits: []edit{{"GE*1*4711~", "GE*1*4711~\nMSG*stray~"}}, want: "TA1 024; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 024 invalid GS date", edits: []edit{{"*20261118*1230*4711*", "*20261318*1230*4711*"}}, want: "TA1 024; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 025 duplicate interchange", input: base850 + base850, opts: []Option{RejectDuplicates()},
			want: "AK9 A 1/1/1; AK5 A; TA1 025"},
		{name: "duplicate interchange flagged only", input: base850 + base850, want: "AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A"},
		{name: "TA1 026 element separator", input: strings.ReplaceAll(isaFields, "*", " ") + "\n", want: "TA1 026", fatal: ErrSeparators, noAck: true},
		{name: "TA1 027 component separator", edits: []edit{{"*0*P*>~", "*0*P**~"}}, want: "TA1 027", fatal: ErrSeparators},
		{name: "TA1 027 ISA16 missing", input: strings.ReplaceAll(strings.Replace(base850, "*0*P*>~\n", "*0*P*~\n", 1), "~\n", "~\n"),
			want: "TA1 027"},
		// AK9 group codes
		{name: "AK9 1 functional identifier", edits: []edit{{"GS*PO*", "GS*P*"}}, want: "AK9 R 1/1/1 1; AK5 A"},
		{name: "AK9 2 version", edits: []edit{{"*X*004010~", "*X*ABC~"}}, want: "AK9 R 1/1/1 2; AK5 A"},
		{name: "AK9 3 no GE", edits: []edit{{"GE*1*4711~\n", ""}}, want: "AK9 R 0/1/1 3; AK5 A"},
		{name: "AK9 4 GE02 differs", edits: []edit{{"GE*1*4711", "GE*1*4712"}}, want: "AK9 R 1/1/1 4; AK5 A"},
		{name: "AK9 5 GE01 differs", edits: []edit{{"GE*1*4711", "GE*2*4711"}}, want: "AK9 R 2/1/1 5; AK5 A"},
		{name: "AK9 6 GS06 syntax", edits: []edit{{"*1230*4711*X", "*1230*47A1*X"}, {"GE*1*4711", "GE*1*47A1"}}, want: "AK9 R 1/1/1 6; AK5 A"},
		{name: "AK9 19 duplicate group", opts: []Option{RejectDuplicates()},
			edits: []edit{{"GE*1*4711~\n", "GE*1*4711~\nGS*PO*BAUMARKTNORD*TOOLSUPPLY*20261118*1230*4711*X*004010~\nGE*0*4711~\n"}, {"IEA*1*", "IEA*2*"}},
			want:  "AK9 A 1/1/1; AK5 A; AK9 R 0/0/0 19"},
		{name: "AK9 P partly accepted", edits: []edit{{"GE*1*4711", "ST*850*0002~\nSE*2*0002~\nGE*2*4711"}},
			want: "AK9 P 2/2/1; AK5 A; AK5 R 5; AK3 BEG 1 3; AK3 PO1 1 3"},
		// AK5 set codes
		{name: "AK5 1 not supported", opts: []Option{SupportedSets("855")}, want: "AK9 R 1/1/0; AK5 R 1"},
		{name: "AK5 2 no SE", edits: []edit{{seg850End + "\n", ""}}, want: "AK9 R 1/0/0; AK5 R 2"},
		{name: "AK5 3 SE02 differs", edits: []edit{{seg850End, "SE*12*0002~"}}, want: "AK9 R 1/1/0; AK5 R 3"},
		{name: "AK5 4 SE01 differs", edits: []edit{{seg850End, "SE*13*0001~"}}, want: "AK9 R 1/1/0; AK5 R 4"},
		{name: "AK5 6 set identifier", edits: []edit{{"ST*850*", "ST*85A*"}}, want: "AK9 R 1/1/0; AK5 R 6"},
		{name: "AK5 7 control number", edits: []edit{{"ST*850*0001", "ST*850*001"}, {seg850End, "SE*12*001~"}}, want: "AK9 R 1/1/0; AK5 R 7"},
		{name: "AK5 23 duplicate set", opts: []Option{RejectDuplicates()},
			edits: []edit{{"GE*1*4711", "ST*850*0001~\nBEG*00*SA*1**20261118~\nPO1*1*1*EA~\nPID*F****X~\nSE*5*0001~\nGE*2*4711"}},
			want:  "AK9 P 2/2/1; AK5 A; AK5 R 23"},
		{name: "duplicate set flagged only",
			edits: []edit{{"GE*1*4711", "ST*850*0001~\nBEG*00*SA*1**20261118~\nPO1*1*1*EA~\nPID*F****X~\nSE*5*0001~\nGE*2*4711"}},
			want:  "AK9 A 2/2/2; AK5 A; AK5 A"},
		// AK3 segment codes
		{name: "AK3 1 unrecognized", edits: []edit{{"CUR*BY*EUR~", "CUR*BY*EUR~\nXYZ*1~"}, {seg850End, "SE*13*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 XYZ 4 1"},
		{name: "AK3 2 unexpected", edits: []edit{{"CUR*BY*EUR~", "CUR*BY*EUR~\nLQ*1*X~"}, {seg850End, "SE*13*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 LQ 4 2"},
		{name: "AK3 3 mandatory missing", edits: []edit{{"BEG*00*SA*4500012345**20261118~\n", ""}, {seg850End, "SE*11*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 1 3"},
		{name: "AK3 4 loop over max", edits: []edit{{"AMT*TT*300.00~", "AMT*TT*300.00~\nCTT*1~"}, {seg850End, "SE*13*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 CTT 12 4"},
		{name: "AK3 5 exceeds max use", edits: []edit{{"CUR*BY*EUR~", "CUR*BY*EUR~\nCUR*SE*EUR~"}, {seg850End, "SE*13*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 CUR 4 5"},
		{name: "AK3 6 not in set", edits: []edit{{"CUR*BY*EUR~", "CUR*BY*EUR~\nBAK*00*AT*1*20261118~"}, {seg850End, "SE*13*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BAK 4 6"},
		{name: "AK3 7 out of sequence", edits: []edit{{"DTM*002*20261201~", "DTM*002*20261201~\nBEG*00*SA*1**20261118~"}, {seg850End, "SE*13*0001~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 5 7"},
		// AK3 8 with each AK4 code the 850 dictionary raises
		{name: "AK4 1 mandatory element", edits: []edit{{"BEG*00*SA*4500012345**", "BEG*00*SA***"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 2 8; AK4 3 324 1"},
		{name: "AK4 2 conditional element", edits: []edit{{"*92*ST-HH-01~", "*92~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 N1 5 8; AK4 4 67 2"},
		{name: "AK4 3 too many elements", edits: []edit{{"AMT*TT*300.00~", "AMT*TT*300.00*C*X~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 AMT 11 8; AK4 4 0 3"},
		{name: "AK4 4 too short", edits: []edit{{"N4*Hamburg*", "N4*H*"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 N4 7 8; AK4 1 19 4"},
		{name: "AK4 5 too long", edits: []edit{{"*SA*4500012345*", "*SA*45000123451234567890123*"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 2 8; AK4 3 324 5"},
		{name: "AK4 6 invalid character", edits: []edit{{"PO1*1*24*", "PO1*1*2X*"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 PO1 8 8; AK4 2 330 6"},
		{name: "AK4 7 invalid code", edits: []edit{{"BEG*00*", "BEG*99*"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 2 8; AK4 1 353 7"},
		{name: "AK4 7 invalid currency", edits: []edit{{"CUR*BY*EUR", "CUR*BY*EUX"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 CUR 3 8; AK4 2 100 7"},
		{name: "AK4 8 invalid date", edits: []edit{{"**20261118~", "**20261332~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 2 8; AK4 5 373 8"},
		{name: "AK4 9 invalid time", edits: []edit{{"DTM*002*20261201~", "DTM*002*20261201*2561~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 DTM 4 8; AK4 3 337 9"},
		{name: "AK4 10 exclusion (5010 N4)", edits: []edit{{"*X*004010~", "*X*005010~"}, {"N4*Hamburg**20457*DE~", "N4*Hamburg*HH*20457*DE***HH~"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 N4 7 8; AK4 7 1715 10"},
		{name: "AK4 13 component in a simple element", edits: []edit{{"PO1*1*24*", "PO1*1*24>5*"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 PO1 8 8; AK4 2:2 330 13"},
		{name: "AK4 codes together", edits: []edit{{"BEG*00*SA*4500012345**20261118", "BEG*99*SA***20261332"}},
			want: "AK9 R 1/1/0; AK5 R 5; AK3 BEG 2 8; AK4 1 353 7; AK4 3 324 1; AK4 5 373 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input
			if input == "" {
				input = apply(base850, tt.edits...)
			}
			_, d, err := decodeAll(t, input, tt.opts...)
			if tt.fatal != nil {
				if !errors.Is(err, tt.fatal) {
					t.Errorf("decoding ended with %v, want %v", err, tt.fatal)
				}
			} else if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if got := summarize(d.Report()); got != tt.want {
				t.Errorf("codes:\n got %s\nwant %s", got, tt.want)
			}
			_, err = Acknowledge(d.Report(), AckOptions{})
			if tt.noAck != (err != nil) {
				t.Errorf("Acknowledge: %v, want an error: %v", err, tt.noAck)
			}
		})
	}
	if len(tests) < 30 {
		t.Fatalf("the matrix has %d cases, want at least 30", len(tests))
	}
}

// decodeTrace decodes input and renders, set by set, what a caller sees
// right after Next (segments, verdict, errors), then the report.
func decodeTrace(input []byte, opts ...Option) string {
	d := NewDecoder(bytes.NewReader(input), opts...)
	var b strings.Builder
	for {
		tx, err := d.Next()
		if err != nil {
			fmt.Fprintf(&b, "end: %v\n", err)
			break
		}
		fmt.Fprintf(&b, "set %s %s accepted=%v ic=%d g=%d\n", tx.Type, tx.Envelope.MessageControl, tx.Accepted, tx.Interchange, tx.Group)
		for i := range tx.Segments {
			s := &tx.Segments[i]
			fmt.Fprintf(&b, "  %d/%d@%d %s\n", s.Pos.Index, s.Pos.InMessage, s.Pos.Offset, s.String())
		}
		for _, e := range tx.Errors {
			fmt.Fprintf(&b, "  error: %v\n", e)
		}
	}
	fmt.Fprintf(&b, "report: %s\nerrors: %v\n", summarize(d.Report()), d.Errors())
	return b.String()
}

// TestReuseSegments checks that a Decoder reusing segment memory gives,
// set by set, what the default one gives, on the corpus and the fuzz
// seeds, and that a set over the size limit does not grow its slabs.
// decoderInputs are the X12 files of testdata and the shared corpus (when
// it is there), the base 850, and sets cut off by the next ST.
func decoderInputs(t *testing.T) [][]byte {
	t.Helper()
	var inputs [][]byte
	dirs := []string{"testdata"}
	_, here, _, _ := runtime.Caller(0)
	if corpus := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "corpus"); dirExists(corpus) {
		dirs = append(dirs, corpus)
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(data, []byte("ISA")) {
				inputs = append(inputs, data)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	inputs = append(inputs, []byte(base850))
	// Sets cut off by the next ST: the ST read while closing a set is
	// kept by the next one.
	var cut strings.Builder
	cut.WriteString(base850[:strings.Index(base850, "ST*")])
	for i := range 3 {
		fmt.Fprintf(&cut, "ST*850*000%d~\nBEG*00*SA*%d**20261118~\n", i+1, i)
		for j := range 300 {
			fmt.Fprintf(&cut, "PO1*%d*5*EA*1.25**BP*X%d*VP*Y~\n", j, i)
		}
	}
	cut.WriteString("SE*302*0003~\nGE*3*4711~\nIEA*1*000004711~\n")
	inputs = append(inputs, []byte(cut.String()))
	return inputs
}

func TestReuseSegments(t *testing.T) {
	inputs := decoderInputs(t)
	for i, in := range inputs {
		for _, opts := range [][]Option{nil, {MaxSetSize(300)}, {CompactReport()}} {
			want := decodeTrace(in, opts...)
			got := decodeTrace(in, append(opts, ReuseSegments())...)
			if got != want {
				t.Errorf("input %d (%d bytes) with ReuseSegments:\n%s\nwant:\n%s", i, len(in), got, want)
			}
		}
	}
	var big strings.Builder
	big.WriteString(base850[:strings.Index(base850, "ST*")])
	big.WriteString("ST*850*0001~\nBEG*00*SA*1**20261118~\n")
	for range 20000 {
		big.WriteString("PO1*1*5*EA*1.25**BP*X*VP*Y~\n")
	}
	big.WriteString("SE*20003*0001~\nGE*1*4711~\nIEA*1*000004711~\n")
	d := NewDecoder(strings.NewReader(big.String()), MaxSetSize(64<<10), ReuseSegments())
	tx, err := d.Next()
	if err != nil || tx.Accepted || tx.Segments != nil {
		t.Fatalf("set over the limit: %v, accepted %v, %d segments", err, tx != nil && tx.Accepted, len(tx.Segments))
	}
	if n := len(d.rd.slabs); n > 2 {
		t.Errorf("a set over the limit grew the slabs to %d", n)
	}
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// TestSizeHint: a Decoder told its input's size, right or wrong, gives
// what one with the default buffer gives, also for a segment longer than
// the hint (the buffer grows).
func TestSizeHint(t *testing.T) {
	inputs := decoderInputs(t)
	long := strings.Replace(base850, "BEG*", "MSG*"+strings.Repeat("x", 5000)+"~\nBEG*", 1)
	inputs = append(inputs, []byte(long))
	for i, in := range inputs {
		want := decodeTrace(in)
		for _, hint := range []int64{1, int64(len(in) / 3), int64(len(in)), int64(len(in)) + 1, 10 * int64(len(in)), 1 << 30} {
			if got := decodeTrace(in, SizeHint(hint)); got != want {
				t.Errorf("input %d (%d bytes) with SizeHint(%d):\n%s\nwant:\n%s", i, len(in), hint, got, want)
			}
			// The slabs of ReuseSegments are sized by the hint too.
			if got := decodeTrace(in, SizeHint(hint), ReuseSegments()); got != want {
				t.Errorf("input %d (%d bytes) with SizeHint(%d) and ReuseSegments:\n%s\nwant:\n%s", i, len(in), hint, got, want)
			}
		}
	}
}

// TestSizeHintSlabs: with a hint, a new slab holds what the rest of the
// input is likely to need, from 512 to 4,096 values; without one, 4,096.
func TestSizeHintSlabs(t *testing.T) {
	for _, tt := range []struct {
		hint int64
		want int
	}{
		{0, slabSize},
		{1, 2 * slabLow},
		{2500, 881},
		{10000, 2756},
		{1 << 20, slabSize},
	} {
		var opts []Option
		if tt.hint > 0 {
			opts = append(opts, SizeHint(tt.hint))
		}
		if got := newReader(strings.NewReader(""), newConfig(opts)).slabCap(); got != tt.want {
			t.Errorf("SizeHint(%d): slabs of %d values, want %d", tt.hint, got, tt.want)
		}
	}
	// Later slabs are sized by what is left of the input.
	in := []byte(base850)
	r := newReader(bytes.NewReader(in), newConfig([]Option{SizeHint(int64(len(in)) + 4000)}))
	first := r.slabCap()
	for range 5 {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r.slabCap(), first-int(r.Offset())/4; got < want-1 || got > want+1 {
		t.Errorf("after %d bytes read: slabs of %d values, want about %d (%d at the start)", r.Offset(), got, want, first)
	}
}

// TestSizeHintBuffer: the read buffer starts at the hinted size plus
// one, within 512 bytes and 64 KiB.
func TestSizeHintBuffer(t *testing.T) {
	for _, tt := range []struct {
		opts []Option
		want int
	}{
		{nil, chunkSize},
		{[]Option{SizeHint(0)}, chunkSize},
		{[]Option{SizeHint(10)}, isaWindow},
		{[]Option{SizeHint(2500)}, 2501},
		{[]Option{SizeHint(1 << 20)}, chunkSize},
	} {
		if got := len(newReader(strings.NewReader(""), newConfig(tt.opts)).buf); got != tt.want {
			t.Errorf("%d option(s): buffer of %d bytes, want %d", len(tt.opts), got, tt.want)
		}
	}
}
