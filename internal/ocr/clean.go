package ocr

import (
	"image"
	"math"
)

// Bilevel is a black-and-white page: true is ink.
type Bilevel struct {
	W, H int
	Ink  []bool
}

// Threshold binarises a grey page at Otsu's threshold.
func Threshold(g *image.Gray) *Bilevel {
	var hist [256]int
	w, h := g.Rect.Dx(), g.Rect.Dy()
	for y := range h {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+w] {
			hist[v]++
		}
	}
	t := otsu(hist, w*h)
	b := &Bilevel{W: w, H: h, Ink: make([]bool, w*h)}
	for y := range h {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x, v := range row {
			b.Ink[y*w+x] = int(v) <= t
		}
	}
	return b
}

func otsu(hist [256]int, total int) int {
	sum := 0.0
	for i, n := range hist {
		sum += float64(i * n)
	}
	var sumB, wB float64
	best, bestT := -1.0, 127
	for t := range 256 {
		wB += float64(hist[t])
		if wB == 0 {
			continue
		}
		wF := float64(total) - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB, mF := sumB/wB, (sum-sumB)/wF
		between := wB * wF * (mB - mF) * (mB - mF)
		if between > best {
			best, bestT = between, t
		}
	}
	return bestT
}

// Despeckle removes ink components (8-connected) of at most maxSize
// pixels: fax noise, not the dots of i, j, commas and full stops, which
// are larger at 300 dpi.
func (b *Bilevel) Despeckle(maxSize int) int {
	seen := make([]bool, len(b.Ink))
	stack := make([]int, 0, 64)
	comp := make([]int, 0, 64)
	removed := 0
	for start, ink := range b.Ink {
		if !ink || seen[start] {
			continue
		}
		stack = append(stack[:0], start)
		comp = comp[:0]
		seen[start] = true
		big := false
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !big {
				comp = append(comp, p)
				if len(comp) > maxSize {
					big = true
				}
			}
			x, y := p%b.W, p/b.W
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= b.W || ny >= b.H {
						continue
					}
					q := ny*b.W + nx
					if b.Ink[q] && !seen[q] {
						seen[q] = true
						stack = append(stack, q)
					}
				}
			}
		}
		if !big {
			for _, p := range comp {
				b.Ink[p] = false
			}
			removed += len(comp)
		}
	}
	return removed
}

// SkewAngle estimates the page's skew in degrees (within ±maxDeg) by the
// projection profile: text lines give the sharpest row histogram when
// they are horizontal.
func (b *Bilevel) SkewAngle(maxDeg, step float64) float64 {
	// Ink counts of 4x4 blocks, projected as points at the blocks'
	// centres into bins as tall as a block (finer bins would alias with
	// the block grid and favour 0 degrees).
	const blk = 4
	type pt struct{ x, y, n float64 }
	var pts []pt
	for by := 0; by+blk <= b.H; by += blk {
		for bx := 0; bx+blk <= b.W; bx += blk {
			n := 0
			for y := by; y < by+blk; y++ {
				for x := bx; x < bx+blk; x++ {
					if b.Ink[y*b.W+x] {
						n++
					}
				}
			}
			if n > 0 {
				pts = append(pts, pt{float64(bx) + blk/2, float64(by) + blk/2, float64(n)})
			}
		}
	}
	if len(pts) < 100 {
		return 0
	}
	bins := make([]float64, (b.H+b.W)/blk+16)
	score := func(deg float64) float64 {
		clear(bins)
		s, c := math.Sincos(deg * math.Pi / 180)
		off := float64(b.W) * 0.5
		for _, p := range pts {
			y := p.y*c - p.x*s + off
			i := int(y / blk)
			if i >= 0 && i < len(bins) {
				bins[i] += p.n
			}
		}
		var sum float64
		for i := 1; i < len(bins); i++ {
			d := bins[i] - bins[i-1]
			sum += d * d
		}
		return sum
	}
	best, bestA := -1.0, 0.0
	for a := -maxDeg; a <= maxDeg+1e-9; a += step {
		if s := score(a); s > best {
			best, bestA = s, a
		}
	}
	// Refine around the best.
	for a := bestA - step; a <= bestA+step+1e-9; a += step / 5 {
		if s := score(a); s > best {
			best, bestA = s, a
		}
	}
	return bestA
}

