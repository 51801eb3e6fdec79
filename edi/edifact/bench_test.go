package edifact

import (
	"bytes"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
	"io"
	"testing"
)

func benchData(b *testing.B) []byte {
	var buf bytes.Buffer
	if err := bulk.EDIFACT(&buf, 2000, 10, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func TestGeneratedOrdersDecodeClean(t *testing.T) {
	var buf bytes.Buffer
	if err := bulk.EDIFACT(&buf, 50, 5, 7); err != nil {
		t.Fatal(err)
	}
	msgs, rep := decodeAll(t, buf.String())
	if len(msgs) != 50 || rep.Rejected != 0 || len(rep.Interchanges[0].Errors) > 0 {
		for _, m := range msgs {
			if !m.Accepted {
				t.Fatalf("generated message rejected: %v", m.Errors)
			}
		}
		t.Fatalf("got %d messages, %d rejected, interchange errors %v", len(msgs), rep.Rejected, rep.Interchanges[0].Errors)
	}
}

// BenchmarkReadSegments reads generated ORDERS with released characters
// and Latin-1 text segment by segment.
func BenchmarkReadSegments(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data))
		for {
			_, err := r.ReadSegment()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecode decodes and validates the same data into messages.
func BenchmarkDecode(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data))
		for {
			m, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || !m.Accepted {
				b.Fatalf("%v %v", err, m.Errors)
			}
		}
	}
}

func TestMessageReuse(t *testing.T) {
	var buf bytes.Buffer
	if err := bulk.EDIFACT(&buf, 20, 3, 3); err != nil {
		t.Fatal(err)
	}
	render := func(opts ...Option) []string {
		d := NewDecoder(bytes.NewReader(buf.Bytes()), opts...)
		var out []string
		for {
			m, err := d.Next()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range m.Segments {
				out = append(out, s.String())
			}
		}
	}
	a, b := render(), render(WithMessageReuse())
	if len(a) != len(b) {
		t.Fatalf("reuse read %d segments, want %d", len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("segment %d: %q with reuse, want %q", i, b[i], a[i])
		}
	}
}

// BenchmarkDecodeReuse is BenchmarkDecode with WithMessageReuse.
func BenchmarkDecodeReuse(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data), WithMessageReuse())
		for {
			m, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || !m.Accepted {
				b.Fatalf("%v %v", err, m.Errors)
			}
		}
	}
}
