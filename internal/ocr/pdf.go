package ocr

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/normalize/capture"
)

// Info is what pdfinfo and pdfimages tell about a PDF.
type Info struct {
	Pages  int
	Sizes  [][2]float64 // page width and height in points, per page read
	Images []ImageInfo
}

// ImageInfo is one image of a page (pdfimages -list).
type ImageInfo struct {
	Page          int
	Width, Height int
	XPPI, YPPI    int
	BPC           int
}

// FaxMode returns "fine" or "standard" for a page that is one 1-bit image
// (by its vertical resolution), "" for anything else.
func (in Info) FaxMode(page int) string {
	for _, im := range in.Images {
		if im.Page != page {
			continue
		}
		switch {
		case im.YPPI >= 150:
			return "fine"
		case im.YPPI > 0:
			return "standard"
		}
	}
	return ""
}

const pdfFile = "in.pdf"

// stage writes the PDF into a fresh work directory after the cheap
// checks.
func (r *Runner) stage(pdf []byte) (string, func(), error) {
	if len(pdf) > r.limits.MaxBytes {
		return "", nil, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrUnreadable, len(pdf), r.limits.MaxBytes)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(pdf[:min(len(pdf), 1024)], "\x00\t\r\n "), []byte("%PDF-")) {
		return "", nil, fmt.Errorf("%w: not a PDF", ErrUnreadable)
	}
	dir, done, err := r.workdir()
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, pdfFile), pdf, 0o600); err != nil {
		done()
		return "", nil, fmt.Errorf("writing the PDF: %w", err)
	}
	return dir, done, nil
}

func (r *Runner) info(ctx context.Context, dir string) (Info, error) {
	out, err := r.run(ctx, dir, nil, "pdfinfo", "-l", strconv.Itoa(r.limits.MaxPages), pdfFile)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	var in Info
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case k == "Pages":
			in.Pages, _ = strconv.Atoi(v)
		case k == "Page size" || strings.HasPrefix(k, "Page") && strings.HasSuffix(k, "size"):
			f := strings.Fields(v) // 609.88 x 841.89 pts
			if len(f) >= 3 {
				w, _ := strconv.ParseFloat(f[0], 64)
				h, _ := strconv.ParseFloat(f[2], 64)
				in.Sizes = append(in.Sizes, [2]float64{w, h})
			}
		}
	}
	if in.Pages < 1 {
		return Info{}, fmt.Errorf("%w: no pages", ErrUnreadable)
	}
	if in.Pages > r.limits.MaxPages {
		return Info{}, fmt.Errorf("%w: %d pages is over the limit of %d", ErrUnreadable, in.Pages, r.limits.MaxPages)
	}
	for i, s := range in.Sizes {
		px := int64(s[0]/72*300) * int64(s[1]/72*300)
		if px > r.limits.MaxPixels || s[0] <= 0 || s[1] <= 0 {
			return Info{}, fmt.Errorf("%w: page %d is %.0f x %.0f pt, too large to rasterise", ErrUnreadable, i+1, s[0], s[1])
		}
	}
	out, err = r.run(ctx, dir, nil, "pdfimages", "-list", "-l", strconv.Itoa(r.limits.MaxPages), pdfFile)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	in.Images = parseImageList(out)
	for _, im := range in.Images {
		// An image's declared size is what the rasteriser decodes, however
		// small the page and the compressed stream (an inflate bomb of a
		// few hundred kilobytes can declare 40000 x 40000 pixels): refused
		// before it is decoded.
		if px := int64(im.Width) * int64(im.Height); px > r.limits.MaxPixels || im.Width < 0 || im.Height < 0 {
			return Info{}, fmt.Errorf("%w: %w: page %d has an image of %d x %d pixels, over the limit of %d",
				ErrUnreadable, ErrLimit, im.Page, im.Width, im.Height, r.limits.MaxPixels)
		}
	}
	return in, nil
}

// Info reads a PDF's page count, page sizes and images.
func (r *Runner) Info(ctx context.Context, pdf []byte) (Info, error) {
	dir, done, err := r.stage(pdf)
	if err != nil {
		return Info{}, err
	}
	defer done()
	return r.info(ctx, dir)
}

