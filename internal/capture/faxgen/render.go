package faxgen

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fogleman/gg"
	"github.com/go-pdf/fpdf"
	"github.com/golang/freetype/truetype"
	"golang.org/x/image/font"
)

//go:embed fonts/*.ttf
var fontFS embed.FS

var fontFiles = map[fontID]string{
	fSans: "fonts/DejaVuSans.ttf", fSansBold: "fonts/DejaVuSans-Bold.ttf", fMono: "fonts/DejaVuSansMono.ttf",
	fSerif: "fonts/DejaVuSerif.ttf", fHand: "fonts/Humor-Sans.ttf",
}

var (
	fontsOnce sync.Once
	fontBytes map[fontID][]byte
	fontTT    map[fontID]*truetype.Font
	fontErr   error
)

func loadFonts() error {
	fontsOnce.Do(func() {
		fontBytes, fontTT = map[fontID][]byte{}, map[fontID]*truetype.Font{}
		for id, name := range fontFiles {
			b, err := fontFS.ReadFile(name)
			if err != nil {
				fontErr = err
				return
			}
			f, err := truetype.Parse(b)
			if err != nil {
				fontErr = fmt.Errorf("parsing %s: %w", name, err)
				return
			}
			fontBytes[id], fontTT[id] = b, f
		}
	})
	return fontErr
}

// Page geometry: a fax line is 1728 pixels at 204 dpi (215 mm); the page
// is A4 long.
const (
	pageWmm = 1728 / 204.0 * 25.4
	pageHmm = 297.0
	dpiX    = 204.0
)

// Resolution is a fax mode.
type Resolution string

// The fax modes.
const (
	Standard Resolution = "standard" // 204 x 98 dpi
	Fine     Resolution = "fine"     // 204 x 196 dpi
)

func (r Resolution) dpiY() float64 {
	if r == Standard {
		return 98
	}
	return 196
}

// raster draws at 204 dpi square with gg.
type raster struct {
	dc    *gg.Context
	rng   *rand.Rand
	faces map[[2]int]font.Face
}

func px(mm float64) float64 { return mm / 25.4 * dpiX }

func (r *raster) face(f fontID, size float64) font.Face {
	key := [2]int{int(f), int(size * 100)}
	if fc, ok := r.faces[key]; ok {
		return fc
	}
	fc := truetype.NewFace(fontTT[f], &truetype.Options{Size: size * dpiX / 72, Hinting: font.HintingNone})
	r.faces[key] = fc
	return fc
}

func (r *raster) text(x, y float64, s string, f fontID, size float64, a align) {
	r.dc.SetFontFace(r.face(f, size))
	r.dc.SetRGB(0, 0, 0)
	ax := 0.0
	if a == right {
		ax = 1
	}
	r.dc.DrawStringAnchored(s, px(x), px(y), ax, 0)
}

func (r *raster) hand(x, y float64, s string, size float64, a align) {
	fc := r.face(fHand, size)
	r.dc.SetFontFace(fc)
	w, _ := r.dc.MeasureString(s)
	cx := px(x)
	if a == right {
		cx -= w * 1.05
	}
	cy := px(y) + (r.rng.Float64()-0.5)*px(0.8)
	slant := (r.rng.Float64() - 0.5) * 0.06
	r.dc.SetRGB(0.1, 0.1, 0.15)
	for _, ch := range s {
		g := string(ch)
		adv, _ := r.dc.MeasureString(g)
		jy := (r.rng.Float64() - 0.5) * px(0.5)
		rot := slant + (r.rng.Float64()-0.5)*0.1
		r.dc.Push()
		r.dc.RotateAbout(rot, cx, cy+jy)
		r.dc.DrawString(g, cx, cy+jy)
		r.dc.Pop()
		cx += adv * (1.02 + (r.rng.Float64()-0.5)*0.08)
		cy += slant * adv * 0.3
	}
}

func (r *raster) line(x1, y1, x2, y2, width float64) {
	r.dc.SetRGB(0, 0, 0)
	r.dc.SetLineWidth(math.Max(1, px(width)))
	r.dc.DrawLine(px(x1), px(y1), px(x2), px(y2))
	r.dc.Stroke()
}

func (r *raster) rect(x, y, w, h, width float64) {
	r.dc.SetRGB(0, 0, 0)
	r.dc.SetLineWidth(math.Max(1, px(width)))
	r.dc.DrawRectangle(px(x), px(y), px(w), px(h))
	r.dc.Stroke()
}

// textPDF draws a PDF with a text layer.
type textPDF struct {
	pdf *fpdf.Fpdf
}

var pdfFamilies = map[fontID]string{fSans: "dejavu", fSansBold: "dejavub", fMono: "dejavumono", fSerif: "dejavuserif", fHand: "humor"}

func (p *textPDF) text(x, y float64, s string, f fontID, size float64, a align) {
	p.pdf.SetFont(pdfFamilies[f], "", size)
	if a == right {
		x -= p.pdf.GetStringWidth(s)
	}
	p.pdf.Text(x, y, s)
}

