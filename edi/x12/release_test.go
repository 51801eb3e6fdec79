package x12

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// releaseTrace is decodeTrace with Decoder.Release: each set is handed
// back lag sets after it was returned, and its segments must be as they
// were when it was returned until then.
func releaseTrace(t *testing.T, input []byte, lag int, opts ...Option) string {
	d := NewDecoder(bytes.NewReader(input), opts...)
	var b strings.Builder
	type held struct {
		tx   *Transaction
		text string
	}
	var queue []held
	render := func(tx *Transaction) string {
		var b strings.Builder
		fmt.Fprintf(&b, "set %s %s accepted=%v ic=%d g=%d\n", tx.Type, tx.Envelope.MessageControl, tx.Accepted, tx.Interchange, tx.Group)
		for i := range tx.Segments {
			s := &tx.Segments[i]
			fmt.Fprintf(&b, "  %d/%d@%d %s\n", s.Pos.Index, s.Pos.InMessage, s.Pos.Offset, s.String())
		}
		for _, e := range tx.Errors {
			fmt.Fprintf(&b, "  error: %v\n", e)
		}
		return b.String()
	}
	release := func() {
		h := queue[0]
		queue = queue[1:]
		if now := render(h.tx); now != h.text {
			t.Fatalf("a set changed before it was released:\n%s\nwas:\n%s", now, h.text)
		}
		d.Release(h.tx)
		if h.tx.Segments != nil {
			t.Fatal("Release left the segments")
		}
		d.Release(h.tx) // twice: nothing more
	}
	for {
		tx, err := d.Next()
		if err != nil {
			fmt.Fprintf(&b, "end: %v\n", err)
			break
		}
		h := held{tx, render(tx)}
		b.WriteString(h.text)
		queue = append(queue, h)
		for len(queue) > lag {
			release()
		}
	}
	for len(queue) > 0 {
		release()
	}
	fmt.Fprintf(&b, "report: %s\nerrors: %v\n", summarize(d.Report()), d.Errors())
	return b.String()
}

// TestRelease checks that a Decoder given its sets back (Release), early
// or late, gives set by set what one that is not gives, on the corpus,
// the test data and sets cut off by the next ST (the ST read while
// closing a set is kept by the next one), and that it recycles.
func TestRelease(t *testing.T) {
	var inputs [][]byte
	dirs := []string{"testdata"}
	_, here, _, _ := runtime.Caller(0)
	if corpus := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "corpus"); dirExists(corpus) {
		dirs = append(dirs, corpus)
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err == nil && bytes.Contains(data, []byte("ISA")) {
				inputs = append(inputs, data)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var cut strings.Builder
	cut.WriteString(base850[:strings.Index(base850, "ST*")])
	for i := range 6 {
		fmt.Fprintf(&cut, "ST*850*000%d~\nBEG*00*SA*%d**20261118~\n", i+1, i)
		for j := range 300 * (i % 3) {
			fmt.Fprintf(&cut, "PO1*%d*5*EA*1.25**BP*X%d*VP*Y~\n", j, i)
		}
		if i%2 == 1 {
			fmt.Fprintf(&cut, "SE*%d*000%d~\n", 300*(i%3)+3, i+1)
		}
	}
	cut.WriteString("GE*6*4711~\n" + base850[:strings.Index(base850, "GS*")] + "GS*PO*A*B*20261118*1200*9*X*004010~\nST*850*0001~\nBEG*00*SA*9**20261118~\nIEA*1*000004711~\n")
	inputs = append(inputs, []byte(base850), []byte(cut.String()), []byte(base850+base850+cut.String()))
	for i, in := range inputs {
		for _, opts := range [][]Option{nil, {MaxSetSize(300)}, {CompactReport()}} {
			want := decodeTrace(in, opts...)
			for _, lag := range []int{0, 1, 3} {
				if got := releaseTrace(t, in, lag, opts...); got != want {
					t.Errorf("input %d (%d bytes) with Release after %d sets:\n%s\nwant:\n%s", i, len(in), lag, got, want)
				}
			}
		}
	}
	// Recycling: slabs and segment lists come back.
	d := NewDecoder(strings.NewReader(strings.Repeat(base850, 50)))
	for {
		tx, err := d.Next()
		if err != nil {
			break
		}
		d.Release(tx)
	}
	if len(d.rd.pool) == 0 || len(d.free) == 0 {
		t.Errorf("nothing pooled: %d slabs, %d segment lists", len(d.rd.pool), len(d.free))
	}
	// Under ReuseSegments Release does nothing.
	d = NewDecoder(strings.NewReader(base850), ReuseSegments())
	tx, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	d.Release(tx)
	if tx.Segments == nil || len(d.free) > 0 || len(d.rd.pool) > 0 {
		t.Error("Release under ReuseSegments took the set")
	}
}
