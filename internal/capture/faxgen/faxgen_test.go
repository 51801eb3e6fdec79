package faxgen

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSameSeedSameBytes(t *testing.T) {
	// Faxes are slow to render: two layouts, one resolution each; text
	// PDFs, mails and rows of every layout.
	faxes := map[string]Resolution{"de-classic": Fine, "de-handwritten": Standard}
	for _, name := range Layouts() {
		t.Run(name, func(t *testing.T) {
			var sums [2][3]string
			for k := range 2 {
				d, err := New(name, 7)
				if err != nil {
					t.Fatal(err)
				}
				text, err := d.TextPDF()
				if err != nil {
					t.Fatal(err)
				}
				sums[k][0] = sha(text)
				x, err := d.XLSX()
				if err != nil {
					t.Fatal(err)
				}
				sums[k][1] = sha([]byte(d.Email())) + sha(d.CSV()) + sha(x)
				if res, ok := faxes[name]; ok {
					fax, err := d.Fax(res)
					if err != nil {
						t.Fatal(err)
					}
					sums[k][2] = sha(fax)
				}
			}
			if sums[0] != sums[1] {
				t.Errorf("seed 7 gave different files: %v vs %v", sums[0], sums[1])
			}
			other, _ := New(name, 8)
			text, _ := other.TextPDF()
			if sha(text) == sums[0][0] {
				t.Errorf("seeds 7 and 8 gave the same PDF")
			}
		})
	}
}

func sha(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func TestFaxModes(t *testing.T) {
	d, err := New("de-classic", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		res  Resolution
		h    int
		dpiY float64
	}{{Standard, 1146, 98}, {Fine, 2292, 196}} {
		if got := tt.res.dpiY(); got != tt.dpiY {
			t.Errorf("%s: %v dpi vertically, want %v", tt.res, got, tt.dpiY)
		}
		img := d.FaxImage(tt.res)
		if got := img.Bounds().Dx(); got != 1728 {
			t.Errorf("%s: width %d, want 1728", tt.res, got)
		}
		if got := img.Bounds().Dy(); got < tt.h-2 || got > tt.h+2 {
			t.Errorf("%s: height %d, want about %d", tt.res, got, tt.h)
		}
		if len(img.Palette) != 2 {
			t.Errorf("%s: %d colours, want 1 bit", tt.res, len(img.Palette))
		}
	}
}

func TestTruthAddsUp(t *testing.T) {
	for _, name := range Layouts() {
		for seed := range uint64(20) {
			d, err := New(name, seed)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Truth.Lines) < 2 {
				t.Errorf("%s: %d lines", d.Name(), len(d.Truth.Lines))
			}
			if !strings.HasPrefix(d.Truth.PODate, "2026-") {
				t.Errorf("%s: po date %s", d.Name(), d.Truth.PODate)
			}
		}
	}
}

// TestDump writes sample pages for a look: FAXGEN_DUMP=dir go test -run Dump.
func TestDump(t *testing.T) {
	dir := os.Getenv("FAXGEN_DUMP")
	if dir == "" {
		t.Skip("FAXGEN_DUMP not set")
	}
	for _, name := range Layouts() {
		d, _ := New(name, 1)
		for _, res := range []Resolution{Fine, Standard} {
			var buf bytes.Buffer
			png.Encode(&buf, d.FaxImage(res))
			os.WriteFile(filepath.Join(dir, d.Name()+"-"+string(res)+".png"), buf.Bytes(), 0o644)
			b, _ := d.Fax(res)
			os.WriteFile(filepath.Join(dir, d.Name()+"-"+string(res)+".pdf"), b, 0o644)
		}
		b, err := d.TextPDF()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, d.Name()+"-text.pdf"), b, 0o644)
		os.WriteFile(filepath.Join(dir, d.Name()+".txt"), []byte(d.Email()), 0o644)
	}
}
