package x12

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi"
)

// fuzzOpts bound memory and time per input.
var fuzzOpts = []Option{MaxSegmentSize(64 << 10), MaxElementSize(16 << 10), MaxSetSize(1 << 20)}

func addSeeds(f *testing.F) {
	f.Add([]byte(base850))
	f.Add([]byte(base850 + base850))
	f.Add([]byte(isa + "~\nGS*PO*A*B*20261118*1230*1*X*005010~\nST*850*0001~\nBEG*99*SA***20261332~\nN4*H*HH*1*DE***HH~\nSE*4*0001~\n"))
	f.Add([]byte(strings.Replace(isa, "*U*00401*", "*^*00501*", 1) + "~CTX*A>1^B>2~IEA*0*000000001~"))
	f.Add([]byte(isa + "…\nGS*PO*A…\n"))
	f.Add([]byte("\xEF\xBB\xBF" + isa + "\x15\r\nGS*PO\x15\r\n"))
}

// FuzzDecode: any input decodes without panic, within the limits, and
// whatever was read can be acknowledged or is refused with an error.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), fuzzOpts...)
		for range 1 << 20 {
			tx, err := d.Next()
			if err != nil {
				break
			}
			if tx.Accepted && len(tx.Errors) > 0 {
				t.Fatalf("an accepted set has errors: %v", tx.Errors)
			}
		}
		if cap(d.rd.buf) > 64<<10+chunkSize+16 {
			t.Fatalf("the reader's buffer grew to %d bytes", cap(d.rd.buf))
		}
		ack, err := Acknowledge(d.Report(), AckOptions{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
		if err == nil && len(ack) == 0 {
			t.Fatal("an empty acknowledgement without error")
		}
		if segs, _ := readSegments(data); len(segs) > 0 {
			for i := range segs {
				checkPasses(t, &segs[i].seg)
			}
		}
		if want, got := decodeTrace(data, fuzzOpts...), decodeTrace(data, append(fuzzOpts[:len(fuzzOpts):len(fuzzOpts)], ReuseSegments())...); got != want {
			t.Fatalf("with ReuseSegments:\n%s\nwant:\n%s", got, want)
		}
		if want, got := decodeTrace(data, fuzzOpts...), decodeTrace(data, append(fuzzOpts[:len(fuzzOpts):len(fuzzOpts)], SizeHint(int64(len(data)/2+1)))...); got != want {
			t.Fatalf("with SizeHint(%d):\n%s\nwant:\n%s", len(data)/2+1, got, want)
		}
	})
}

type readSeg struct {
	seg   edi.Segment
	delim Delimiters
}

func readSegments(data []byte) ([]readSeg, error) {
	r := NewReader(bytes.NewReader(data), fuzzOpts...)
	var out []readSeg
	for {
		s, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, readSeg{s.Clone(), r.Delimiters()})
	}
}

// FuzzRoundTrip: decode, write the segments back with the writer and the
// same separators, decode again: the segments are the same. Inputs the
// reader rejects, or whose values the writer refuses (a separator or a
// line break inside a value, a tag that is not letters and digits), are
// not round-trippable and are skipped.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := readSegments(data)
		if err != nil || len(first) == 0 {
			return
		}
		var buf bytes.Buffer
		var w *Writer
		for _, s := range first {
			if s.seg.Tag == "ISA" || w == nil {
				if w != nil {
					w.Flush()
				}
				w = NewWriter(&buf, s.delim)
			}
			if err := w.WriteSegment(&s.seg); err != nil {
				if errors.Is(err, ErrWrite) {
					return
				}
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			return
		}
		second, err := readSegments(buf.Bytes())
		if err != nil {
			t.Fatalf("re-reading what the writer wrote: %v\n%q", err, buf.Bytes())
		}
		if len(second) != len(first) {
			t.Fatalf("%d segments, then %d\n%q", len(first), len(second), buf.Bytes())
		}
		for i := range first {
			a, b := first[i].seg, second[i].seg
			if a.Tag != b.Tag || a.String() != b.String() || a.Len() != b.Len() {
				t.Fatalf("segment %d: %q became %q", i+1, a.String(), b.String())
			}
			for j := 1; j <= a.Len(); j++ {
				if a.RepetitionCount(j) != b.RepetitionCount(j) {
					t.Fatalf("segment %d element %d: repetitions differ", i+1, j)
				}
			}
		}
	})
}
