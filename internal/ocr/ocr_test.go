package ocr

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/internal/fixtures"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// minimalPDF writes a PDF with the given page objects (each a page
// dictionary body without the Parent), one shared content stream and a
// correct xref table.
func minimalPDF(pages []string, content []byte, compress bool) []byte {
	var objs []string
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+i)
	}
	objs = append(objs, "<< /Type /Catalog /Pages 2 0 R >>")
	objs = append(objs, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	stream := content
	filter := ""
	if compress {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(content)
		w.Close()
		stream, filter = b.Bytes(), " /Filter /FlateDecode"
	}
	objs = append(objs, fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(stream), filter, stream))
	for _, p := range pages {
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /Contents 3 0 R "+p+" >>")
	}
	return fixtures.PDF(objs)
}

func needTools(t *testing.T) {
	for _, tool := range []string{"prlimit", "pdfinfo", "pdftotext", "pdftoppm", "pdfimages", "tesseract"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func TestHostileInput(t *testing.T) {
	needTools(t)
	a4 := "/MediaBox [0 0 595 842]"
	many := make([]string, 50)
	for i := range many {
		many[i] = a4
	}
	tests := []struct {
		name string
		pdf  []byte
		want error
	}{
		{"not a PDF", []byte("GIF89a...."), ErrUnreadable},
		{"empty", nil, ErrUnreadable},
		{"truncated", minimalPDF([]string{a4}, []byte("BT ET"), false)[:60], ErrUnreadable},
		{"garbage after the header", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0xff, 0x00, 0x13}, 500)...), ErrUnreadable},
		{"a page of 5 x 5 metres", minimalPDF([]string{"/MediaBox [0 0 14400 14400]"}, []byte("BT ET"), false), ErrUnreadable},
		{"too many pages", minimalPDF(many, []byte("BT ET"), false), ErrUnreadable},
		{"too large", append([]byte("%PDF-1.4\n"), make([]byte, 1<<20)...), ErrUnreadable},
	}
	r := New(Options{Limits: Limits{CPUSeconds: 5, AddressSpace: 1 << 30, Timeout: 10 * time.Second, MaxBytes: 512 << 10,
		MaxPages: 20, MaxPixels: 40_000_000, MaxOutput: 8 << 20}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Recognize(context.Background(), tt.pdf)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustZlib(b []byte) io.Reader {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	return r
}

// TestDecompressionBombHitsTheLimit: an image of 40000 x 40000 pixels
// (200 MB inflated from about 200 KB) on an A4 page is refused by its
// declared size before rasterising; with that check out of the way
// (MaxPixels raised), the subprocess limits stop pdftoppm. Both end in
// ErrLimit, fast.
func TestDecompressionBombHitsTheLimit(t *testing.T) {
	needTools(t)
	z, err := io.ReadAll(mustZlib(fixtures.ZeroStream(3<<20 + 5)))
	if err != nil || len(z) != 3<<20+5 || bytes.ContainsFunc(z, func(r rune) bool { return r != 0 }) {
		t.Fatalf("ZeroStream inflates to %d bytes, %v", len(z), err)
	}
	bomb := fixtures.ImageBombPDF(40000, 40000)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes; it should be small", len(bomb))
	}
	limits := Limits{CPUSeconds: 1, AddressSpace: 256 << 20, Timeout: 2 * time.Second, MaxBytes: 20 << 20,
		MaxPages: 20, MaxPixels: 40_000_000, MaxOutput: 8 << 20}
	backstop := limits
	backstop.MaxPixels = 1 << 40
	for _, tt := range []struct {
		name   string
		limits Limits
		within time.Duration
		says   string
	}{
		{"refused by its declared size", limits, 2 * time.Second, "40000 x 40000 pixels"},
		{"stopped by the subprocess limits", backstop, 4 * time.Second, "pdftoppm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{Limits: tt.limits})
			start := time.Now()
			rec, err := r.Recognize(context.Background(), bomb)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("Recognize = %v, %v; want an error wrapping ErrLimit", rec, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if d := time.Since(start); d > tt.within {
				t.Errorf("took %s, want under %s", d, tt.within)
			}
			t.Logf("%s: %v", time.Since(start), err)
		})
	}
}

func TestParseTSV(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n" +
		"5\t1\t1\t1\t1\t1\t245\t1145\t65\t32\t95.969223\tPos\n" +
		"5\t1\t1\t1\t1\t2\t362\t1148\t162\t34\t-1\t \n" +
		"5\t1\t1\t1\t1\t3\t659\t1154\t257\t43\t91\tBezeichnung\n"
	ws, err := ParseTSV([]byte(tsv), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Text != "Pos" || ws[0].X != 245 || ws[0].H != 32 || ws[0].Page != 2 || ws[1].Conf != 0.91 {
		t.Errorf("words = %+v", ws)
	}
	if _, err := ParseTSV([]byte("5\t1\t1\t1\t1\t1\tx\t1\t1\t1\t1\ta\n"), 1); err == nil {
		t.Error("a bad number passed")
	}
}

func TestParseImageList(t *testing.T) {
	out := "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n" +
		"--------------------------------------------------------------------------------------------\n" +
		"   1     0 image    1728  1146  index   1   1  image  no         5  0   204    98 13.0K 5.4%\n"
	in := Info{Images: parseImageList([]byte(out))}
	if in.FaxMode(1) != "standard" || in.Images[0].Width != 1728 || in.FaxMode(2) != "" {
		t.Errorf("info = %+v", in)
	}
}

func FuzzParseTSV(f *testing.F) {
	f.Add([]byte("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n5\t1\t1\t1\t1\t1\t245\t1145\t65\t32\t95.9\tPos\n"))
	f.Add([]byte("5\t1\t1\t1\t1\t1\t1\t1\t1\t1\t-1\t\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ws, err := ParseTSV(b, 1)
		if err != nil {
			return
		}
		for _, w := range ws {
			if w.Conf < 0 || w.Text == "" {
				t.Fatalf("word %+v", w)
			}
		}
	})
}

func FuzzParseBBoxLayout(f *testing.F) {
	f.Add([]byte(`<html><body><doc><page width="600" height="800"><flow><block><line><word xMin="1" yMin="2" xMax="3" yMax="4">A&amp;B</word></line></block></flow></page></doc></body></html>`))
	f.Add([]byte(`<html><body><doc><page width="x"></page></doc></body></html>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseBBoxLayout(b)
	})
}

func FuzzDecodePGM(f *testing.F) {
	f.Add([]byte("P5\n2 2\n255\n\x00\xff\x00\xff"))
	f.Add([]byte("P5 # comment\n1 1 255 x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := DecodePGM(b)
		if err == nil && img.Rect.Dx()*img.Rect.Dy() > len(b) {
			t.Fatalf("image %v larger than the input", img.Rect)
		}
	})
}
