package ocr

import (
	"image"
	"math"
	"testing"
)

// page draws text-like bars (lines of "words") skewed by deg.
func page(deg float64) *Bilevel {
	w, h := 1200, 1600
	b := &Bilevel{W: w, H: h, Ink: make([]bool, w*h)}
	s, c := math.Sincos(deg * math.Pi / 180)
	for line := 0; line < 30; line++ {
		y0 := 100 + line*45
		for x := 100; x < 1100; x++ {
			if (x/40)%3 == 2 { // gaps between words
				continue
			}
			for y := y0; y < y0+18; y++ {
				if (x+y)%3 == 0 {
					continue
				}
				dx, dy := float64(x-w/2), float64(y-h/2)
				rx := int(dx*c - dy*s + float64(w/2))
				ry := int(dx*s + dy*c + float64(h/2))
				if rx >= 0 && ry >= 0 && rx < w && ry < h {
					b.Ink[ry*w+rx] = true
				}
			}
		}
	}
	return b
}

func TestSkewAngle(t *testing.T) {
	for _, deg := range []float64{0, 0.5, -0.8, 1.1, -1.5} {
		got := page(deg).SkewAngle(2, 0.2)
		if math.Abs(got-deg) > 0.15 {
			t.Errorf("skew %.2f: got %.2f", deg, got)
		}
	}
}

func TestDespeckleAndRules(t *testing.T) {
	b := &Bilevel{W: 400, H: 200, Ink: make([]bool, 400*200)}
	b.Ink[10*400+10] = true     // a speck
	for x := 20; x < 380; x++ { // a ruling, 3 px thick, broken by noise
		for y := 50; y < 53; y++ {
			b.Ink[y*400+x] = x%37 != 0
		}
	}
	for y := 0; y < 200; y++ { // a vertical ruling
		b.Ink[y*400+390] = y%41 != 0
	}
	for y := 20; y < 40; y++ { // a glyph stroke, 20 px tall, 4 wide
		for x := 100; x < 104; x++ {
			b.Ink[y*400+x] = true
		}
	}
	if n := b.Despeckle(12); n != 1 {
		t.Errorf("despeckle removed %d pixels, want 1", n)
	}
	b.RemoveRules(250, 150, 2, 8)
	if b.Ink[51*400+200] {
		t.Error("the ruling is still there")
	}
	if b.Ink[60*400+390] {
		t.Error("the vertical ruling is still there")
	}
	if !b.Ink[30*400+101] {
		t.Error("the glyph stroke was removed")
	}
}

func TestThresholdOtsu(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 10, 10))
	for i := range g.Pix {
		g.Pix[i] = 230
		if i%4 == 0 {
			g.Pix[i] = 20
		}
	}
	b := Threshold(g)
	ink := 0
	for _, v := range b.Ink {
		if v {
			ink++
		}
	}
	if ink != 25 {
		t.Errorf("%d ink pixels, want 25", ink)
	}
}

// BenchmarkClean measures the clean-up of one A4 page at 300 dpi.
func BenchmarkClean(b *testing.B) {
	src := page(0.7)
	g := image.NewGray(image.Rect(0, 0, 2480, 3508))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	for y := range src.H {
		for x := range src.W {
			if src.Ink[y*src.W+x] {
				g.Pix[(y+200)*g.Stride+x+300] = 0
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		Clean(g)
	}
}
