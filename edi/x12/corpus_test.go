package x12

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusDir returns the shared corpus (../shared/corpus from the
// repository root), skipping the test when it is not there.
func corpusDir(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the shared EDI corpus is not at %s", dir)
	}
	return dir
}

func readCorpus(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCorpus decodes every X12 file of the corpus and checks the codes
// its acknowledgement carries. Where the verdict differs from the source
// project's, the comment says why.
func TestCorpus(t *testing.T) {
	tests := []struct {
		file  string
		want  string
		fatal error
	}{
		// Bots: accepted with AK5 A, including the lenient layouts (LF, CR,
		// NAK terminators, "~ ", 80-column wrapping through the ISA).
		{"bots-plugins/x12/850/850-004010-01.x12", "TA1 000; AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-02.x12", "AK9 A 2/2/2; AK5 A; AK5 A; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-03.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-04.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-05.x12", "TA1 000; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-06.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-07.x12", "TA1 000; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-08.x12", "TA1 000; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-09.x12", "TA1 000; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-10.x12", "AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-11.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010-18.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010.13.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010.14.x12", "AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010.16.x12", "TA1 000; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010.17.x12", "AK9 A 2/2/2; AK5 A; AK5 A; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850-004010VICS-02.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/850/850-02.x12", "AK9 A 4/4/4; AK5 A; AK5 A; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/850/850_01.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/expected-997/997_6.x12", "TA1 000; AK9 A 4/4/4; AK5 A; AK5 A; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/other/810-004010-01.x12", "AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/other/810-004030-01.x12", "AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/other/855-004010UCS-01.x12", "AK9 A 6/6/6; AK5 A; AK5 A; AK5 A; AK5 A; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/other/856_1.x12", "TA1 000; AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/other/856_PARTNER2_plus_apostrophe.x12", "TA1 000; AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"bots-plugins/x12/other/997-004010VICS-01.x12", "AK9 A 1/1/1; AK5 A", nil},
		{"bots-plugins/x12/other/simplemailbag.x12", "AK9 A 1/1/1; AK5 A", nil},
		// EDI.Net: lenient files. The BOM and NBSP padding are read; the
		// IEA02 of x12.850.edi really differs from its ISA13; unpadded or
		// mis-padded ISA fields are TA1 errors; issue135 lacks ISA16.
		{"edi-net/x12/x12.810a.edi", "TA1 011", nil},
		{"edi-net/x12/x12.850.edi", "TA1 001; AK9 A 1/1/1; AK5 A", nil},
		{"edi-net/x12/x12.850.issue135.edi", "TA1 027", nil},
		{"edi-net/x12/x12.850a.edi", "TA1 008", nil},
		// imsweb: its 837 test files carry SE01 25 for 34 segments, and
		// GE01/IEA01 counts that do not match; its parser does not check
		// them, we do. x12_999_accepted has GS05 102497 (97 seconds) and an
		// IEA02 that differs from ISA13.
		{"imsweb-x12-parser/x12/x12_999_accepted.txt", "TA1 024; AK9 A 1/1/1; AK5 A", nil},
		{"imsweb-x12-parser/x12/x12_999_rejected.txt", "AK9 A 1/1/1; AK5 A", nil},
		{"imsweb-x12-parser/x12/x12_bad_first_line.txt", "TA1 011", nil},
		{"imsweb-x12-parser/x12/x12_multiple_gs.txt", "TA1 021; AK9 R 1/1/0; AK5 R 4; AK9 R 1/1/0; AK5 R 4; AK9 R 1/1/0; AK5 R 4", nil},
		{"imsweb-x12-parser/x12/x12_multiple_isa.txt", "TA1 000; AK9 R 1/1/0; AK5 R 4; TA1 000; AK9 R 1/1/0; AK5 R 4", nil},
		{"imsweb-x12-parser/x12/x12_multiple_st.txt", "TA1 000; AK9 R 1/2/0 5; AK5 R 4; AK5 R 4", nil},
		{"imsweb-x12-parser/x12/x12_no_isa_line.txt", "", ErrNoInterchange},
		{"imsweb-x12-parser/x12/x12_valid_different_separators.txt", "TA1 000; AK9 R 1/1/0; AK5 R 4", nil},
		// node-x12
		{"node-x12/x12/850.edi", "AK9 A 1/1/1; AK5 A", nil},
		{"node-x12/x12/850_2.edi", "AK9 A 1/1/1; AK5 A", nil},
		{"node-x12/x12/850_3.edi", "AK9 A 1/1/1; AK5 A", nil},
		{"node-x12/x12/850_fat.edi", "AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A", nil},
		{"node-x12/x12/855.edi", "AK9 A 1/1/1; AK5 A", nil},
		{"node-x12/x12/856.edi", "AK9 A 1/1/1; AK5 A", nil},
		// pyx12 (837/278/835 bodies are checked for their envelope only;
		// see TestCorpusAcks for the comparison with pyx12's 997s).
		{"pyx12/x12/834_ls_le_ls.txt", "AK9 A 1/1/1; AK5 A", nil},
		{"pyx12/x12/explicit_missing.txt", "TA1 023; AK9 R 0/0/0 3; AK5 R 2", nil},
		{"pyx12/x12/fail_no_IEA.txt", "TA1 023; AK9 R 1/1/0; AK5 R 4", nil},
		{"pyx12/x12/simple1.txt", "AK9 A 1/1/1; AK5 A", nil},
		{"pyx12/x12/trailer_errors.txt", "TA1 018; AK9 R 2/2/1 4; AK5 R 4; AK5 A", nil},
		{"pyx12/x12/mult_trn.txt", "AK9 A 3/3/3; AK5 A; AK5 A; AK5 A; AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A", nil},
		// StAEDI: the 997/999 dictionary finds what StAEDI's tests assert:
		// invalid999 IK5 unexpected at 4 (our position 2 counts from ST),
		// AK101 too long, AK2 too many elements, IK501 invalid code, IK5
		// over its max use; invalid997 AK402 invalid and too long.
		{"staedi/x12/empty997.edi", "AK9 R 1/1/0; AK5 R 5; AK3 AK1 1 3; AK3 AK9 1 3", nil},
		{"staedi/x12/invalid997.edi", "AK9 R 1/1/0; AK5 R 5; AK3 AK1 2 8; AK4 1 479 5; AK3 AK4 5 8; AK4 2 725 6; AK4 2 725 5", nil},
		{"staedi/x12/invalid997_min.edi", "TA1 024; AK9 R 1/1/0 4; AK5 R 5; AK3 AK1 2 8; AK4 1 479 5", nil},
		{"staedi/x12/invalid999.edi", "AK9 R 1/1/0; AK5 R 4 5; AK3 IK5 2 2; AK3 AK1 3 8; AK4 1 479 5; AK3 AK2 4 8; AK4 4 0 3; AK3 IK5 5 8; AK4 1 717 7; AK3 IK5 6 5; AK3 CTX 14 8; AK4 1 0 12", nil},
		// The 850 of the dual file has N103 92 without N104 (P0304).
		{"staedi/x12/invoice810_po850_dual.edi", "AK9 A 2/2/2; AK5 A; AK5 A; AK9 R 1/1/0; AK5 R 5; AK3 N1 9 8; AK4 4 67 2", nil},
		{"staedi/x12/multi-tx-855.edi", "AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"staedi/x12/optionalInterchangeServices.edi", "AK9 A 1/1/1; AK5 A", nil},
		{"staedi/x12/simple810.edi", "AK9 A 2/2/2; AK5 A; AK5 A", nil},
		{"staedi/x12/simple997-multiple-interchanges.edi", "AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A; AK9 A 1/1/1; AK5 A", nil},
		{"staedi/x12/simple997.edi", "AK9 A 1/1/1; AK5 A", nil},
		// extraDelimiter997 and simple999 repeat elements that do not
		// repeat in 997/999 (AK302, AK304, AK404, CTX01): StAEDI's own
		// schema allows it, the X12 dictionary does not.
		{"staedi/x12/extraDelimiter997.edi", "AK9 R 1/1/0; AK5 R 5; AK3 AK3 4 8; AK4 2 719 12; AK4 2 719 6; AK4 2 719 5; AK4 4 720 12; AK4 4 720 5; AK3 AK4 5 8; AK4 4 724 12; AK4 4:2 724 13", nil},
		{"staedi/x12/simple999.edi", "AK9 R 1/1/0; AK5 R 5; AK3 CTX 12 8; AK4 1 0 12", nil},
		{"staedi/x12/ts210_80char.edi", "AK9 A 1/1/1; AK5 A", nil},
		{"staedi/x12/ts214_ellipses_segterm.edi", "AK9 A 1/1/1; AK5 A", nil},
		// A TA1-only interchange whose IEA01 counts the TA1: IEA01 counts
		// functional groups, so 0 is right.
		{"staedi/x12/x12_interchange_ack_ta1.txt", "TA1 021", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, d, err := decodeAll(t, readCorpus(t, tt.file))
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
		})
	}
}

// ackTokens lists the code-bearing segments of an acknowledgement, one
// string each ("AK5 R 4 5", "TA1 R 023"), leaving out dates and control
// numbers.
func ackTokens(t *testing.T, ack string) []string {
	t.Helper()
	r := NewReader(strings.NewReader(ack))
	var out []string
	for {
		s, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading the acknowledgement: %v", err)
		}
		var f []string
		switch s.Tag {
		case "TA1":
			f = []string{s.Value(4), s.Value(5)}
		case "AK1", "AK2":
			f = []string{s.Value(1), s.Value(2)}
		case "AK3", "IK3":
			f = []string{s.Value(1), s.Value(2), s.Value(4)}
		case "AK4", "IK4":
			f = []string{s.Component(1, 1), s.Value(2), s.Value(3)}
		case "AK5", "IK5", "AK9":
			for i := 1; i <= s.Len(); i++ {
				f = append(f, s.Value(i))
			}
		default:
			continue
		}
		tag := strings.Replace(s.Tag, "IK", "AK", 1)
		out = append(out, tag+" "+strings.Join(f, " "))
	}
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC) }

