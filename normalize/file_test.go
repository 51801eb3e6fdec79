package normalize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
)

// x12FileInput is a file of several interchanges that exercises the
// decoder's paths between sets: many clean sets, a set without SE
// followed by an ST (the ST is handled again for the next set), a
// mapping error, an ISA before the IEA, and a last interchange cut off.
func x12FileInput(t testing.TB) []byte {
	var b bytes.Buffer
	if err := bulk.X12(&b, 300, 3, 7); err != nil {
		t.Fatal(err)
	}
	f := string(fixtures.X12850(11, "PO-11", 2))
	st := strings.Index(f, "ST*850")
	se := strings.Index(f, "SE*")
	ge := strings.Index(f, "GE*")
	body := f[st:se]
	noSE := f[:st] + body + strings.Replace(body, "ST*850*0001", "ST*850*0002", 1) + strings.Replace(f[se:ge], "0001", "0002", 1) +
		strings.Replace(f[ge:], "GE*1", "GE*2", 1)
	b.WriteString(noSE)
	b.WriteString(strings.Replace(string(fixtures.X12850(12, "PO-12", 2)), "DTM*002*20261215", "DTM*002*20261315", 1))
	noIEA := string(fixtures.X12850(13, "PO-13", 1))
	b.WriteString(noIEA[:strings.Index(noIEA, "IEA*")])
	b.Write(fixtures.X12850(14, "PO-14", 4))
	last := string(fixtures.X12850(15, "PO-15", 5))
	b.WriteString(last[:strings.Index(last, "PO1*4")])
	return b.Bytes()
}

// x12Fatal ends in an interchange whose separators cannot be read: the
// decoder stops with an error after the sets before it.
func x12Fatal(t testing.TB) []byte {
	var b bytes.Buffer
	if err := bulk.X12(&b, 40, 2, 3); err != nil {
		t.Fatal(err)
	}
	b.WriteString("ISA*00")
	return b.Bytes()
}

// record renders what a consumer sees of one set: its envelope, verdict,
// errors, every segment (read in the loop body) and its order.
func recordX12(tx *x12.Transaction, mapIt func() (any, error)) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ic=%d g=%d acc=%v errs=%v\n", tx.Type, tx.Envelope.MessageControl, tx.Interchange, tx.Group, tx.Accepted, tx.Errors)
	for i := range tx.Segments {
		fmt.Fprintf(&b, "%d %d %s\n", tx.Segments[i].Pos.Index, tx.Segments[i].Pos.InMessage, tx.Segments[i].String())
	}
	if tx.Accepted && tx.Type == "850" {
		o, err := mapIt()
		j, _ := json.Marshal(o)
		fmt.Fprintf(&b, "order %s err %v\n", j, err)
	}
	return b.String()
}

// referenceX12 decodes in with a plain decoder (no segment reuse) and maps
// each accepted 850, as the code before X12File did.
func referenceX12(in []byte) (recs []string, rep *x12.Report) {
	d := x12.NewDecoder(bytes.NewReader(in))
	for {
		tx, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			recs = append(recs, "error "+err.Error())
			break
		}
		recs = append(recs, recordX12(tx, func() (any, error) { return FromX12850(&tx.Message, "f.x12") }))
	}
	return recs, d.Report()
}

func TestX12FileMatchesDecoder(t *testing.T) {
	for _, in := range [][]byte{x12FileInput(t), x12Fatal(t)} {
		want, wantRep := referenceX12(in)
		if len(want) < 40 {
			t.Fatalf("only %d sets in the input", len(want))
		}
		for _, o := range []FileOptions{{}, {Workers: 1}, {Workers: 1, InFlight: 1}, {Workers: 2, InFlight: 5}, {Workers: 3, InFlight: 64}} {
			o.File = "f.x12"
			t.Run(fmt.Sprintf("workers=%d,inflight=%d", o.Workers, o.InFlight), func(t *testing.T) {
				n := 0
				f := NewX12File(bytes.NewReader(in), o, func(tx *x12.Transaction) any {
					n++
					return fmt.Sprintf("%d %s", n, tx.Envelope.MessageControl)
				})
				var got []string
				i := 0
				for set, err := range f.Sets(context.Background()) {
					if err != nil {
						got = append(got, "error "+err.Error())
						continue
					}
					i++
					if note := fmt.Sprintf("%d %s", i, set.Envelope.MessageControl); set.Note != note {
						t.Fatalf("set %d has the note %v, want %q", i, set.Note, note)
					}
					got = append(got, recordX12(set.Transaction, func() (any, error) { return set.Order() }))
				}
				if len(got) != len(want) {
					t.Fatalf("%d sets, want %d", len(got), len(want))
				}
				for k := range want {
					if got[k] != want[k] {
						t.Fatalf("set %d:\n%s\nwant\n%s", k, got[k], want[k])
					}
				}
				if !reflect.DeepEqual(f.Report(), wantRep) {
					t.Errorf("report differs:\n%+v\nwant\n%+v", f.Report(), wantRep)
				}
			})
		}
	}
}

