package normalize

import (
	"bytes"
	"context"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
	"io"
	"testing"

	"github.com/ordergate/ordergate/edi/edifact"
)

// BenchmarkEDIFACTFileToOrders decodes a generated ORDERS file (released
// characters, Latin-1 text, 2,000 orders of 10 lines) and maps every
// message to an order, as `ordergate parse` does.
func BenchmarkEDIFACTFileToOrders(b *testing.B) {
	var buf bytes.Buffer
	if err := bulk.EDIFACT(&buf, 2000, 10, 1); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := edifact.NewDecoder(bytes.NewReader(data), edifact.WithMessageReuse())
		for {
			m, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || !m.Accepted {
				b.Fatalf("%v %v", err, m.Errors)
			}
			if _, err := FromEDIFACTOrders(&m.Message, "bench.edi"); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEDIFACTFileToOrdersPipelined is BenchmarkEDIFACTFileToOrders
// through EDIFACTFile with one mapping goroutine (FileOptions.Workers 1),
// as `ordergate parse` reads: the decoder on a goroutine of its own,
// messages handed back to it (edifact.Decoder.Release) once consumed.
func BenchmarkEDIFACTFileToOrdersPipelined(b *testing.B) { benchmarkEDIFACTFile(b, 1) }

// BenchmarkEDIFACTFileToOrdersFile is the same through EDIFACTFile with
// Workers 0 (decode and map on one goroutine, WithMessageReuse).
func BenchmarkEDIFACTFileToOrdersFile(b *testing.B) { benchmarkEDIFACTFile(b, 0) }

func benchmarkEDIFACTFile(b *testing.B, workers int) {
	var buf bytes.Buffer
	if err := bulk.EDIFACT(&buf, 2000, 10, 1); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f := NewEDIFACTFile(bytes.NewReader(data), FileOptions{File: "bench.edi", Workers: workers, InFlight: benchInFlight()}, nil)
		for m, err := range f.Sets(context.Background()) {
			if err != nil || !m.Accepted {
				b.Fatalf("%v %v", err, m.Errors)
			}
			if _, err := m.Order(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