func ourAck(t *testing.T, file string, kind AckKind) string {
	t.Helper()
	ack, err := AcknowledgeReader(strings.NewReader(readCorpus(t, file)), AckOptions{Kind: kind, Now: fixedNow})
	if err != nil {
		t.Fatalf("acknowledging %s: %v", file, err)
	}
	return string(ack)
}

// groupBlocks cuts tokens into one block per AK1..AK9 and the TA1s.
func groupBlocks(tokens []string) (blocks, ta1 []string) {
	var cur []string
	for _, tok := range tokens {
		switch {
		case strings.HasPrefix(tok, "TA1"):
			ta1 = append(ta1, tok)
		case strings.HasPrefix(tok, "AK1"):
			cur = []string{tok}
		case strings.HasPrefix(tok, "AK9"):
			blocks = append(blocks, strings.Join(append(cur, tok), " | "))
			cur = nil
		default:
			cur = append(cur, tok)
		}
	}
	return blocks, ta1
}

// TestCorpusAcks compares our acknowledgements with the ones the corpus
// expects, code by code (dates and control numbers masked).
func TestCorpusAcks(t *testing.T) {
	t.Run("bots", func(t *testing.T) {
		// Bots answered each input group with AK5 A and AK9 A; it merges
		// the groups of several inputs into one 997 interchange per
		// partner pair, so every block of ours must be one of the blocks
		// of the paired 997 files.
		pairs := map[string][]string{
			"850-004010-01.x12": {"997_14.x12"}, "850-004010-02.x12": {"997_6.x12"}, "850-004010-04.x12": {"997_2.x12"},
			"850-004010-05.x12": {"997_8.x12"}, "850-004010-06.x12": {"997_1.x12"}, "850-004010-07.x12": {"997_8.x12"},
			"850-004010-10.x12": {"997_7.x12"}, "850-004010-11.x12": {"997_11.x12"}, "850-004010-18.x12": {"997_13.x12"},
			"850-004010.13.x12": {"997_10.x12"}, "850-004010.14.x12": {"997_11.x12", "997_12.x12"},
			"850-004010.17.x12": {"997_6.x12"}, "850-004010VICS-02.x12": {"997_13.x12"}, "850-02.x12": {"997_3.x12"},
			"850_01.x12": {"997_5.x12"},
		}
		for in, exp := range pairs {
			var want []string
			for _, e := range exp {
				b, _ := groupBlocks(ackTokens(t, readCorpus(t, "bots-plugins/x12/expected-997/"+e)))
				want = append(want, b...)
			}
			got, _ := groupBlocks(ackTokens(t, ourAck(t, "bots-plugins/x12/850/"+in, Ack997)))
			if len(got) == 0 {
				t.Errorf("%s: our acknowledgement has no AK1..AK9 block", in)
			}
			for _, b := range got {
				if !slices.Contains(want, b) {
					t.Errorf("%s: our block\n  %s\nis not among the expected\n  %s", in, b, strings.Join(want, "\n  "))
				}
			}
		}
	})
	t.Run("pyx12", func(t *testing.T) {
		// pyx12 checks 837/278/835 bodies against HIPAA implementation
		// guides, which the dictionary does not hold: its AK3s, the AK5
		// code 5 and the statuses and accepted counts that follow from
		// them are left out; everything the envelope decides (TA1, AK1,
		// AK2, the other AK5 codes, AK9 included/received counts and
		// codes) must be the same.
		norm := func(tokens []string) []string {
			var out []string
			for _, tok := range tokens {
				f := strings.Fields(tok)
				switch f[0] {
				case "AK3", "AK4":
					continue
				case "AK5":
					codes := slices.DeleteFunc(f[2:], func(c string) bool { return c == "5" })
					status := "A"
					if len(codes) > 0 {
						status = "R"
					}
					tok = strings.Join(append([]string{"AK5", status}, codes...), " ")
				case "AK9":
					tok = strings.Join(append([]string{"AK9", f[2], f[3]}, f[5:]...), " ")
				}
				out = append(out, tok)
			}
			return out
		}
		for _, name := range []string{"simple1", "fail_no_IEA", "explicit_missing", "trailer_errors", "mult_isa", "mult_trn"} {
			want := norm(ackTokens(t, readCorpus(t, "pyx12/expected-997/"+name+".997.base")))
			got := norm(ackTokens(t, ourAck(t, "pyx12/x12/"+name+".txt", Ack997)))
			// pyx12 writes the TA1 after the groups; we write it after the
			// ISA, where X12 puts it. Compare as sets of lines in order
			// apart from the TA1.
			gb, gt := groupBlocks(got)
			wb, wt := groupBlocks(want)
			if !slices.Equal(gb, wb) || !slices.Equal(gt, wt) {
				t.Errorf("%s:\n got %q %q\nwant %q %q", name, gt, gb, wt, wb)
			}
		}
	})
	t.Run("pyx12 999", func(t *testing.T) {
		want := ackTokens(t, readCorpus(t, "pyx12/expected-999/834_ls_le_ls_5010.999.txt"))
		got := ackTokens(t, ourAck(t, "pyx12/x12/834_ls_le_ls.txt", Ack999))
		if !slices.Equal(got, want) {
			t.Errorf("999:\n got %q\nwant %q", got, want)
		}
	})
}