// edifactFileInput has many clean messages, a message without UNT
// followed by a UNH, an interchange with a header error and one with a
// count mismatch (syntax errors between the messages), a message the
// mapper rejects, and data after the last interchange.
func edifactFileInput(t testing.TB) []byte {
	var b bytes.Buffer
	if err := bulk.EDIFACT(&b, 200, 3, 5); err != nil {
		t.Fatal(err)
	}
	f := string(fixtures.EDIFACTOrders(21, "PO-21", 2))
	unh := strings.Index(f, "UNH+")
	unt := strings.Index(f, "UNT+")
	unz := strings.Index(f, "UNZ+")
	body := f[unh:unt]
	b.WriteString(f[:unh] + body + strings.Replace(body, "UNH+1+", "UNH+2+", 1) + strings.Replace(f[unt:unz], "+1'", "+2'", 1) +
		strings.Replace(f[unz:], "UNZ+1", "UNZ+2", 1))
	b.WriteString(strings.Replace(string(fixtures.EDIFACTOrders(22, "PO-22", 1)), "UNOC", "UNOX", 1))
	b.WriteString(strings.Replace(string(fixtures.EDIFACTOrders(23, "PO-23", 2)), "UNZ+1", "UNZ+3", 1))
	b.WriteString(strings.Replace(string(fixtures.EDIFACTOrders(24, "PO-24", 2)), "BGM+220+PO-24+9", "BGM+220+PO-24+31", 1))
	b.Write(fixtures.EDIFACTOrders(25, "PO-25", 3))
	b.WriteString("XYZ+1'\n")
	return b.Bytes()
}

func recordEDIFACT(m *edifact.Message, mapIt func() (any, error)) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s acc=%v errs=%v\n", m.Type, m.Envelope.MessageControl, m.Accepted, m.Errors)
	for i := range m.Segments {
		fmt.Fprintf(&b, "%d %d %s\n", m.Segments[i].Pos.Index, m.Segments[i].Pos.InMessage, m.Segments[i].String())
	}
	if m.Accepted && m.Type == "ORDERS" {
		o, err := mapIt()
		j, _ := json.Marshal(o)
		fmt.Fprintf(&b, "order %s err %v\n", j, err)
	}
	return b.String()
}

func referenceEDIFACT(in []byte) (recs []string, rep *edifact.Report) {
	d := edifact.NewDecoder(bytes.NewReader(in))
	for {
		m, err := d.Next()
		if err == io.EOF {
			break
		}
		var se *edifact.SyntaxError
		if errors.As(err, &se) {
			recs = append(recs, "syntax "+err.Error())
			continue
		}
		if err != nil {
			recs = append(recs, "error "+err.Error())
			break
		}
		recs = append(recs, recordEDIFACT(m, func() (any, error) { return FromEDIFACTOrders(&m.Message, "f.edi") }))
	}
	return recs, d.Report()
}

