package edifact

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ordergate/ordergate/internal/fixtures/bulk"
)

// withoutFusedDecoding makes readCopy leave ISO 8859 decoding to
// decodeCharset, as the reader did before it decoded while copying.
func withoutFusedDecoding() Option { return func(c *config) { c.unfused = true } }

// segmentTrace reads every segment of in and renders what the reader
// gives: segments with their positions, errors, the syntax identifier.
func segmentTrace(in []byte, oneByte bool, opts ...Option) string {
	var src io.Reader = bytes.NewReader(in)
	if oneByte {
		src = iotest.OneByteReader(src)
	}
	r := NewReader(src, opts...)
	var b strings.Builder
	for n := 0; n < len(in)+10; n++ {
		s, err := r.ReadSegment()
		if s != nil {
			fmt.Fprintf(&b, "%+v %q %s\n", s.Pos, s.Tag, s.String())
		}
		if err != nil {
			fmt.Fprintf(&b, "err %v %+v\n", err, err)
			if _, ok := err.(*SyntaxError); !ok {
				break
			}
		}
		fmt.Fprintf(&b, "  %s %q\n", r.SyntaxID(), r.Separators())
	}
	return b.String()
}

// fusedInputs are inputs whose copied segments have bytes above 0x7E
// and control characters in every position that matters to decoding
// while copying: in tags, after a release character, in UNB, beyond the
// limits, undefined in the part of ISO 8859, in several interchanges.
func fusedInputs(t *testing.T) map[string][]byte {
	in := map[string][]byte{}
	var b bytes.Buffer
	if err := bulk.EDIFACT(&b, 20, 4, 5); err != nil {
		t.Fatal(err)
	}
	in["generated"] = b.Bytes()
	unb := func(level string) string {
		return "UNB+" + level + ":3+4000000000002:14+4000000000001:14+261102:0930+IC1'\n"
	}
	body := "UNH+1+ORDERS:D:96A:UN:EAN008'\nNAD+BY+4000000000002::9++M\xfcller ?+ S\xf6hne+Stra\xdfe ?' 5+K\xf6ln'\n" +
		"FTX+AAI+++\x80C1 \x9f and ?\xe9 released?\n\xe4 after a line break+\x01ctl:\x7fdel'\n" +
		"IMD+F++:::\xe9\xe8\xea\xeb\xe0'\nIMD+F++:a\x85:\xe4\x9f+x'\nIMD+F++:\xe4b\x02+x'\nFT\xc4+1+\xe4'\n\xe4X:1+2'\nABC:\xe4+\xe9'\nUNT+8+1'\nUNZ+1+IC1'\n"
	for _, level := range []string{"UNOC", "UNOD", "UNOE", "UNOF", "UNOJ", "UNOK", "UNOA", "UNOB", "UNOY", "UNOX"} {
		in[level] = []byte(unb(level) + body)
	}
	for _, level := range []string{"UNOC", "UNOD", "UNOA", "UNOY"} {
		// The UNB's own syntax identifier decides how its bytes decode.
		in["UNB with high bytes "+level] = []byte("UNB+" + level + ":3+M\xfcller\xa1:14+4000000000001:14+261102:0930+IC1'\n" + body)
	}
	in["no UNB"] = []byte(body + unb("UNOD") + body + unb("UNOC") + body)
	in["UNA"] = []byte("UNA:+.? '" + unb("UNOD") + body)
	in["unterminated"] = []byte(unb("UNOC") + "NAD+BY+M\xfcller")
	in["unterminated tag"] = []byte(unb("UNOC") + "N\xfcD")
	long := strings.Repeat("\xe4", 300)
	in["long"] = []byte(unb("UNOC") + "FTX+AAI+++" + long + "'\nFTX+" + long + ":" + long + "'\nF\xe4X+" + long + "'\n" +
		"FTX+AAI+++" + strings.Repeat("?\xe4", 200) + "'\n" +
		"FTX+AAI+++" + strings.Repeat("\xe4", 250) + "'\n" + body)
	for _, f := range corpusFilesIfAny(t) {
		{
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in["corpus "+filepath.Base(f)] = data
		}
	}
	return in
}

// TestFusedDecoding checks that decoding ISO 8859 while copying gives
// what decodeCharset gives, segment by segment with every error, and
// that the generated input takes that path.
func TestFusedDecoding(t *testing.T) {
	limits := []Limits{{}, {MaxSegmentBytes: 200, MaxElementBytes: 40}, {MaxSegmentBytes: 301, MaxElementBytes: 299}}
	for name, data := range fusedInputs(t) {
		ls, reads := limits, []bool{false, true}
		if strings.HasPrefix(name, "corpus ") {
			ls, reads = limits[:2], reads[:1]
		}
		for _, lim := range ls {
			for _, oneByte := range reads {
				for _, tol := range []bool{false, true} {
					opts := []Option{WithLimits(lim)}
					if tol {
						opts = append(opts, WithTolerantUTF8())
					}
					want := segmentTrace(data, oneByte, append(opts, withoutFusedDecoding())...)
					if got := segmentTrace(data, oneByte, opts...); got != want {
						t.Errorf("%s, limits %+v, one byte %v, tolerant %v: decoding while copying gives\n%s\nwant\n%s",
							name, lim, oneByte, tol, got, want)
					}
				}
			}
		}
	}
	if tr := segmentTrace(fusedInputs(t)["UNOD"], false); !strings.Contains(tr, "0x80 is not allowed in UNOD") ||
		!strings.Contains(tr, "0x01 is not allowed") || !strings.Contains(tr, `"\uFFFD"`) && !strings.Contains(tr, "\ufffd") && !strings.Contains(tr, "\uFFFD") {
		t.Logf("%s", tr)
	}
	// The generated input has Latin-1 in copied segments: they must be
	// decoded while copying, not by decodeCharset.
	r := NewReader(bytes.NewReader(fusedInputs(t)["generated"]))
	fused := 0
	for {
		_, err := r.ReadSegment()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.gap == 0 && r.extra > 0 && !r.special {
			fused++
		}
	}
	if fused == 0 {
		t.Error("no segment of the generated input was decoded while copying")
	}
}
