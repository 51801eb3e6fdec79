package edifact

import (
	"bytes"
	"strings"
	"testing"
)

// TestSizeHint: a Decoder told its input's size, right or wrong, gives
// what one with the default buffer gives, message by message, error by
// error and report and all: on the read-ahead inputs (the corpus among
// them) and on a segment longer than the hinted buffer (read across
// refills).
func TestSizeHint(t *testing.T) {
	in := readAheadInputs(t)
	in["long FTX"] = []byte(strings.Replace(baseInterchange, "BGM+", "FTX+AAI+++"+strings.Repeat("x", 3000)+"'BGM+", 1))
	for name, data := range in {
		want := fullTrace(t, bytes.NewReader(data), -1)
		for _, hint := range []int64{1, int64(len(data) / 3), int64(len(data)), int64(len(data)) + 1, 1 << 30} {
			// Messages kept, released one by one (their blocks reused
			// by later messages), and decoded with WithMessageReuse.
			for _, mode := range []struct {
				name string
				lag  int
				opts []Option
			}{
				{"kept", -1, nil},
				{"released", 0, nil},
				{"released after 2", 2, nil},
				{"WithMessageReuse", -1, []Option{WithMessageReuse()}},
			} {
				if got := fullTrace(t, bytes.NewReader(data), mode.lag, append(mode.opts, SizeHint(hint))...); got != want {
					t.Fatalf("%s (%d bytes), %s, with SizeHint(%d) gives\n%s\nwant\n%s", name, len(data), mode.name, hint, got, want)
				}
			}
		}
	}
}

// TestSizeHintBuffer: the read buffer is the hinted size plus one, within
// 512 bytes and 64 KiB.
func TestSizeHintBuffer(t *testing.T) {
	for _, tt := range []struct {
		opts []Option
		want int
	}{
		{nil, bufSize},
		{[]Option{SizeHint(0)}, bufSize},
		{[]Option{SizeHint(10)}, minHintedBuf},
		{[]Option{SizeHint(2500)}, 2501},
		{[]Option{SizeHint(1 << 20)}, bufSize},
	} {
		if got := len(NewReader(strings.NewReader(""), tt.opts...).buf); got != tt.want {
			t.Errorf("%d option(s): buffer of %d bytes, want %d", len(tt.opts), got, tt.want)
		}
	}
}

// TestSizeHintBlocks: with a hint, the arena's blocks are sized to what
// the input's values are likely to need, from 512 to 4,096 values.
func TestSizeHintBlocks(t *testing.T) {
	for _, tt := range []struct {
		hint int64
		want int // 0: arenaBlock
	}{
		{0, 0},
		{1, 512},
		{1024, 512},
		{2500, 881},
		{10000, 2756},
		{1 << 20, arenaBlock},
	} {
		var opts []Option
		if tt.hint > 0 {
			opts = append(opts, SizeHint(tt.hint))
		}
		if got := NewDecoder(strings.NewReader(""), opts...).arena.size; got != tt.want {
			t.Errorf("SizeHint(%d): blocks of %d values, want %d", tt.hint, got, tt.want)
		}
	}
}