func parseImageList(out []byte) []ImageInfo {
	var ims []ImageInfo
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
		if len(f) < 14 || f[2] != "image" {
			continue
		}
		atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
		ims = append(ims, ImageInfo{Page: atoi(f[0]), Width: atoi(f[3]), Height: atoi(f[4]), BPC: atoi(f[7]), XPPI: atoi(f[12]), YPPI: atoi(f[13])})
	}
	return ims
}

type bboxDoc struct {
	Pages []struct {
		Width  float64 `xml:"width,attr"`
		Height float64 `xml:"height,attr"`
		Words  []struct {
			XMin float64 `xml:"xMin,attr"`
			YMin float64 `xml:"yMin,attr"`
			XMax float64 `xml:"xMax,attr"`
			YMax float64 `xml:"yMax,attr"`
			Text string  `xml:",chardata"`
		} `xml:"flow>block>line>word"`
	} `xml:"body>doc>page"`
}

func (r *Runner) textLayer(ctx context.Context, dir string) (*capture.Document, error) {
	out, err := r.run(ctx, dir, nil, "pdftotext", "-bbox-layout", "-l", strconv.Itoa(r.limits.MaxPages), "-enc", "UTF-8", pdfFile, "-")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return ParseBBoxLayout(out)
}

// ParseBBoxLayout reads pdftotext -bbox-layout output into a Document
// with boxes in points.
func ParseBBoxLayout(out []byte) (*capture.Document, error) {
	var bd bboxDoc
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	if err := dec.Decode(&bd); err != nil {
		return nil, fmt.Errorf("reading pdftotext output: %w", err)
	}
	d := &capture.Document{Kind: capture.KindTextLayer}
	for i, p := range bd.Pages {
		pg := capture.Page{Number: i + 1, Width: p.Width, Height: p.Height}
		for _, w := range p.Words {
			pg.Words = append(pg.Words, capture.Word{Text: w.Text, Page: i + 1, X: w.XMin, Y: w.YMin, W: w.XMax - w.XMin, H: w.YMax - w.YMin, Conf: 1})
		}
		d.Pages = append(d.Pages, pg)
	}
	return d, nil
}

// rasterize renders every page at 300 dpi in grey and returns the page
// images.
func (r *Runner) rasterize(ctx context.Context, dir string, pages int) ([]*image.Gray, error) {
	if _, err := r.run(ctx, dir, nil, "pdftoppm", "-r", "300", "-gray", "-l", strconv.Itoa(pages), pdfFile, "page"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "page-*.pgm"))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(names, func(a, b string) int {
		return pageNo(a) - pageNo(b)
	})
	var out []*image.Gray
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Base(n), err)
		}
		img, err := DecodePGM(b)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Base(n), err)
		}
		out = append(out, img)
	}
	return out, nil
}

func pageNo(name string) int {
	s := strings.TrimSuffix(filepath.Base(name), ".pgm")
	n, _ := strconv.Atoi(s[strings.LastIndexByte(s, '-')+1:])
	return n
}

// DecodePGM reads a binary (P5) 8-bit PGM.
func DecodePGM(b []byte) (*image.Gray, error) {
	var fields []string
	i := 0
	for len(fields) < 4 && i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
			i++
		}
		if i < len(b) && b[i] == '#' {
			for i < len(b) && b[i] != '\n' {
				i++
			}
			continue
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		fields = append(fields, string(b[i:j]))
		i = j
	}
	if len(fields) < 4 || fields[0] != "P5" {
		return nil, fmt.Errorf("not a binary PGM")
	}
	w, _ := strconv.Atoi(fields[1])
	h, _ := strconv.Atoi(fields[2])
	maxv, _ := strconv.Atoi(fields[3])
	i++ // the single whitespace after maxval
	// w*h can overflow: the data must hold h rows of w bytes.
	if w <= 0 || h <= 0 || maxv != 255 || (len(b)-i)/h < w {
		return nil, fmt.Errorf("PGM %dx%d max %d: bad header or short data", w, h, maxv)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, b[i:i+w*h])
	return img, nil
}
