package edifact

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/fixtures/bulk"
)

// releaseInput has clean messages, messages without UNT followed by a
// UNH (the UNH read while closing a message starts the next one), a
// header error and data between interchanges.
func releaseInput(t *testing.T) []byte {
	var b bytes.Buffer
	if err := bulk.EDIFACT(&b, 30, 3, 3); err != nil {
		t.Fatal(err)
	}
	b.WriteString("UNA:+.? '\nUNB+UNOC:3+4012345000009:14+4000000000002:14+261127:1200+77'\n")
	for i := range 5 {
		fmt.Fprintf(&b, "UNH+%d+ORDERS:D:96A:UN:EAN008'\nBGM+220+PO-%d+9'\nDTM+137:20261127:102'\n", i+1, i)
		for j := range 100 * (i % 3) {
			fmt.Fprintf(&b, "LIN+%d'\nQTY+21:%d:PCE'\n", j+1, j+1)
		}
		if i%2 == 1 {
			fmt.Fprintf(&b, "UNT+%d+%d'\n", 3+200*(i%3)+1, i+1)
		}
	}
	b.WriteString("UNZ+5+77'\nXYZ+1'\n")
	b.WriteString("UNB+UNOX:3+4012345000009:14+4000000000002:14+261127:1200+78'\nUNH+1+ORDERS:D:96A:UN:EAN008'\nBGM+220+PO-9+9'\nUNT+3+1'\nUNZ+1+78'\n")
	if err := bulk.EDIFACT(&b, 5, 2, 4); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRelease checks that a Decoder given its messages back (Release),
// early or late, gives message by message what one that is not gives,
// and that WithMessageReuse does too where a message has no UNT (the
// message closed by the next UNH is returned whole, and the next one
// keeps its UNH).
func TestRelease(t *testing.T) {
	in := releaseInput(t)
	want := fullTrace(t, bytes.NewReader(in), -1)
	if !strings.Contains(want, "has no UNT") || !strings.Contains(want, "syntax:") {
		t.Fatalf("the input does not have the cases:\n%s", want)
	}
	for _, lag := range []int{0, 1, 4} {
		if got := fullTrace(t, bytes.NewReader(in), lag); got != want {
			t.Errorf("with Release after %d messages:\n%s\nwant:\n%s", lag, got, want)
		}
	}
	if got := fullTrace(t, bytes.NewReader(in), -1, WithMessageReuse()); got != want {
		t.Errorf("with WithMessageReuse:\n%s\nwant:\n%s", got, want)
	}
	d := NewDecoder(bytes.NewReader(in))
	var all []*Message
	for {
		m, err := d.Next()
		if err == io.EOF {
			break
		}
		all = append(all, m)
	}
	for _, m := range all {
		d.Release(m)
	}
	if len(d.free) == 0 || len(d.arena.pool.strs) == 0 {
		t.Errorf("nothing pooled: %d messages, %d blocks", len(d.free), len(d.arena.pool.strs))
	}
}
