package edifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures/bulk"
)

// fullTrace renders everything a Decoder gives for r: each message with
// its segments and errors as it is returned, held lag messages before
// Release (lag < 0: none) and checked not to have changed until then;
// each interchange-level error, the final error and the whole report.
func fullTrace(t *testing.T, r io.Reader, lag int, opts ...Option) string {
	t.Helper()
	d := NewDecoder(r, opts...)
	defer d.Close()
	render := func(m *Message) string {
		var b strings.Builder
		fmt.Fprintf(&b, "msg %s %s %+v accepted=%v errs=%v\n", m.Type, m.Envelope.MessageControl, m.Envelope, m.Accepted, m.Errors)
		for _, s := range m.Segments {
			fmt.Fprintf(&b, "  %+v %s\n", s.Pos, s.String())
		}
		return b.String()
	}
	type held struct {
		m    *Message
		text string
	}
	var queue []held
	release := func() {
		h := queue[0]
		queue = queue[1:]
		if now := render(h.m); now != h.text {
			t.Fatalf("a message changed before it was released:\n%s\nwas:\n%s", now, h.text)
		}
		d.Release(h.m)
	}
	var b strings.Builder
	for {
		m, err := d.Next()
		if err == io.EOF {
			break
		}
		var se *SyntaxError
		if errors.As(err, &se) {
			fmt.Fprintf(&b, "syntax: %v\n", err)
			continue
		}
		if err != nil {
			fmt.Fprintf(&b, "final: %v\n", err)
			break
		}
		h := held{m, render(m)}
		b.WriteString(h.text)
		if lag >= 0 {
			queue = append(queue, h)
			for len(queue) > lag {
				release()
			}
		}
	}
	for len(queue) > 0 {
		release()
	}
	rep := d.Report()
	fmt.Fprintf(&b, "report: %d messages, %d rejected, errors %v\n", rep.Messages, rep.Rejected, rep.Errors)
	for _, ic := range rep.Interchanges {
		c := *ic
		groups, msgs := c.Groups, c.Messages
		c.Groups, c.Messages = nil, nil
		fmt.Fprintf(&b, "interchange %+v\n", c)
		for _, g := range groups {
			gc := *g
			gm := gc.Messages
			gc.Messages = nil
			fmt.Fprintf(&b, "  group %+v\n", gc)
			for _, mr := range gm {
				fmt.Fprintf(&b, "    message %+v\n", *mr)
			}
		}
		for _, mr := range msgs {
			fmt.Fprintf(&b, "  message %+v\n", *mr)
		}
	}
	return b.String()
}

// readAheadInputs are the inputs read ahead must agree on: the corpus,
// messages with and without UNT, errors between interchanges, a UNA
// changing the separators between interchanges, a charset of its own.
func readAheadInputs(t *testing.T) map[string][]byte {
	in := map[string][]byte{"release": releaseInput(t)}
	var b bytes.Buffer
	if err := bulk.EDIFACT(&b, 40, 5, 7); err != nil {
		t.Fatal(err)
	}
	b.WriteString("UNA|*,! \"UNB*UNOC|3*SENDER*RECIP*261128|0101*9\"UNH*1*ORDERS|D|96A|UN\"BGM*220*A!*B*9\"MOA*86|12,5\"UNT*4*1\"UNZ*1*9\"")
	b.WriteString("UNB+UNOA:3+S+R+261128:0101+10'UNH+1+ORDERS:D:96A:UN'BGM+220+\xe9+9'UNT+3+1'UNZ+1+10'")
	in["mixed"] = b.Bytes()
	for _, p := range corpusFilesIfAny(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in[filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p)] = data
	}
	return in
}

// corpusFilesIfAny is corpusFiles, or none without the shared corpus.
func corpusFilesIfAny(t *testing.T) []string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	return corpusFiles(t)
}