func (p *textPDF) hand(x, y float64, s string, size float64, a align) {
	p.text(x, y, s, fHand, size, a)
}

func (p *textPDF) line(x1, y1, x2, y2, width float64) {
	p.pdf.SetLineWidth(width)
	p.pdf.Line(x1, y1, x2, y2)
}

func (p *textPDF) rect(x, y, w, h, width float64) {
	p.pdf.SetLineWidth(width)
	p.pdf.Rect(x, y, w, h, "D")
}

// fixedTime is the creation date of every generated PDF.
var fixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newPDF() *fpdf.Fpdf {
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: pageWmm, Ht: pageHmm}})
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(fixedTime)
	pdf.SetModificationDate(fixedTime)
	pdf.SetProducer("ordergate faxgen", false)
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	return pdf
}

// pageImage renders the layout as a fax machine would scan and send it.
func pageImage(l *layout, t *Truth, res Resolution, rng *rand.Rand) *image.Paletted {
	w := 1728
	h := int(math.Round(px(pageHmm)))
	dc := gg.NewContext(w, h)
	dc.SetRGB(1, 1, 1)
	dc.Clear()
	r := &raster{dc: dc, rng: rng, faces: map[[2]int]font.Face{}}
	// The page lies a little askew on the scanner.
	skew := (rng.Float64() - 0.5) * 2 * 1.2 * math.Pi / 180
	dx, dy := (rng.Float64()-0.5)*px(4), (rng.Float64()-0.5)*px(4)
	dc.Push()
	dc.Translate(dx, dy)
	dc.RotateAbout(skew, float64(w)/2, float64(h)/2)
	l.draw(r, t)
	stamp(r, t, rng)
	dc.Pop()
	// The sending machine's header line is not skewed.
	cu := customers[t.CustomerID]
	hdr := fmt.Sprintf("%s   FAX %s   %s   S. 01/01", t.FaxTime.Format("02.01.2006 15:04"), cu.phone, cu.name)
	r.text(8, 4.2, hdr, fMono, 8, left)
	return degrade(dc.Image().(*image.RGBA), res, rng)
}

// stamp presses a received stamp somewhere in the right margin area.
func stamp(r *raster, t *Truth, rng *rand.Rand) {
	if rng.IntN(3) == 0 {
		return
	}
	x := 150 + rng.Float64()*20
	y := 12 + rng.Float64()*18
	ang := (rng.Float64() - 0.5) * 0.3
	dc := r.dc
	dc.Push()
	dc.RotateAbout(ang, px(x), px(y))
	dc.SetRGB(0.45, 0.45, 0.45)
	dc.SetLineWidth(px(0.6))
	dc.DrawRectangle(px(x-2), px(y-6), px(44), px(15))
	dc.Stroke()
	dc.SetFontFace(r.face(fSansBold, 9))
	dc.DrawString("EINGANG", px(x+8), px(y))
	dc.DrawString(t.FaxTime.Format("02. Jan 2006"), px(x+3), px(y+6))
	dc.Pop()
}

// degrade resamples to the fax's vertical resolution, adds scanner noise
// and thresholds to one bit.
func degrade(src *image.RGBA, res Resolution, rng *rand.Rand) *image.Paletted {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	lum := make([]float64, w*h)
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			lum[y*w+x] = float64(row[4*x])
		}
	}
	outH := int(math.Round(float64(h) * res.dpiY() / dpiX))
	gray := make([]float64, w*outH)
	scale := float64(h) / float64(outH)
	for oy := range outH {
		y0 := float64(oy) * scale
		y1 := y0 + scale
		for x := range w {
			sum, wt := 0.0, 0.0
			for y := int(y0); y < int(math.Ceil(y1)) && y < h; y++ {
				cover := math.Min(y1, float64(y+1)) - math.Max(y0, float64(y))
				sum += lum[y*w+x] * cover
				wt += cover
			}
			gray[oy*w+x] = sum / wt
		}
	}
	pal := color.Palette{color.Gray{0}, color.Gray{255}}
	out := image.NewPaletted(image.Rect(0, 0, w, outH), pal)
	thr := 150 + (rng.Float64()-0.5)*40
	for i, g := range gray {
		g += rng.NormFloat64() * 28
		idx := uint8(1)
		if g < thr {
			idx = 0
		}
		out.Pix[i] = idx
	}
	// Specks and dropouts.
	n := w * outH / 4000
	for range n {
		x, y := rng.IntN(w), rng.IntN(outH)
		out.Pix[y*w+x] = 0
		if rng.IntN(4) == 0 && x+1 < w {
			out.Pix[y*w+x+1] = 0
		}
	}
	// A faint vertical streak from a dirty scanner glass, sometimes.
	if rng.IntN(3) == 0 {
		x := rng.IntN(w)
		for y := range outH {
			if rng.IntN(3) == 0 {
				out.Pix[y*w+x] = 0
			}
		}
	}
	return out
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encoding the page image: %w", err)
	}
	return buf.Bytes(), nil
}