func TestEDIFACTFileMatchesDecoder(t *testing.T) {
	in := edifactFileInput(t)
	want, wantRep := referenceEDIFACT(in)
	syntax := 0
	for _, r := range want {
		if strings.HasPrefix(r, "syntax ") {
			syntax++
		}
	}
	if len(want) < 200 || syntax < 3 {
		t.Fatalf("%d results, %d syntax errors in the input", len(want), syntax)
	}
	for _, o := range []FileOptions{{}, {Workers: 1}, {Workers: 1, InFlight: 1}, {Workers: 2, InFlight: 5}, {Workers: 3, InFlight: 64}} {
		o.File = "f.edi"
		t.Run(fmt.Sprintf("workers=%d,inflight=%d", o.Workers, o.InFlight), func(t *testing.T) {
			f := NewEDIFACTFile(bytes.NewReader(in), o, func(m *edifact.Message) any { return m.Envelope.MessageControl })
			var got []string
			for m, err := range f.Sets(context.Background()) {
				var se *edifact.SyntaxError
				switch {
				case errors.As(err, &se):
					got = append(got, "syntax "+err.Error())
					continue
				case err != nil:
					got = append(got, "error "+err.Error())
					continue
				}
				if m.Note != m.Envelope.MessageControl {
					t.Fatalf("message %s has the note %v", m.Envelope.MessageControl, m.Note)
				}
				got = append(got, recordEDIFACT(m.Message, func() (any, error) { return m.Order() }))
			}
			if len(got) != len(want) {
				t.Fatalf("%d results, want %d", len(got), len(want))
			}
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("result %d:\n%s\nwant\n%s", k, got[k], want[k])
				}
			}
			if !reflect.DeepEqual(f.Report(), wantRep) {
				t.Errorf("report differs")
			}
		})
	}
}

// settle waits for the goroutine count to come back to at most n.
func settle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFileEarlyStop(t *testing.T) {
	x, e := x12FileInput(t), edifactFileInput(t)
	before := runtime.NumGoroutine()
	for _, workers := range []int{0, 1, 3} {
		for _, stop := range []int{1, 2, 7, 100, 250} {
			n := 0
			for _, err := range NewX12File(bytes.NewReader(x), FileOptions{Workers: workers, InFlight: 4}, nil).Sets(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == stop {
					break
				}
			}
			if n != stop {
				t.Fatalf("X12 workers %d: stopped at %d, want %d", workers, n, stop)
			}
			n = 0
			for _, err := range NewEDIFACTFile(bytes.NewReader(e), FileOptions{Workers: workers, InFlight: 4}, nil).Sets(context.Background()) {
				var se *edifact.SyntaxError
				if err != nil && !errors.As(err, &se) {
					t.Fatal(err)
				}
				if n++; n == stop {
					break
				}
			}
			// The goroutines have ended when Sets returns.
			if g := runtime.NumGoroutine(); g > before {
				settle(t, before)
			}
		}
	}
	settle(t, before)
}

func TestFileCancel(t *testing.T) {
	x, e := x12FileInput(t), edifactFileInput(t)
	for range 3 {
		x = append(x, x12FileInput(t)...)
	}
	before := runtime.NumGoroutine()
	for _, workers := range []int{0, 1, 2} {
		for _, at := range []int{0, 1, 5, 50} {
			ctx, cancel := context.WithCancel(context.Background())
			if at == 0 {
				cancel()
			}
			n := 0
			var last error
			for _, err := range NewX12File(bytes.NewReader(x), FileOptions{Workers: workers}, nil).Sets(ctx) {
				if last != nil {
					t.Fatalf("a set after the error %v", last)
				}
				last = err
				if n++; n == at {
					cancel()
				}
			}
			if !errors.Is(last, context.Canceled) {
				t.Errorf("X12 workers %d, cancel at %d: the sequence ended with %v after %d", workers, at, last, n)
			}
			ctx, cancel = context.WithCancel(context.Background())
			if at == 0 {
				cancel()
			}
			n, last = 0, nil
			for _, err := range NewEDIFACTFile(iotestSlow{bytes.NewReader(e)}, FileOptions{Workers: workers}, nil).Sets(ctx) {
				var se *edifact.SyntaxError
				if errors.As(err, &se) {
					continue
				}
				if last != nil {
					t.Fatalf("a message after the error %v", last)
				}
				last = err
				if n++; n == at {
					cancel()
				}
			}
			if !errors.Is(last, context.Canceled) {
				t.Errorf("EDIFACT workers %d, cancel at %d: the sequence ended with %v after %d", workers, at, last, n)
			}
			cancel()
			settle(t, before)
		}
	}
}

// iotestSlow reads at most 512 bytes at a time, so that the EDIFACT
// decoder (which looks at ctx every 4,096 segments) reads often.
type iotestSlow struct{ r io.Reader }

func (s iotestSlow) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 512)]) }

func TestFileRangedTwice(t *testing.T) {
	f := NewX12File(bytes.NewReader(x12Fatal(t)), FileOptions{Workers: 1}, nil)
	for range f.Sets(context.Background()) {
		break
	}
	for _, err := range f.Sets(context.Background()) {
		if err == nil {
			t.Fatal("a second range over Sets gave a set")
		}
	}
}
