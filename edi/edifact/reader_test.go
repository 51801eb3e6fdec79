package edifact

import (
	"bytes"
	"errors"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ordergate/ordergate/edi"
)

// readAll reads every segment of in, rendering each as edi.Segment.String
// and each problem as its error text.
func readAll(t *testing.T, r io.Reader, opts ...Option) []string {
	t.Helper()
	rd := NewReader(r, opts...)
	var out []string
	for {
		s, err := rd.ReadSegment()
		if err == io.EOF {
			return out
		}
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("ReadSegment: %v", err)
		}
		if s != nil {
			out = append(out, s.String())
		}
		if err != nil {
			out = append(out, "ERR "+err.Error())
		}
	}
}

func TestReaderSyntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"defaults", "UNB+UNOA:3+S+R+200101:1200+1'UNH+1+ORDERS:D:96A:UN'",
			[]string{"UNB*UNOA:3*S*R*200101:1200*1", "UNH*1*ORDERS:D:96A:UN"}},
		{"custom UNA", "UNA=*.? ~UNB*UNOA=3*S*R~BGM*220*A?*B?=C?~D??~",
			[]string{"UNA*=*.? ~", "UNB*UNOA:3*S*R", "BGM*220*A*B=C~D?", "ERR segment 3 (BGM) element 2 component 1: character '~' is not allowed in UNOA"}},
		{"release everywhere", "UNB+UNOB:3+S+R'FTX+AAI+++a?+b?:c?'d??e?x'",
			[]string{"UNB*UNOB:3*S*R", "FTX*AAI***a+b:c'd?ex"}},
		{"escaped release at end of value", "UNB+UNOA:3'IFT+3+FIELD 1??+FIELD 2'",
			[]string{"UNB*UNOA:3", "IFT*3*FIELD 1?*FIELD 2"}},
		{"line breaks after terminators", "UNB+UNOA:3'\r\nUNH+1'\nBGM+220'\r\n",
			[]string{"UNB*UNOA:3", "UNH*1", "BGM*220"}},
		{"line break inside element", "UNB+UNOA:3'DTM+137:200508\n19:102'",
			[]string{"UNB*UNOA:3", "DTM*137:20050819:102"}},
		{"line break after release", "UNB+UNOA:3'FTX+A?\n+B'",
			[]string{"UNB*UNOA:3", "FTX*A+B"}},
		{"syntax 4 default repetition", "UNB+UNOC:4+S+R'CUX+3*1'",
			[]string{"UNB*UNOC:4*S*R", "CUX*3^1"}},
		{"syntax 3 star is data", "UNB+UNOC:3+S+R'CUX+3*1'",
			[]string{"UNB*UNOC:3*S*R", "CUX*3*1"}},
		{"UNA repetition", "UNA:+.?*'UNB+UNOC:4'ATT+2++M*F'",
			[]string{"UNA*:+.?*'", "UNB*UNOC:4", "ATT*2**M^F"}},
		{"UNA backslash release", "UNA:+.\\*'UNB+IATA:1'SRC'FOO+A\\+B'",
			[]string{"UNA*:+.\\*'", "UNB*IATA:1", "SRC", "FOO*A+B"}},
		{"byte order mark", "\xEF\xBB\xBFUNA:+.? 'UNB+UNOC:3'",
			[]string{"UNA*:+.? '", "UNB*UNOC:3"}},
		{"trailing empty component", "UNB+UNOA:1'RFF+VA:382324067:'",
			[]string{"UNB*UNOA:1", "RFF*VA:382324067:"}},
		{"two interchanges, second with UNA", "UNB+UNOA:3'UNZ+0+1'UNA=*.? ~UNB*UNOA=3~XYZ*A=B~",
			[]string{"UNB*UNOA:3", "UNZ*0*1", "UNA*=*.? ~", "UNB*UNOA:3", "XYZ*A:B"}},
		{"UNOC latin-1", "UNB+UNOC:3'NAD+BY+++M\xfcller'",
			[]string{"UNB*UNOC:3", "NAD*BY***Müller"}},
		{"UNOD latin-2", "UNB+UNOD:3'NAD+BY+++\xa3\xf3d\xbc'",
			[]string{"UNB*UNOD:3", "NAD*BY***Łódź"}},
		{"UNOE cyrillic", "UNB+UNOE:3'NAD+BY+++\xbc\xde\xe1\xda\xd2\xd0'",
			[]string{"UNB*UNOE:3", "NAD*BY***Москва"}},
		{"UNOW utf-8", "UNB+UNOW:4'NAD+BY+++東京'",
			[]string{"UNB*UNOW:4", "NAD*BY***東京"}},
		{"UNOY invalid utf-8", "UNB+UNOY:4'NAD+BY+++a\xffb'",
			[]string{"UNB*UNOY:4", "NAD*BY***a\uFFFDb", "ERR segment 2 (NAD) element 4 component 1: bytes are not valid UTF-8"}},
		{"UNOA lowercase", "UNB+UNOA:3'FTX+AAI+++Order'",
			[]string{"UNB*UNOA:3", "FTX*AAI***Order", "ERR segment 2 (FTX) element 4 component 1: character 'r' is not allowed in UNOA"}},
		{"UNOB lowercase", "UNB+UNOB:3'FTX+AAI+++Order'",
			[]string{"UNB*UNOB:3", "FTX*AAI***Order"}},
		{"UNOB at sign", "UNB+UNOB:3'COM+a@b:EM'",
			[]string{"UNB*UNOB:3", "COM*a@b:EM", "ERR segment 2 (COM) element 1 component 1: character '@' is not allowed in UNOB"}},
		{"UNOA high byte kept readable", "UNB+UNOA:3'NAD+SE+++B\xc3\x9cTTNER'",
			[]string{"UNB*UNOA:3", "NAD*SE***BÃ\u009cTTNER", "ERR segment 2 (NAD) element 4 component 1: character 0xC3 is not allowed in UNOA"}},
		{"UNOC tolerant utf-8 off", "UNB+UNOC:3'IMD+F++:::Kr\xc3\xa4uter'",
			[]string{"UNB*UNOC:3", "IMD*F**:::KrÃ¤uter"}},
		{"bad tag", "UNB+UNOA:3'###UNH+1'BGM+1'",
			[]string{"UNB*UNOA:3", `ERR segment 2 (###UNH): "###UNH" is not a segment tag`, "BGM*1"}},
		{"unterminated", "UNB+UNOA:3'BGM+1",
			[]string{"UNB*UNOA:3", "ERR segment 2 (BGM): segment not terminated before the end of input"}},
		{"bad UNA", "UNA:::? 'UNB+UNOA:3'",
			[]string{"ERR segment 1 (UNA): invalid service string advice: decimal mark ':' is neither '.' nor ','", "UNB*UNOA:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "one byte"} {
				var r io.Reader = strings.NewReader(tt.in)
				if mode == "one byte" {
					r = iotest.OneByteReader(r)
				}
				got := readAll(t, r)
				if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("%s: got\n%s\nwant\n%s", mode, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}

func TestReaderTolerantUTF8(t *testing.T) {
	got := readAll(t, strings.NewReader("UNB+UNOC:3'IMD+F++:::Kr\xc3\xa4uter'"), WithTolerantUTF8())
	want := []string{"UNB*UNOC:3", "IMD*F**:::Kräuter"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReaderPositions(t *testing.T) {
	in := "UNA:+.? '\nUNB+UNOA:3+S+R'\nUNH+1+ORDERS:D:96A:UN'\nBGM+220'\nUNT+3+1'\nUNZ+1+1'\nUNB+UNOA:3+S+R'\nUNH+2+X:D:96A:UN'\n"
	rd := NewReader(strings.NewReader(in))
	inMessage := []int{0, 0, 1, 2, 3, 0, 0, 1}
	var want []edi.Position
	off := 0
	for i, line := range strings.SplitAfter(strings.TrimSuffix(in, "\n"), "\n") {
		want = append(want, edi.Position{Offset: int64(off), Index: i + 1, InMessage: inMessage[i]})
		off += len(line)
	}
	for i, w := range want {
		s, err := rd.ReadSegment()
		if err != nil {
			t.Fatalf("segment %d: %v", i+1, err)
		}
		if s.Pos != w {
			t.Errorf("segment %d (%s): got {%d %d %d}, want {%d %d %d}", i+1, s.Tag, s.Pos.Offset, s.Pos.Index, s.Pos.InMessage, w.Offset, w.Index, w.InMessage)
		}
	}
}

func TestReaderLimits(t *testing.T) {
	long := strings.Repeat("A", 300)
	in := "UNB+UNOA:3'FTX+AAI+++" + long + "'BGM+220'"
	got := readAll(t, iotest.HalfReader(strings.NewReader(in)), WithLimits(Limits{MaxSegmentBytes: 200}))
	want := []string{"UNB*UNOA:3", "ERR segment 2 (FTX): segment longer than 200 bytes", "BGM*220"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	got = readAll(t, strings.NewReader(in), WithLimits(Limits{MaxElementBytes: 100}))
	want = []string{"UNB*UNOA:3", "FTX*AAI***" + long, "ERR segment 2 (FTX) element 4 component 1: value longer than 100 bytes", "BGM*220"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReaderReuseAndClone(t *testing.T) {
	rd := NewReader(strings.NewReader("UNB+UNOA:3'BGM+220+A'DTM+137:20200101:102'"))
	rd.ReadSegment()
	s, _ := rd.ReadSegment()
	kept := s.Clone()
	value := s.Value(2)
	rd.ReadSegment()
	if got := kept.String(); got != "BGM*220*A" {
		t.Errorf("clone after next read = %q, want BGM*220*A", got)
	}
	if value != "A" {
		t.Errorf("value string changed to %q", value)
	}
}

func TestReaderBrokenReader(t *testing.T) {
	rd := NewReader(iotest.TimeoutReader(strings.NewReader("UNB+UNOA:3'BGM+220'")))
	var err error
	for err == nil {
		_, err = rd.ReadSegment()
	}
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("got %v, want the underlying reader's error", err)
	}
}

// corpusDir is the shared corpus, two levels above the repository.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared corpus not available at %s", dir)
	}
	return dir
}

func corpusFiles(t testing.TB) []string {
	dir := corpusDir(t)
	roots, _ := filepath.Glob(filepath.Join(dir, "*", "edifact"))
	var files []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), "expected") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no EDIFACT files in %s", dir)
	}
	return files
}

// TestReaderChunkBoundaries reads every corpus file whole, one byte at a
// time and in halves: the segments must be the same.
func TestReaderChunkBoundaries(t *testing.T) {
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 100_000 {
			data = data[:100_000]
		}
		whole := readAll(t, bytes.NewReader(data))
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(bytes.NewReader(data)),
			"halves":   iotest.HalfReader(bytes.NewReader(data)),
		} {
			got := readAll(t, r)
			if strings.Join(got, "\n") != strings.Join(whole, "\n") {
				t.Errorf("%s read %s differs from whole read", filepath.Base(f), name)
			}
		}
	}
}

