package x12

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/edi"
)

const isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261118*1230*U*00401*000000001*0*P*>"

// readAll returns each segment in the neutral notation of edi.Segment
// String with its file ordinal and offset.
func readAll(t *testing.T, in string, opts ...Option) ([]string, []int64, *Reader, error) {
	t.Helper()
	r := NewReader(strings.NewReader(in), opts...)
	var segs []string
	var offs []int64
	for {
		s, err := r.Read()
		if err == io.EOF {
			return segs, offs, r, nil
		}
		if err != nil {
			return segs, offs, r, err
		}
		if s.Pos.Index != len(segs)+1 {
			t.Errorf("segment %s has ordinal %d, want %d", s.Tag, s.Pos.Index, len(segs)+1)
		}
		segs = append(segs, s.String())
		offs = append(offs, s.Pos.Offset)
	}
}

func TestReaderLayouts(t *testing.T) {
	isaNeutral := "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261118*1230*U*00401*000000001*0*P*>"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"tilde and LF", isa + "~\nGS*PO*A*B~\nBEG*00*SA*1~\n", []string{isaNeutral, "GS*PO*A*B", "BEG*00*SA*1"}},
		{"byte order mark", "\xEF\xBB\xBF" + isa + "~GS*PO~", []string{isaNeutral, "GS*PO"}},
		{"LF terminator", isa + "\nGS*PO*A\nBEG*00\n", []string{isaNeutral, "GS*PO*A", "BEG*00"}},
		{"CR LF as LF terminator", isa + "\r\nGS*PO*A\r\nBEG*00\r\n", []string{isaNeutral, "GS*PO*A", "BEG*00"}},
		{"CR terminator", isa + "\r\nGS*PO*A\r\nBEG*00\r\n", []string{isaNeutral, "GS*PO*A", "BEG*00"}},
		{"NAK terminator", isa + "\x15\r\nGS*PO*A\x15\r\n", []string{isaNeutral, "GS*PO*A"}},
		{"ellipsis terminator", isa + "…\nGS*PO*A…\nBEG*00…", []string{isaNeutral, "GS*PO*A", "BEG*00"}},
		{"space and tab between segments", isa + "~ \tGS*PO~\n\t\tBEG*00~  ", []string{isaNeutral, "GS*PO", "BEG*00"}},
		{"empty segments", isa + "~~GS*PO~~~", []string{isaNeutral, "GS*PO"}},
		{"no final terminator", isa + "~GS*PO*A~IEA*1*000000001\n", []string{isaNeutral, "GS*PO*A", "IEA*1*000000001"}},
		{"wrapped at 80 columns through the ISA", func() string {
			s := isa + "~GS*PO*SENDER*RECEIVER~N1*ST*SOME LONG NAME~N4*CITY~"
			var b strings.Builder
			for len(s) > 80 {
				b.WriteString(s[:80] + "\n")
				s = s[80:]
			}
			b.WriteString(s + "\n")
			return b.String()
		}(), []string{isaNeutral, "GS*PO*SENDER*RECEIVER", "N1*ST*SOME LONG NAME", "N4*CITY"}},
		{"pipe element separator", strings.ReplaceAll(isa, "*", "|") + "~GS|PO|A~", []string{isaNeutral, "GS*PO*A"}},
		{"tilde element separator with LF terminator", strings.ReplaceAll(isa[:len(isa)-1], "*", "~") + "|\nGS~PO~A|B\n",
			[]string{strings.TrimSuffix(isaNeutral, ">") + "|", "GS*PO*A:B"}},
		{"components and repetitions", strings.Replace(isa, "*U*00401*", "*^*00501*", 1) + "~AK4*1>2*66*7~CTX*A>1^B>2~",
			[]string{strings.Replace(isaNeutral, "*U*00401*", "*^*00501*", 1), "AK4*1:2*66*7", "CTX*A:1^B:2"}},
		{"no repetition separator before 00402", isa + "~MSG*A^B~", []string{isaNeutral, "MSG*A^B"}},
		{"two interchanges with different separators", isa + "~IEA*0*000000001~\n" + strings.ReplaceAll(isa, "*", "|") + "\nIEA|0|000000001\n",
			[]string{isaNeutral, "IEA*0*000000001", isaNeutral, "IEA*0*000000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, _, err := readAll(t, tt.in)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("segments:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestReaderDelimitersAndOffsets(t *testing.T) {
	in := "\xEF\xBB\xBF" + strings.Replace(isa, "*U*00401*", "*^*00501*", 1) + "~\nGS*PO~\n"
	_, offs, r, err := readAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	want := Delimiters{Element: '*', Component: '>', Repetition: '^', Segment: "~"}
	if got := r.Delimiters(); got != want {
		t.Errorf("Delimiters() = %+v, want %+v", got, want)
	}
	if got, want := offs, []int64{3, 3 + 106 + 1}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("offsets = %v, want %v", got, want)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		opts  []Option
		class error
		code  Code
		msg   string
	}{
		{"no ISA", "GS*PO*A~", nil, ErrNoInterchange, Code{}, "segment 1 (GS): the input does not start with an ISA segment"},
		{"ISA too short", "ISA*00*00*ZZ*A~", nil, ErrSeparators, Code{}, ""},
		{"bare ISA tag at the end", "ISA", nil, ErrSeparators, Code{},
			"segment 1 (ISA): the input ends after the ISA tag, where 16 elements are needed to find the separators"},
		{"bare ISA tag after an interchange", isa + "~GS*PO~ISA", nil, ErrSeparators, Code{},
			"segment 3 (ISA): the input ends after the ISA tag, where 16 elements are needed to find the separators"},
		{"terminator is a letter", isa + "XGS*PO", nil, ErrSeparators, TA1InvalidSegmentTerminator, ""},
		{"component is the element separator", isa[:len(isa)-1] + "*~", nil, ErrSeparators, TA1InvalidComponentSep, ""},
		{"segment too long", isa + "~MSG*" + strings.Repeat("x", 2000) + "~", []Option{MaxSegmentSize(1000)}, ErrLimit, Code{}, ""},
		{"element too long", isa + "~MSG*" + strings.Repeat("x", 200) + "~", []Option{MaxElementSize(100)}, ErrLimit, Code{},
			"segment 2 (MSG) element 1: data element is longer than the limit of 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, r, err := readAll(t, tt.in, tt.opts...)
			if !errors.Is(err, tt.class) {
				t.Fatalf("error %v, want %v", err, tt.class)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Code != tt.code {
				t.Errorf("code %v, want %v", se.Code, tt.code)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message %q, want %q", err.Error(), tt.msg)
			}
			if _, again := r.Read(); again != err {
				t.Errorf("a later Read returned %v, want the same error", again)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	tests := []struct {
		err  SyntaxError
		want string
	}{
		{SyntaxError{Segment: 4, Tag: "BEG", Element: 3, Err: errors.New("too long")}, "segment 4 (BEG) element 3: too long"},
		{SyntaxError{Segment: 9, Tag: "AK4", Element: 1, Component: 2, Err: errors.New("x")}, "segment 9 (AK4) element 1 component 2: x"},
		{SyntaxError{Segment: 12, Tag: "SE", Err: errors.New("count")}, "segment 12 (SE): count"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestReaderBoundedMemory reads a stream far larger than the limits: the
// reader's buffer must stay within them.
func TestReaderBoundedMemory(t *testing.T) {
	body := strings.Repeat("MSG*"+strings.Repeat("x", 100)+"~\n", 200000) // ~21 MB
	r := NewReader(io.MultiReader(strings.NewReader(isa+"~"), strings.NewReader(body)), MaxSegmentSize(4096))
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 200001 {
		t.Errorf("read %d segments, want 200001", n)
	}
	if got := cap(r.buf); got > 4096+chunkSize {
		t.Errorf("buffer grew to %d bytes", got)
	}
}

// segmentSizeRef is the Decoder's size estimate of a segment computed
// from its slices: the reference for the reader's segSize.
func segmentSizeRef(s *edi.Segment) int {
	n := len(s.Tag) + 64
	for i := 1; i <= s.Len(); i++ {
		n += 24
		for _, r := range s.Repetitions(i) {
			n += 24
			for _, c := range r {
				n += len(c) + 16
			}
		}
	}
	return n
}

// TestReaderSlabs checks the keep mode the Decoder reads with: segments
// stay intact after later reads (simple and composite, across slabs),
// and segSize matches the estimate computed from the slices.
func TestReaderSlabs(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Replace(isa, "*U*00401*", "*^*00501*", 1) + "~\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "PO1*%d*5*EA*1.25**BP*X%d*VP*Y~\nCTX*A>%d^B>2*C~\nNTE~\nMSG*~\nREF***~\n", i, i, i)
	}
	b.WriteString(strings.Repeat("*", 200) + "\nX*" + strings.Repeat("v*", 150) + "w~\n")
	in := b.String()
	want, _, _, err := readAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(strings.NewReader(in))
	r.keep = true
	var kept []*edi.Segment
	for {
		s, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, want := r.segSize, segmentSizeRef(s); got != want {
			t.Errorf("segment %d %s: segSize %d, want %d", s.Pos.Index, s.Tag, got, want)
		}
		c := *s
		kept = append(kept, &c)
	}
	if len(kept) != len(want) {
		t.Fatalf("got %d segments, want %d", len(kept), len(want))
	}
	for i, s := range kept {
		if got := s.String(); got != want[i] {
			t.Fatalf("kept segment %d = %q, want %q", i+1, got, want[i])
		}
	}
}

// TestReaderSplitRandom compares the reader's elements with a naive
// split of random segments, simple and composite, of every length around
// the eight-byte steps of the tokenizer.
func TestReaderSplitRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	head := strings.Replace(isa, "*U*00401*", "*^*00501*", 1) + "~"
	for _, alphabet := range []string{"ab*", "a*", "ab*>", "ab*^", "abc*>^", "\xe2\x80\xa6*"} {
		for n := range 60 {
			for range 20 {
				var b strings.Builder
				for range n {
					b.WriteByte(alphabet[rng.IntN(len(alphabet))])
				}
				body := b.String()
				segs, _, _, err := readAll(t, head+"X*"+body+"~")
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, e := range strings.Split(body, "*") {
					var reps []string
					for _, rep := range strings.Split(e, "^") {
						reps = append(reps, strings.Join(strings.Split(rep, ">"), ":"))
					}
					want = append(want, strings.Join(reps, "^"))
				}
				if got, w := segs[1], "X*"+strings.Join(want, "*"); got != w {
					t.Fatalf("segment X*%s: got %q, want %q", body, got, w)
				}
			}
		}
	}
}
