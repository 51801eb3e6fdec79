package x12

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestWriterEnvelopes(t *testing.T) {
	var buf bytes.Buffer
	ctx := context.Background()
	w := NewWriter(&buf, DefaultDelimiters, WithControlNumbers(NewCounter(7)))
	at := time.Date(2026, 11, 18, 12, 30, 0, 0, time.UTC)
	steps := []func() error{
		func() error {
			return w.BeginInterchange(ctx, InterchangeHeader{SenderQualifier: "ZZ", SenderID: "TOOLSUPPLY", ReceiverQualifier: "ZZ",
				ReceiverID: "BAUMARKTNORD", Time: at, Version: "00501", Test: true})
		},
		func() error {
			return w.BeginGroup(ctx, GroupHeader{FunctionalID: "PR", SenderCode: "TOOLSUPPLY", ReceiverCode: "BAUMARKTNORD", Time: at, Version: "004010"})
		},
		func() error {
			return w.WritePOAck(ctx, &POAck{Type: "AC", PONumber: "4500012345", PODate: "20261118", Date: "20261119", Currency: "EUR",
				Notes: []string{"Line 2 ships later"},
				Lines: []POAckLine{
					{LineNo: "1", Quantity: "24", Unit: "EA", UnitPrice: "12.50", PriceBasis: "PE", IDs: []ProductID{{"BP", "BN-4711"}, {"UP", "012345678905"}},
						Status: "IA", AckQuantity: "24", AckUnit: "EA"},
					{LineNo: "2", Quantity: "10", Unit: "BX", Status: "IB", AckQuantity: "10", AckUnit: "BX", Date: "20261210"},
				}})
		},
		w.EndGroup, w.EndInterchange, w.Flush,
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	golden(t, "855.x12", buf.Bytes())
	// What the writer wrote reads back as an accepted 855 with the counts
	// right.
	txs, d, err := decodeAll(t, buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(d.Report()); got != "AK9 A 1/1/1; AK5 A" {
		t.Errorf("the written 855 decodes as %s; errors %v", got, txs[0].Errors)
	}
	if got := d.Report().Interchanges[0].Header.Control; got != "000000007" {
		t.Errorf("ISA13 = %s, want 000000007 from the counter", got)
	}
}

func TestWriterRefuses(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 18, 12, 30, 0, 0, time.UTC)
	hdr := InterchangeHeader{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B", Time: at}
	tests := []struct {
		name string
		do   func(w *Writer) error
	}{
		{"element separator in a value", func(w *Writer) error { return w.Segment("MSG", "a*b") }},
		{"component separator in a value", func(w *Writer) error { return w.Segment("MSG", "a>b") }},
		{"repetition separator in a value", func(w *Writer) error { return w.Segment("MSG", "a^b") }},
		{"terminator in a value", func(w *Writer) error { return w.Segment("MSG", "a~b") }},
		{"line break in a value", func(w *Writer) error { return w.Segment("MSG", "a\nb") }},
		{"bad tag", func(w *Writer) error { return w.Segment("msg", "a") }},
		{"sender too long", func(w *Writer) error {
			h := hdr
			h.SenderID = "THIS-ID-IS-TOO-LONG"
			return w.BeginInterchange(ctx, h)
		}},
		{"group outside an interchange", func(w *Writer) error { return w.BeginGroup(ctx, GroupHeader{FunctionalID: "PR", Time: at}) }},
		{"set outside a group", func(w *Writer) error { _, err := w.BeginSet(ctx, "855", ""); return err }},
		{"no time", func(w *Writer) error { h := hdr; h.Time = time.Time{}; return w.BeginInterchange(ctx, h) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(&bytes.Buffer{}, DefaultDelimiters)
			if err := tt.do(w); !errors.Is(err, ErrWrite) {
				t.Errorf("got %v, want ErrWrite", err)
			}
		})
	}
	if err := NewWriter(&bytes.Buffer{}, Delimiters{Element: '*', Component: '*', Segment: "~"}).Segment("MSG", "a"); !errors.Is(err, ErrWrite) {
		t.Errorf("a writer with a separator used twice wrote: %v", err)
	}
}

func TestWriteSegmentComposite(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Delimiters{Element: '|', Component: ':', Repetition: '!', Segment: "'"})
	s := edi.NewSegment("CTX", edi.Element{{"A", "1"}, {"B", "2"}}, edi.Element{{""}}, edi.Element{{"x"}})
	if err := w.WriteSegment(&s); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if got, want := buf.String(), "CTX|A:1!B:2||x'"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

// TestAcknowledgeGolden writes the 997, 999 and TA1 for a crafted file
// with errors at every level, with a fixed clock and control numbers.
func TestAcknowledgeGolden(t *testing.T) {
	in := apply(base850,
		edit{"*0*P*>~", "*1*P*>~"},
		edit{"BEG*00*SA*4500012345**20261118", "BEG*99*SA***20261332"},
		edit{"N1*ST*Baumarkt Nord Lager Hamburg*92*ST-HH-01~", "N1*ST*Baumarkt Nord Lager Hamburg*92*ST-HH-01~\nXYZ*1~"},
		edit{seg850End, "SE*14*0001~\nST*850*0002~\nSE*3*0002~"},
		edit{"GE*1*4711", "GE*2*4711"},
		edit{"IEA*1*000004711", "IEA*1*000004712"},
	)
	for _, tt := range []struct {
		kind AckKind
		file string
	}{{Ack997, "ack.997"}, {Ack999, "ack.999"}} {
		ack, err := AcknowledgeReader(strings.NewReader(in), AckOptions{Kind: tt.kind, Now: fixedNow, Controls: NewCounter(100)})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, ack)
		// Our own acknowledgement is valid X12 that our dictionary accepts.
		if _, d, err := decodeAll(t, string(ack)); err != nil || strings.Contains(summarize(d.Report()), " R") {
			t.Errorf("%s does not decode cleanly: %v %s", tt.file, err, summarize(d.Report()))
		}
	}
}

func TestAcknowledgeNothing(t *testing.T) {
	if _, err := AcknowledgeReader(strings.NewReader("GS*PO*A~"), AckOptions{}); !errors.Is(err, ErrNothingToAcknowledge) {
		t.Errorf("no ISA: %v, want ErrNothingToAcknowledge", err)
	}
	if _, err := AcknowledgeReader(strings.NewReader(""), AckOptions{}); !errors.Is(err, ErrNothingToAcknowledge) {
		t.Errorf("empty input: %v, want ErrNothingToAcknowledge", err)
	}
}