// TestReadAheadAgrees: a Decoder reading ahead gives what one reading in
// turn gives, message by message, error by error, report and all, for
// any batch size, with and without Release or WithMessageReuse, from
// readers returning one byte at a time or failing half way.
func TestReadAheadAgrees(t *testing.T) {
	for name, data := range readAheadInputs(t) {
		readers := map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(data) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
			"broken": func() io.Reader {
				return io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(errors.New("disk on fire")))
			},
		}
		batches, lags := []int{1, 2, 7, 0}, []int{-1, 0, 3}
		if strings.Contains(name, "/") { // a corpus file: fewer variants
			delete(readers, "one byte")
			batches, lags = []int{1, 0}, []int{-1, 1}
			if len(data) > 64<<10 { // the 2 MB file
				delete(readers, "broken")
				batches, lags = batches[1:], lags[:1]
			}
		}
		for rname, mk := range readers {
			lags := lags
			if rname != "whole" {
				lags = lags[:1]
			}
			for _, lag := range lags {
				want := fullTrace(t, mk(), lag)
				if rname == "broken" && !strings.Contains(want, "disk on fire") {
					t.Fatalf("%s: the broken reader's error is not in the trace:\n%s", name, want)
				}
				for _, batch := range batches {
					got := fullTrace(t, mk(), lag, WithReadAhead(), withReadAheadBatch(batch))
					if got != want {
						t.Fatalf("%s, %s reader, lag %d, batch %d: read ahead gives\n%s\nwant\n%s", name, rname, lag, batch, got, want)
					}
				}
			}
			want := fullTrace(t, mk(), -1, WithMessageReuse())
			if got := fullTrace(t, mk(), -1, WithMessageReuse(), WithReadAhead(), withReadAheadBatch(3)); got != want {
				t.Fatalf("%s, %s reader, WithMessageReuse: read ahead gives\n%s\nwant\n%s", name, rname, got, want)
			}
		}
	}
}

// goroutinesBack waits for the goroutine count to fall to n.
func goroutinesBack(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReadAheadStops: the reading goroutine ends on Close in the middle
// of a file, when the context ends, and by itself at the end of input.
func TestReadAheadStops(t *testing.T) {
	var big bytes.Buffer
	if err := bulk.EDIFACT(&big, 2000, 10, 1); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()

	d := NewDecoder(bytes.NewReader(big.Bytes()), WithReadAhead(), withReadAheadBatch(4))
	for range 3 {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.NumGoroutine() <= base {
		t.Fatalf("no reading goroutine runs")
	}
	d.Close()
	goroutinesBack(t, base)
	if _, err := d.Next(); !errors.Is(err, errClosed) {
		t.Errorf("Next after Close: %v, want %v", err, errClosed)
	}
	d.Close() // twice is fine

	ctx, cancel := context.WithCancel(context.Background())
	d = NewDecoder(bytes.NewReader(big.Bytes()), WithReadAhead(), WithContext(ctx))
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	goroutinesBack(t, base)
	var err error
	for range 5000 {
		if _, err = d.Next(); err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v, want context.Canceled", err)
	}

	d = NewDecoder(bytes.NewReader(big.Bytes()), WithReadAhead())
	n := 0
	for {
		_, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2000 {
		t.Errorf("%d messages, want 2000", n)
	}
	goroutinesBack(t, base) // no Close: the goroutine ended at the end of input
}

// TestReadAheadReleaseOutOfOrder: every fourth message is held to the
// end while the others are handed back at once, so later messages are
// released before earlier ones while decoding goes on: the held messages
// stay intact (a message's arena blocks are its own).
func TestReadAheadReleaseOutOfOrder(t *testing.T) {
	render := func(m *Message) string {
		var b strings.Builder
		for _, s := range m.Segments {
			fmt.Fprintf(&b, "  %+v %s\n", s.Pos, s.String())
		}
		return b.String()
	}
	for name, data := range readAheadInputs(t) {
		if strings.Contains(name, "/") {
			continue
		}
		d := NewDecoder(bytes.NewReader(data), WithReadAhead(), withReadAheadBatch(3))
		type held struct {
			m    *Message
			text string
		}
		var kept []held
		n := 0
		for {
			m, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			if n++; n%4 == 1 {
				kept = append(kept, held{m, render(m)})
			} else {
				d.Release(m)
			}
		}
		d.Close()
		if n < 8 {
			t.Fatalf("%s: %d messages, too few for the test", name, n)
		}
		for _, h := range kept {
			if now := render(h.m); now != h.text {
				t.Fatalf("%s: a held message changed while later ones were released:\n%s\nwas:\n%s", name, now, h.text)
			}
		}
	}
}