// TestReaderPlainPathAgrees reads inputs whole, where segments take the
// in-place path when they can, and one byte at a time, where every
// segment is copied: segments and problems must be the same.
func TestReaderPlainPathAgrees(t *testing.T) {
	var gen bytes.Buffer
	if err := bulk.EDIFACT(&gen, 20, 4, 11); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("X", 40)
	inputs := map[string]string{
		"generated": gen.String(),
		"UNOA bad characters": "UNB+UNOA:3+S:14+R:14+200101:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+po#1+9'" +
			"FTX+AAI+++lower case'UNT+3+1'UNZ+1+1'",
		"UNA separators": "UNA|^,\\~!UNB^UNOC|3^S|14^R|14^200101|1200^1!UNH^1^ORDERS|D|96A|UN!" +
			"IMD^F^^|||a\\!b~c|d!UNT^3^1!UNZ^1^1!",
		"line breaks inside": "UNB+UNOC:3+S:14+R:14+200101:1200+1'UNH+1+OR\r\nDERS:D:96A:UN'BGM+220\n+PO1+9'UNT+3+1'UNZ+1+1'",
		"limits":             "UNB+UNOC:3+S:14+R:14+200101:1200+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++" + long + "'FTX+AAI+++" + long + long + "'UNT+4+1'UNZ+1+1'",
		"bad tag":            "UNB+UNOC:3+S:14+R:14+200101:1200+1'U-H+1'b+x'UNZ+1+1'",
		"unterminated":       "UNB+UNOC:3+S:14+R:14+200101:1200+1'UNH+1+ORDERS",
	}
	lim := WithLimits(Limits{MaxSegmentBytes: 70, MaxElementBytes: 30})
	for name, in := range inputs {
		whole := readAll(t, strings.NewReader(in), lim)
		bytewise := readAll(t, iotest.OneByteReader(strings.NewReader(in)), lim)
		if got, want := strings.Join(whole, "\n"), strings.Join(bytewise, "\n"); got != want {
			t.Errorf("%s: whole read\n%s\nwant (one byte at a time)\n%s", name, got, want)
		}
	}
}
