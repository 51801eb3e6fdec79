package faxgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
)

// FaxTIFF renders the fax as a fax-to-mail service sends it as an image:
// a TIFF with the page, copies times (a multi-page TIFF), 1 bit per pixel
// uncompressed, with the mode's resolution (204 x 98 or 204 x 196 dpi).
func (d *Doc) FaxTIFF(res Resolution, copies int) []byte {
	img := d.FaxImage(res)
	pages := make([]*image.Paletted, max(1, copies))
	for i := range pages {
		pages[i] = img
	}
	return encodeTIFF(pages, dpiX, res.dpiY())
}

// FaxPNG renders the fax page as a PNG with the mode's resolution in its
// pHYs chunk.
func (d *Doc) FaxPNG(res Resolution) ([]byte, error) {
	b, err := encodePNG(d.FaxImage(res))
	if err != nil {
		return nil, err
	}
	// pHYs after IHDR (8 bytes signature + 25 bytes IHDR chunk).
	var chunk bytes.Buffer
	body := make([]byte, 13)
	copy(body, "pHYs")
	xppm := dpiX / 0.0254
	binary.BigEndian.PutUint32(body[4:], uint32(xppm+0.5))
	binary.BigEndian.PutUint32(body[8:], uint32(res.dpiY()/0.0254+0.5))
	body[12] = 1
	binary.Write(&chunk, binary.BigEndian, uint32(9))
	chunk.Write(body)
	binary.Write(&chunk, binary.BigEndian, crc32IEEE(body))
	out := append(append(bytes.Clone(b[:33]), chunk.Bytes()...), b[33:]...)
	if _, err := png.DecodeConfig(bytes.NewReader(out)); err != nil {
		return nil, fmt.Errorf("writing the PNG's resolution: %w", err)
	}
	return out, nil
}

// encodeTIFF writes bilevel pages (palette index 0 black) as a
// little-endian multi-page TIFF, uncompressed, BlackIsZero.
func encodeTIFF(pages []*image.Paletted, xdpi, ydpi float64) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("II*\x00")
	binary.Write(&b, le, uint32(8))
	for pi, img := range pages {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		rowBytes := (w + 7) / 8
		// The directory: 12 entries, then the next offset, then the two
		// resolutions, then the strip.
		const entries = 12
		ifdStart := b.Len()
		resAt := ifdStart + 2 + entries*12 + 4
		stripAt := resAt + 16
		entry := func(tag, typ uint16, count, value uint32) {
			binary.Write(&b, le, tag)
			binary.Write(&b, le, typ)
			binary.Write(&b, le, count)
			if typ == 3 && count == 1 {
				binary.Write(&b, le, uint16(value))
				binary.Write(&b, le, uint16(0))
				return
			}
			binary.Write(&b, le, value)
		}
		binary.Write(&b, le, uint16(entries))
		entry(256, 4, 1, uint32(w))
		entry(257, 4, 1, uint32(h))
		entry(258, 3, 1, 1)                  // BitsPerSample
		entry(259, 3, 1, 1)                  // no compression
		entry(262, 3, 1, 1)                  // BlackIsZero
		entry(273, 4, 1, uint32(stripAt))    // StripOffsets
		entry(277, 3, 1, 1)                  // SamplesPerPixel
		entry(278, 4, 1, uint32(h))          // RowsPerStrip
		entry(279, 4, 1, uint32(rowBytes*h)) // StripByteCounts
		entry(282, 5, 1, uint32(resAt))      // XResolution
		entry(283, 5, 1, uint32(resAt+8))    // YResolution
		entry(296, 3, 1, 2)                  // inches
		next := uint32(0)
		if pi < len(pages)-1 {
			next = uint32(stripAt + rowBytes*h)
		}
		binary.Write(&b, le, next)
		binary.Write(&b, le, uint32(xdpi*100))
		binary.Write(&b, le, uint32(100))
		binary.Write(&b, le, uint32(ydpi*100))
		binary.Write(&b, le, uint32(100))
		row := make([]byte, rowBytes)
		for y := range h {
			clear(row)
			for x := range w {
				if img.ColorIndexAt(img.Rect.Min.X+x, img.Rect.Min.Y+y) != 0 { // white
					row[x/8] |= 0x80 >> (x % 8)
				}
			}
			b.Write(row)
		}
	}
	return b.Bytes()
}

// crc32IEEE is the PNG chunk checksum (over type and data).
func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}
