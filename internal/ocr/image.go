package ocr

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
)

// RecognizeImage reads fax pages sent as an image (a TIFF, every page of
// a multi-page one, or a PNG) by OCR: each page is scaled to 300 dpi by
// its resolution (which squares the 2:1 pixels of a standard-mode fax),
// then cleaned up and recognised like a rasterised PDF page. Images over
// the limits (pages, pixels) are refused by their declared size before
// they are decoded.
func (r *Runner) RecognizeImage(ctx context.Context, data []byte) (*Recognition, error) {
	if len(data) > r.limits.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrUnreadable, len(data), r.limits.MaxBytes)
	}
	var pages []*image.Gray
	var modes []string
	switch {
	case bytes.HasPrefix(data, []byte("II*\x00")) || bytes.HasPrefix(data, []byte("MM\x00*")):
		ifds, err := tiffPages(data, r.limits.MaxPages)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
		}
		for i, ifd := range ifds {
			if px := int64(ifd.w) * int64(ifd.h); px > r.limits.MaxPixels || ifd.w <= 0 || ifd.h <= 0 {
				return nil, fmt.Errorf("%w: %w: page %d is %d x %d pixels, over the limit of %d", ErrUnreadable, ErrLimit, i+1, ifd.w, ifd.h, r.limits.MaxPixels)
			}
			// The decoder reads the first page: this copy names page i first.
			one := bytes.Clone(data)
			ifd.order.PutUint32(one[4:8], ifd.offset)
			img, err := tiff.Decode(bytes.NewReader(one))
			if err != nil {
				return nil, fmt.Errorf("%w: TIFF page %d: %w", ErrUnreadable, i+1, err)
			}
			pages = append(pages, to300(img, ifd.xdpi, ifd.ydpi))
			modes = append(modes, faxModeOf(ifd.ydpi))
		}
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
		}
		if px := int64(cfg.Width) * int64(cfg.Height); px > r.limits.MaxPixels {
			return nil, fmt.Errorf("%w: %w: the image is %d x %d pixels, over the limit of %d", ErrUnreadable, ErrLimit, cfg.Width, cfg.Height, r.limits.MaxPixels)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
		}
		xdpi, ydpi := pngDPI(data)
		pages, modes = []*image.Gray{to300(img, xdpi, ydpi)}, []string{faxModeOf(ydpi)}
	default:
		return nil, fmt.Errorf("%w: not a TIFF or PNG image", ErrUnreadable)
	}
	dir, done, err := r.workdir()
	if err != nil {
		return nil, err
	}
	defer done()
	return r.recognizePages(ctx, dir, pages, modes)
}

// faxModeOf names a fax resolution by its vertical dpi ("" when unknown
// or not a fax's).
func faxModeOf(ydpi float64) string {
	switch {
	case ydpi >= 150 && ydpi <= 200:
		return "fine"
	case ydpi >= 90 && ydpi < 150:
		return "standard"
	}
	return ""
}

// to300 converts an image to grey at 300 dpi (its resolution unknown:
// as it is).
func to300(img image.Image, xdpi, ydpi float64) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if xdpi > 0 && ydpi > 0 {
		w, h = int(float64(w)*300/xdpi+0.5), int(float64(h)*300/ydpi+0.5)
	}
	out := image.NewGray(image.Rect(0, 0, max(1, w), max(1, h)))
	draw.ApproxBiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

// tiffIFD is one page of a TIFF: where its directory is and what it
// declares.
type tiffIFD struct {
	order      binary.ByteOrder
	offset     uint32
	w, h       int
	xdpi, ydpi float64
}

// tiffPages walks a TIFF's chain of image directories (at most max
// pages) and reads each one's size and resolution.
func tiffPages(data []byte, maxPages int) ([]tiffIFD, error) {
	var bo binary.ByteOrder = binary.LittleEndian
	if data[0] == 'M' {
		bo = binary.BigEndian
	}
	var out []tiffIFD
	off := bo.Uint32(data[4:8])
	seen := map[uint32]bool{}
	for off != 0 {
		if seen[off] {
			return nil, fmt.Errorf("TIFF directories loop at offset %d", off)
		}
		seen[off] = true
		if len(out) == maxPages {
			return nil, fmt.Errorf("more than %d pages", maxPages)
		}
		if int64(off)+2 > int64(len(data)) {
			return nil, fmt.Errorf("TIFF directory %d at offset %d is past the end", len(out)+1, off)
		}
		n := int(bo.Uint16(data[off:]))
		end := int64(off) + 2 + int64(n)*12
		if end+4 > int64(len(data)) {
			return nil, fmt.Errorf("TIFF directory %d is cut short", len(out)+1)
		}
		ifd := tiffIFD{order: bo, offset: off}
		var unit uint32 = 2 // inches
		for k := range n {
			e := data[int64(off)+2+int64(k)*12:]
			tag, typ := bo.Uint16(e), bo.Uint16(e[2:])
			val := func() uint32 {
				if typ == 3 { // SHORT
					return uint32(bo.Uint16(e[8:]))
				}
				return bo.Uint32(e[8:])
			}
			rational := func() float64 {
				at := int64(bo.Uint32(e[8:]))
				if at+8 > int64(len(data)) {
					return 0
				}
				num, den := bo.Uint32(data[at:]), bo.Uint32(data[at+4:])
				if den == 0 {
					return 0
				}
				return float64(num) / float64(den)
			}
			switch tag {
			case 256:
				ifd.w = int(val())
			case 257:
				ifd.h = int(val())
			case 282:
				ifd.xdpi = rational()
			case 283:
				ifd.ydpi = rational()
			case 296:
				unit = val()
			}
		}
		if unit == 3 { // centimetres
			ifd.xdpi, ifd.ydpi = ifd.xdpi*2.54, ifd.ydpi*2.54
		}
		out = append(out, ifd)
		off = bo.Uint32(data[end:])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("a TIFF without pages")
	}
	return out, nil
}

// pngDPI reads a PNG's resolution from its pHYs chunk (0, 0 when it has
// none in metres).
func pngDPI(data []byte) (x, y float64) {
	i := bytes.Index(data, []byte("pHYs"))
	if i < 4 || i+13 > len(data) {
		return 0, 0
	}
	px, py, unit := binary.BigEndian.Uint32(data[i+4:]), binary.BigEndian.Uint32(data[i+8:]), data[i+12]
	if unit != 1 {
		return 0, 0
	}
	return float64(px) * 0.0254, float64(py) * 0.0254
}