// Rotate returns the page rotated by deg degrees about its centre
// (nearest neighbour), undoing a skew of -deg.
func (b *Bilevel) Rotate(deg float64) *Bilevel {
	out := &Bilevel{W: b.W, H: b.H, Ink: make([]bool, len(b.Ink))}
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(b.W)/2, float64(b.H)/2
	for y := range b.H {
		dy := float64(y) - cy
		// Source coordinates step by (c, s) along the output row.
		sx := -cx*c - dy*s + cx + 0.5
		sy := -cx*s + dy*c + cy + 0.5
		row := out.Ink[y*b.W : (y+1)*b.W]
		for x := range b.W {
			if sx >= 0 && sy >= 0 {
				ix, iy := int(sx), int(sy)
				if ix < b.W && iy < b.H {
					row[x] = b.Ink[iy*b.W+ix]
				}
			}
			sx += c
			sy += s
		}
	}
	return out
}

// RemoveRules erases horizontal ink runs of at least minH pixels and
// vertical ones of at least minV (table rulings, underlines, boxes), gaps
// of up to gap pixels bridged (fax noise breaks thin lines), so that OCR
// sees the text alone. A thin ruling's jagged edges (the staircase of a
// skewed line in standard mode) are not in the runs: the whole ink run
// across a marked pixel goes when it is at most maxThick thick; where a
// glyph stroke crosses (a thicker run) only the marked pixels go.
func (b *Bilevel) RemoveRules(minH, minV, gap, maxThick int) {
	w, h := b.W, b.H
	horiz := make([]bool, len(b.Ink))
	vert := make([]bool, len(b.Ink))
	// Horizontal runs, row by row.
	for y := range h {
		row := b.Ink[y*w : (y+1)*w]
		mark := horiz[y*w : (y+1)*w]
		start, last := -1, -1
		for x := 0; x <= w; x++ {
			if x < w && row[x] {
				if start < 0 {
					start = x
				}
				last = x
				continue
			}
			if start >= 0 && (x == w || x-last > gap) {
				if last-start+1 >= minH {
					for i := start; i <= last; i++ {
						mark[i] = row[i]
					}
				}
				start = -1
			}
		}
	}
	// Vertical runs, row by row with a state per column.
	start := make([]int, w)
	last := make([]int, w)
	for x := range start {
		start[x] = -1
	}
	for y := 0; y <= h; y++ {
		for x := range w {
			if y < h && b.Ink[y*w+x] {
				if start[x] < 0 {
					start[x] = y
				}
				last[x] = y
				continue
			}
			if start[x] >= 0 && (y == h || y-last[x] > gap) {
				if last[x]-start[x]+1 >= minV {
					for i := start[x]; i <= last[x]; i++ {
						vert[i*w+x] = b.Ink[i*w+x]
					}
				}
				start[x] = -1
			}
		}
	}
	// Vertical rulings: the ink run across, along the row.
	for y := range h {
		row := b.Ink[y*w : (y+1)*w]
		mark := vert[y*w : (y+1)*w]
		for x := 0; x < w; {
			if !row[x] {
				x++
				continue
			}
			e, marked := x, false
			for e < w && row[e] {
				marked = marked || mark[e]
				e++
			}
			if marked {
				for k := x; k < e; k++ {
					if e-x <= maxThick || mark[k] {
						row[k] = false
					}
				}
			}
			x = e
		}
	}
	// Horizontal rulings: the ink run across, down the column (state per
	// column: where the current run started and whether it is marked).
	marked := make([]bool, w)
	for x := range start {
		start[x] = -1
	}
	for y := 0; y <= h; y++ {
		for x := range w {
			if y < h && b.Ink[y*w+x] {
				if start[x] < 0 {
					start[x], marked[x] = y, false
				}
				marked[x] = marked[x] || horiz[y*w+x]
				continue
			}
			if start[x] >= 0 {
				if marked[x] {
					thin := y-start[x] <= maxThick
					for k := start[x]; k < y; k++ {
						if thin || horiz[k*w+x] {
							b.Ink[k*w+x] = false
						}
					}
				}
				start[x] = -1
			}
		}
	}
}

// Gray returns the page as black text on white.
func (b *Bilevel) Gray() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, b.W, b.H))
	for i, ink := range b.Ink {
		if ink {
			g.Pix[i] = 0
		} else {
			g.Pix[i] = 255
		}
	}
	return g
}

// Clean runs the clean-up for OCR: threshold, despeckle, deskew, rulings
// out. It returns the cleaned page and the skew corrected, in degrees.
func Clean(g *image.Gray) (*Bilevel, float64) {
	b := Threshold(g)
	b.Despeckle(12)
	a := b.SkewAngle(2, 0.2)
	if math.Abs(a) >= 0.1 {
		b = b.Rotate(a)
	}
	b.RemoveRules(250, 150, 2, 14)
	b.Despeckle(12)
	return b, a
}
