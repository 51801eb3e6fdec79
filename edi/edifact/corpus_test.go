package edifact

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

type outcome struct {
	accepted  []bool      // per message, in order
	msgCodes  []ErrorCode // each appears in some message's errors
	icCodes   []ErrorCode // each appears among interchange or group errors
	fileCodes []ErrorCode // each appears among the report's file errors
}

// corpusOutcomes is what the gateway decides for each EDIFACT file of the
// shared corpus (see MANIFEST.md for what the sources intend). Since the
// ORDERS key code lists are checked, camel_orders_d96a_unob4.txt also has
// a 12: its NAD C082 3055 "31B" is not in D96A's list 3055 (the message
// was rejected before, for its FTX 4453 with components, 16).
var corpusOutcomes = map[string]outcome{
	"bots-plugins/edifact/orders/one2one_orders01.edi":                  {accepted: []bool{true, true}},
	"bots-plugins/edifact/orders/order03_no_newlines.edi":               {accepted: []bool{true}},
	"bots-plugins/edifact/orders/orders01_two_interchanges.edi":         {accepted: []bool{true, true, true}},
	"bots-plugins/edifact/orders/orders03_linebreak_inside_element.edi": {accepted: []bool{true}},
	"bots-plugins/edifact/orders/orders04.edi":                          {accepted: []bool{true}},
	"bots-plugins/edifact/orders/orders05.edi":                          {accepted: []bool{true}},
	"bots-plugins/edifact/orders/orders96.edi":                          {accepted: []bool{true, true}},
	"bots-plugins/edifact/orders/preprocessing_junk_header.edi":         {accepted: []bool{false}, fileCodes: []ErrorCode{CodeInvalidValue, CodeMissing, CodeNotSupported}},
	"bots-plugins/edifact/other/aperak_generated.edi":                   {accepted: []bool{true}},
	"bots-plugins/edifact/other/desadv_generated.edi":                   {accepted: []bool{true, true, true, true, true, true, true, true}},
	"bots-plugins/edifact/other/invoic_generated.edi":                   {accepted: []bool{true}},
	"edi-net/edifact/edifact.Issue188.edi":                              {accepted: []bool{false, false, false, false}, msgCodes: []ErrorCode{CodeCountMismatch, CodeReferencesMismatch, CodeDuplicate}, icCodes: []ErrorCode{CodeCountMismatch}},
	"edi-net/edifact/edifact.ORDRSP-formatted.edi":                      {accepted: []bool{false}, msgCodes: []ErrorCode{CodeCountMismatch, CodeReferencesMismatch}, icCodes: []ErrorCode{CodeReferencesMismatch}},
	"edi-net/edifact/edifact.ORDRSP.edi":                                {accepted: []bool{false}, msgCodes: []ErrorCode{CodeCountMismatch}, icCodes: []ErrorCode{CodeReferencesMismatch}},
	"go-edilib/edifact/invrpt1_no_envelope.txt":                         {accepted: []bool{false}, fileCodes: []ErrorCode{CodeMissing}},
	"php-edifact/edifact/D96ADESADV.edi":                                {accepted: []bool{true}},
	"php-edifact/edifact/exampleMulti.edi":                              {accepted: []bool{true, true}},
	"php-edifact/edifact/example_multiline.edi":                         {accepted: []bool{false}, icCodes: []ErrorCode{CodeTooShort}},
	"php-edifact/edifact/example_order_error.edi":                       {accepted: []bool{false}, msgCodes: []ErrorCode{CodeTooManyConstituents, CodeTooLong}},
	"php-edifact/edifact/example_order_ok.edi":                          {accepted: []bool{false}, msgCodes: []ErrorCode{CodeTooLong}},
	"php-edifact/edifact/example_release_character.edi":                 {accepted: []bool{false}, msgCodes: []ErrorCode{CodeCountMismatch}},
	"php-edifact/edifact/example_utf8.edi":                              {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"php-edifact/edifact/example_wrapped.edi":                           {accepted: []bool{true}},
	"pydifact/edifact/aperak_rejected_v3.edi":                           {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter, CodeCountMismatch}},
	"pydifact/edifact/aperak_rejected_v4.edi":                           {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"pydifact/edifact/huge_file2_large.edi":                             {accepted: []bool{false}, msgCodes: []ErrorCode{CodeNotSupported}, icCodes: []ErrorCode{CodeMissing}},
	"pydifact/edifact/invoice_with_colon_at_end.edi":                    {accepted: []bool{true}},
	"pydifact/edifact/order.edi":                                        {accepted: []bool{true}, icCodes: []ErrorCode{CodeMissing}},
	"pydifact/edifact/order2.edi":                                       {accepted: []bool{true}, icCodes: []ErrorCode{CodeMissing}},
	"pydifact/edifact/wikipedia_de.edi":                                 {accepted: []bool{true}, icCodes: []ErrorCode{CodeReferencesMismatch}},
	"smooks/edifact/bad-paxlst.txt":                                     {accepted: []bool{false}, msgCodes: []ErrorCode{CodeCountMismatch}},
	"smooks/edifact/invoic_d03b_v4_una_repetition.txt":                  {accepted: []bool{true}},
	"smooks/edifact/recadv_d01b.txt":                                    {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"smooks-examples/edifact/camel_orders_d96a_unob4.txt":               {accepted: []bool{false}, msgCodes: []ErrorCode{CodeTooManyConstituents, CodeInvalidValue}, icCodes: []ErrorCode{CodeMissing}},
	"staedi/edifact/empty-segment-example.edi":                          {accepted: []bool{true}},
	"staedi/edifact/invoic_d93a_una.edi":                                {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"staedi/edifact/invoic_d97b.edi":                                    {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"staedi/edifact/invoic_d97b_bad.edi":                                {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"staedi/edifact/invoic_d97b_una.edi":                                {accepted: []bool{true}},
	"staedi/edifact/orders-with-group.edi":                              {accepted: []bool{false}, msgCodes: []ErrorCode{CodeCountMismatch, CodeTooLong}, icCodes: []ErrorCode{CodeTooManyConstituents}},
	"staedi/edifact/other_dialect_term_segments.edi":                    {accepted: []bool{true}},
	"staedi/edifact/wrapped_invoic_d97b.edi":                            {accepted: []bool{false}, msgCodes: []ErrorCode{CodeInvalidCharacter}},
	"staedi/edifact/wrapped_invoic_d97b_una.edi":                        {accepted: []bool{true}},
}

func hasCode(errs []*SyntaxError, c ErrorCode) bool {
	return slices.ContainsFunc(errs, func(e *SyntaxError) bool { return e.Code == c })
}

func TestCorpusOutcomes(t *testing.T) {
	dir := corpusDir(t)
	seen := 0
	for _, f := range corpusFiles(t) {
		rel, _ := filepath.Rel(dir, f)
		rel = filepath.ToSlash(rel)
		want, ok := corpusOutcomes[rel]
		if !ok {
			t.Errorf("%s: no expected outcome in corpusOutcomes", rel)
			continue
		}
		seen++
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msgs, rep := decodeAll(t, string(data))
			var got []bool
			var msgErrs []*SyntaxError
			for _, m := range msgs {
				got = append(got, m.Accepted)
				for _, e := range m.Errors {
					msgErrs = append(msgErrs, e.(*SyntaxError))
				}
			}
			if !slices.Equal(got, want.accepted) {
				t.Errorf("accepted = %v, want %v; errors: %v", got, want.accepted, msgErrs)
			}
			for _, c := range want.msgCodes {
				if !hasCode(msgErrs, c) {
					t.Errorf("no message error with code %d (%v); got %v", c, c, msgErrs)
				}
			}
			var icErrs []*SyntaxError
			for _, ic := range rep.Interchanges {
				icErrs = append(icErrs, ic.Errors...)
				for _, g := range ic.Groups {
					icErrs = append(icErrs, g.Errors...)
				}
			}
			for _, c := range want.icCodes {
				if !hasCode(icErrs, c) {
					t.Errorf("no interchange error with code %d (%v); got %v", c, c, icErrs)
				}
			}
			if len(want.icCodes) == 0 && len(icErrs) > 0 {
				t.Errorf("unexpected interchange errors %v", icErrs)
			}
			for _, c := range want.fileCodes {
				if !hasCode(rep.Errors, c) {
					t.Errorf("no file error with code %d (%v); got %v", c, c, rep.Errors)
				}
			}
		})
	}
	if seen != len(corpusOutcomes) {
		t.Errorf("found %d of the %d files of corpusOutcomes", seen, len(corpusOutcomes))
	}
}

// TestWrappedReadsAsUnwrapped: files hard-wrapped at a fixed width give
// exactly the segments of the original (staedi's "ignore extraneous
// characters" oracle).
func TestWrappedReadsAsUnwrapped(t *testing.T) {
	dir := corpusDir(t)
	for wrapped, orig := range map[string]string{
		"staedi/edifact/wrapped_invoic_d97b.edi":     "staedi/edifact/invoic_d97b.edi",
		"staedi/edifact/wrapped_invoic_d97b_una.edi": "staedi/edifact/invoic_d97b_una.edi",
	} {
		w, err1 := os.Open(filepath.Join(dir, wrapped))
		o, err2 := os.Open(filepath.Join(dir, orig))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		got, want := readAll(t, w), readAll(t, o)
		w.Close()
		o.Close()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s differs from %s:\n%s\n---\n%s", wrapped, orig, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestCorpusValues(t *testing.T) {
	dir := corpusDir(t)
	first := func(file, tag string, n, c int) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		msgs, rep := decodeAll(t, string(data))
		if tag == "UNB" {
			return rep.Interchanges[0].RecipientID
		}
		for _, s := range msgs[0].Segments {
			if s.Tag == tag {
				return s.Component(n, c)
			}
		}
		return ""
	}
	tests := []struct {
		file, tag string
		n, c      int
		want      string
	}{
		{"staedi/edifact/invoic_d97b_una.edi", "UNB", 0, 0, "006415160"},                               // "006?415160"
		{"bots-plugins/edifact/orders/orders03_linebreak_inside_element.edi", "DTM", 1, 2, "20050819"}, // LF inside
		{"smooks/edifact/invoic_d03b_v4_una_repetition.txt", "IMD", 3, 5, "Collectors edition of The Hobbit with Tolkien's original colours on sleeve"},
		{"edi-net/edifact/edifact.ORDRSP.edi", "COM", 1, 1, "+49 123 45678 8652"},
		{"php-edifact/edifact/example_order_ok.edi", "NAD", 3, 1, ""},
		{"php-edifact/edifact/example_order_ok.edi", "NAD", 4, 1, "A+A K\u00ef\u00bf\u00bdlte GmbH"},
		{"staedi/edifact/invoic_d93a_una.edi", "MOA", 1, 2, "750"},
	}
	for _, tt := range tests {
		if got := first(tt.file, tt.tag, tt.n, tt.c); got != tt.want {
			t.Errorf("%s %s %d:%d = %q, want %q", tt.file, tt.tag, tt.n, tt.c, got, tt.want)
		}
	}
}

// TestCONTRLGolden compares the CONTRL for corpus and crafted inputs with
// testdata/contrl/*.edi (-update rewrites them).
func TestCONTRLGolden(t *testing.T) {
	dir := corpusDir(t)
	inputs := map[string]func() (io.Reader, error){
		"pydifact_order": func() (io.Reader, error) { return os.Open(filepath.Join(dir, "pydifact/edifact/order.edi")) },
		"php_order_error": func() (io.Reader, error) {
			return os.Open(filepath.Join(dir, "php-edifact/edifact/example_order_error.edi"))
		},
		"staedi_group":         func() (io.Reader, error) { return os.Open(filepath.Join(dir, "staedi/edifact/orders-with-group.edi")) },
		"crafted_two_messages": func() (io.Reader, error) { return strings.NewReader(baseInterchange + matrixSecondInterchange), nil },
	}
	for name, open := range inputs {
		t.Run(name, func(t *testing.T) {
			r, err := open()
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := r.(io.Closer); ok {
				defer c.Close()
			}
			got, _, err := AcknowledgeReader(r, AckOptions{Always: true, Now: fixedNow, LineBreaks: true})
			if err != nil {
				t.Fatalf("AcknowledgeReader: %v", err)
			}
			golden := filepath.Join("testdata", "contrl", name+".edi")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run with -update): %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("CONTRL differs from %s:\n%s", golden, got)
			}
		})
	}
}

const matrixSecondInterchange = "UNA:+,? 'UNB+UNOC:3+S:14+R:14+200101:1200+IC2'" +
	"UNH+A1+ORDERS:D:96A:UN'BGM+220+PO9+9'DTM+137:20200101:102'UNS+S'UNT+5+A1'" +
	"UNH+A2+ORDERS:D:96A:UN'BGM+220+PO9+77'DTM+137:2020:999'QTY+21:x'UNS+S'UNT+6+A2'UNZ+2+IC2'"

func TestAcknowledgeOnlyWhenAsked(t *testing.T) {
	_, rep := decodeAll(t, matrixSecondInterchange)
	if _, err := Acknowledge(rep, AckOptions{Now: fixedNow}); !errors.Is(err, ErrNothingToAcknowledge) {
		t.Errorf("got %v, want ErrNothingToAcknowledge for an interchange without 0031", err)
	}
	_, rep = decodeAll(t, baseInterchange+matrixSecondInterchange)
	got, err := Acknowledge(rep, AckOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "UNB+"); n != 1 {
		t.Errorf("got %d CONTRL interchanges, want 1 (only IC1 asks)", n)
	}
}

// TestPHPEdifactAnalysis compares the segments of D96ADESADV.edi with
// php-edifact's analysis of the same file: every segment it lists (by
// index) has the same tag here, and every value it shows is one of the
// segment's values.
func TestPHPEdifactAnalysis(t *testing.T) {
	dir := corpusDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "php-edifact", "expected", "D96ADESADV.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "php-edifact", "edifact", "D96ADESADV.edi"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := decodeAll(t, string(data))
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	segs := msgs[0].Segments
	checked := 0
	var leaves func(v any, out *[]string)
	leaves = func(v any, out *[]string) {
		switch x := v.(type) {
		case string:
			*out = append(*out, x)
		case map[string]any:
			for k, c := range x {
				if k != "segmentIdx" && k != "segmentCode" && k != "segmentGroup" {
					leaves(c, out)
				}
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, c := range x {
				walk(c)
			}
		case map[string]any:
			idx, ok1 := x["segmentIdx"].(float64)
			code, ok2 := x["segmentCode"].(string)
			if ok1 && ok2 {
				checked++
				i := int(idx)
				if i >= len(segs) || segs[i].Tag != code {
					t.Errorf("segment index %d: php-edifact has %s", i, code)
					return
				}
				var vals []string
				leaves(x, &vals)
				var have []string
				for n := 1; n <= segs[i].Len(); n++ {
					for _, rep := range segs[i].Repetitions(n) {
						have = append(have, rep...)
					}
				}
				for _, v := range vals {
					if !slices.Contains(have, v) {
						t.Errorf("segment %d (%s): php-edifact shows %q, values here %q", i, code, v, have)
					}
				}
				return
			}
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	if checked < 15 {
		t.Errorf("checked %d segments of the analysis, want at least 15", checked)
	}
}
