package edifact

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi"
)

// FuzzDecode: any input decodes without panic, within the limits, and
// its report can be acknowledged; read ahead, and with ISO 8859 decoded
// by decodeCharset rather than while copying, it decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(baseInterchange))
	f.Add([]byte(matrixSecondInterchange))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxSegmentBytes: 512, MaxMessageSegments: 50, MaxErrorsPerMessage: 5, MaxReportMessages: 20}
		d := NewDecoder(bytes.NewReader(data), WithLimits(lim))
		n := 0
		for {
			m, err := d.Next()
			if err == io.EOF {
				break
			}
			var se *SyntaxError
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("non-syntax error from a bytes.Reader: %v", err)
			}
			if n++; n > len(data)+10 {
				t.Fatalf("more results than bytes")
			}
			if m == nil {
				continue
			}
			if len(m.Segments) > lim.MaxMessageSegments {
				t.Fatalf("message kept %d segments, limit %d", len(m.Segments), lim.MaxMessageSegments)
			}
			if len(m.Errors) > lim.MaxErrorsPerMessage+1 {
				t.Fatalf("message kept %d errors, limit %d", len(m.Errors), lim.MaxErrorsPerMessage)
			}
			if m.Accepted != (len(m.Errors) == 0) {
				t.Fatalf("Accepted %v with %d errors", m.Accepted, len(m.Errors))
			}
		}
		rep := d.Report()
		if _, err := Acknowledge(rep, AckOptions{Always: true, Now: fixedNow}); err != nil &&
			!errors.Is(err, ErrNothingToAcknowledge) && !errors.Is(err, ErrUnrepresentable) {
			t.Fatalf("Acknowledge: %v", err)
		}
		want := fullTrace(t, bytes.NewReader(data), 1, WithLimits(lim))
		if got := fullTrace(t, bytes.NewReader(data), 1, WithLimits(lim), WithReadAhead(), withReadAheadBatch(2)); got != want {
			t.Fatalf("read ahead gives\n%s\nwant\n%s", got, want)
		}
		if got := fullTrace(t, bytes.NewReader(data), 1, WithLimits(lim), SizeHint(int64(len(data)/2+1))); got != want {
			t.Fatalf("with SizeHint(%d) gives\n%s\nwant\n%s", len(data)/2+1, got, want)
		}
		if got := fullTrace(t, bytes.NewReader(data), 1, WithLimits(lim), withoutFusedDecoding()); got != want {
			t.Fatalf("decoding ISO 8859 in decodeCharset gives\n%s\nwant (decoded while copying)\n%s", got, want)
		}
		if got, want := segmentTrace(data, false, WithLimits(lim), withoutFusedDecoding()), segmentTrace(data, false, WithLimits(lim)); got != want {
			t.Fatalf("reading segments with decodeCharset gives\n%s\nwant (decoded while copying)\n%s", got, want)
		}
	})
}

// FuzzRoundTrip: decode, write the messages again, decode: the same
// segments.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(baseInterchange))
	f.Add([]byte(matrixSecondInterchange))
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, seps := decodeMessages(t, data, 4096)
		if len(msgs) == 0 {
			return
		}
		var buf bytes.Buffer
		if !writeMessages(t, &buf, msgs, seps) {
			return
		}
		// Written in UTF-8, a Latin-1 value may take up to twice its
		// bytes (and any charset's up to four times): the second read
		// allows for it.
		again, _ := decodeMessages(t, buf.Bytes(), 4*4096)
		if len(again) != len(msgs) {
			t.Fatalf("wrote %d messages, read back %d:\n%s", len(msgs), len(again), buf.Bytes())
		}
		for i := range msgs {
			a, b := msgs[i].Segments, again[i].Segments
			if len(a) != len(b) {
				t.Fatalf("message %d: %d segments, read back %d", i, len(a), len(b))
			}
			for j := 1; j < len(a)-1; j++ { // UNH and UNT get new references
				if x, y := canonical(&a[j]), canonical(&b[j]); x != y {
					t.Fatalf("message %d segment %d: %q, read back %q", i, j, x, y)
				}
			}
		}
	})
}

func decodeMessages(t *testing.T, data []byte, maxSegment int) ([]*Message, Separators) {
	d := NewDecoder(bytes.NewReader(data), WithoutDictionary(), WithLimits(Limits{MaxSegmentBytes: maxSegment}))
	var msgs []*Message
	for {
		m, err := d.Next()
		if err == io.EOF {
			break
		}
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Next: %v", err)
		}
		// Keep whole messages whose segments all arrived and that end in UNT.
		if m != nil && len(m.Segments) > 1 && m.Segments[len(m.Segments)-1].Tag == "UNT" && !lostSegments(m) {
			msgs = append(msgs, m)
		}
	}
	seps := DefaultSeparators
	if ics := d.Report().Interchanges; len(ics) > 0 {
		seps = ics[0].Separators
	}
	return msgs, seps
}

func lostSegments(m *Message) bool {
	for _, e := range m.Errors {
		if se := e.(*SyntaxError); se.Code == CodeUnspecified || se.Code == CodeInvalidValue && se.Element == 0 || se.Code == CodeMissing && se.Tag != "UNT" {
			return true
		}
	}
	return false
}

// writeMessages writes msgs in one UNOW interchange; false when a value
// cannot be written (a control character).
func writeMessages(t *testing.T, w io.Writer, msgs []*Message, seps Separators) bool {
	ctx := context.Background()
	if seps.Validate() != nil {
		return false
	}
	wr := NewWriter(w, seps)
	if err := wr.BeginInterchange(ctx, InterchangeHeader{SyntaxID: "UNOW", SyntaxVersion: "4", SenderID: "S", RecipientID: "R",
		Time: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}); err != nil {
		t.Fatalf("BeginInterchange: %v", err)
	}
	for _, m := range msgs {
		unh := &m.Segments[0]
		id := MessageID{Type: unh.Component(2, 1), Version: unh.Component(2, 2), Release: unh.Component(2, 3), Agency: unh.Component(2, 4), Association: unh.Component(2, 5)}
		if _, err := wr.BeginMessage(ctx, id); err != nil {
			return unwritable(t, err)
		}
		for j := 1; j < len(m.Segments)-1; j++ {
			if err := wr.WriteSegment(&m.Segments[j]); err != nil {
				return unwritable(t, err)
			}
		}
		if err := wr.EndMessage(); err != nil {
			return unwritable(t, err)
		}
	}
	return wr.EndInterchange() == nil
}

func unwritable(t *testing.T, err error) bool {
	if errors.Is(err, ErrUnrepresentable) || errors.Is(err, ErrWrite) {
		return false
	}
	t.Fatalf("writing: %v", err)
	return false
}

// canonical renders a segment without trailing empty elements and
// components, which the Writer drops.
func canonical(s *edi.Segment) string {
	var b strings.Builder
	b.WriteString(s.Tag)
	last := s.Len()
	for last > 0 && s.Empty(last) {
		last--
	}
	for n := 1; n <= last; n++ {
		b.WriteByte(0)
		for j, rep := range s.Repetitions(n) {
			if j > 0 {
				b.WriteByte(1)
			}
			n := len(rep)
			for n > 0 && rep[n-1] == "" {
				n--
			}
			b.WriteString(strings.Join(rep[:n], "\x02"))
		}
	}
	return b.String()
}
