package x12

import (
	"bytes"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
	"io"
	"os"
	"testing"
)

// benchInput returns the benchmark's input: the file named by
// $EDILOAD_X12 (for the 100 MB measurement), or 5,000 orders generated in
// memory by internal/fixtures/bulk.
func benchInput(b *testing.B) []byte {
	b.Helper()
	if f := os.Getenv("EDILOAD_X12"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	var buf bytes.Buffer
	if err := bulk.X12(&buf, 5000, 10, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReadSegments measures the streaming segment reader alone.
func BenchmarkReadSegments(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data))
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n == 0 {
			b.Fatal("no segments")
		}
	}
}

// BenchmarkDecode measures the decoder: segments, envelopes and the
// dictionary checks, with each set kept in memory.
func BenchmarkDecode(b *testing.B) { benchmarkDecode(b) }

// BenchmarkDecodeReuse is BenchmarkDecode with ReuseSegments: each set's
// segments are valid until the next Next.
func BenchmarkDecodeReuse(b *testing.B) { benchmarkDecode(b, ReuseSegments()) }

func benchmarkDecode(b *testing.B, opts ...Option) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data), opts...)
		for {
			tx, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if !tx.Accepted {
				b.Fatalf("set %s rejected: %v", tx.Envelope.MessageControl, tx.Errors)
			}
		}
	}
}
