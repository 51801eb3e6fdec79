package capture

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ordergate/ordergate/normalize/order"
)

// Word is one recognised word with its box on the page, in pixels of the
// page image (or points of a text-layer page), and the recogniser's
// confidence in 0..1 (1 for a text layer).
type Word struct {
	Text       string
	Page       int // 1-based
	X, Y, W, H float64
	Conf       float64
}

// Box returns the word's box in the order's contract shape.
func (w Word) Box() order.Box { return order.Box{Page: w.Page, X: w.X, Y: w.Y, W: w.W, H: w.H} }

// Page is one page of a captured document.
type Page struct {
	Number        int // 1-based
	Width, Height float64
	Words         []Word
}

// Kind says how a Document's words were obtained.
type Kind string

// The kinds of captured documents.
const (
	KindOCR       Kind = "ocr"        // a scanned fax or image, recognised by OCR
	KindTextLayer Kind = "text-layer" // a PDF with a text layer
	KindText      Kind = "text"       // an e-mail body; boxes are character columns and lines
	KindRows      Kind = "rows"       // CSV or XLSX rows; boxes are columns and rows
)

// Document is a captured document: its pages of words.
type Document struct {
	Kind  Kind
	Pages []Page
}

// textLine is a run of words on one baseline, left to right.
type textLine struct {
	page  int
	words []Word
}

func (l textLine) text() string {
	parts := make([]string, len(l.words))
	for i, w := range l.words {
		parts[i] = w.Text
	}
	return strings.Join(parts, " ")
}

func (l textLine) top() float64 { return l.words[0].Y }

func (l textLine) bottom() float64 {
	b := 0.0
	for _, w := range l.words {
		b = math.Max(b, w.Y+w.H)
	}
	return b
}

// height is the median word height of the line.
func (l textLine) height() float64 {
	hs := make([]float64, len(l.words))
	for i, w := range l.words {
		hs[i] = w.H
	}
	slices.Sort(hs)
	return hs[len(hs)/2]
}

// lines groups a page's words into text lines: words whose vertical
// centres lie within half a word height of the line's are on it.
func pageLines(p Page) []textLine {
	ws := make([]Word, 0, len(p.Words))
	for _, w := range p.Words {
		if w.Conf < 1 {
			// Recognised words: rulings and specks read as | ! ; , ' are
			// noise, on their own or stuck to a word.
			w.Text = strings.Trim(w.Text, "|[]{}¦'`‚„\"")
			if !hasAlnum(w.Text) && w.Text != "€" && w.Text != "$" {
				continue
			}
			if utf8.RuneCountInString(w.Text) == 1 && w.Conf < 0.6 && (w.Text[0] < '0' || w.Text[0] > '9') {
				continue // a speck read as a letter
			}
		}
		if strings.TrimSpace(w.Text) != "" {
			ws = append(ws, w)
		}
	}
	// Words left to right; each joins the line whose last word's band it
	// overlaps most (by at least half the smaller height), so that lines
	// of a page that is still a little skewed stay whole.
	slices.SortStableFunc(ws, func(a, b Word) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	type acc struct {
		words []Word
		sumC  float64
	}
	var ls []*acc
	for _, w := range ws {
		var best *acc
		bestR := 0.5
		for _, l := range ls {
			// The band of the line's last three words.
			var top, bottom float64
			k := max(0, len(l.words)-3)
			for _, lw := range l.words[k:] {
				top += lw.Y
				bottom += lw.Y + lw.H
			}
			n := float64(len(l.words) - k)
			top, bottom = top/n, bottom/n
			ov := math.Min(w.Y+w.H, bottom) - math.Max(w.Y, top)
			if r := ov / math.Min(w.H, bottom-top); r >= bestR {
				best, bestR = l, r
			}
		}
		if best == nil {
			best = &acc{}
			ls = append(ls, best)
		}
		best.words = append(best.words, w)
		best.sumC += w.Y + w.H/2
	}
	slices.SortStableFunc(ls, func(a, b *acc) int {
		ca, cb := a.sumC/float64(len(a.words)), b.sumC/float64(len(b.words))
		switch {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		}
		return 0
	})
	out := make([]textLine, len(ls))
	for i, l := range ls {
		out[i] = textLine{page: p.Number, words: l.words}
	}
	return out
}

// docLines returns the text lines of every page in reading order.
func docLines(d *Document) []textLine {
	var out []textLine
	for _, p := range d.Pages {
		out = append(out, pageLines(p)...)
	}
	return out
}

// cell is a run of words in a line separated from its neighbours by a gap
// wider than about two characters.
type cell struct {
	words []Word
}

func (c cell) text() string {
	parts := make([]string, len(c.words))
	for i, w := range c.words {
		parts[i] = w.Text
	}
	return strings.Join(parts, " ")
}

func (c cell) left() float64  { return c.words[0].X }
func (c cell) right() float64 { w := c.words[len(c.words)-1]; return w.X + w.W }

// cells splits a line into cells at gaps wider than gapFactor times the
// line height.
func (l textLine) cells(kind Kind) []cell {
	if kind == KindRows {
		out := make([]cell, len(l.words))
		for i, w := range l.words {
			out[i] = cell{[]Word{w}}
		}
		return out
	}
	gap := cellGap(l, kind)
	var out []cell
	var cur []Word
	for i, w := range l.words {
		if i > 0 {
			p := l.words[i-1]
			if w.X-(p.X+p.W) > gap {
				out = append(out, cell{cur})
				cur = nil
			}
		}
		cur = append(cur, w)
	}
	if len(cur) > 0 {
		out = append(out, cell{cur})
	}
	return out
}

func minConf(ws []Word) float64 {
	if len(ws) == 0 {
		return 0
	}
	c := 1.0
	for _, w := range ws {
		c = math.Min(c, w.Conf)
	}
	return c
}

func unionBox(ws []Word) order.Box {
	if len(ws) == 0 {
		return order.Box{}
	}
	x0, y0 := math.Inf(1), math.Inf(1)
	x1, y1 := math.Inf(-1), math.Inf(-1)
	for _, w := range ws {
		x0, y0 = math.Min(x0, w.X), math.Min(y0, w.Y)
		x1, y1 = math.Max(x1, w.X+w.W), math.Max(y1, w.Y+w.H)
	}
	return order.Box{Page: ws[0].Page, X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

// cellGap is the gap between words that separates cells: about two
// characters on a page, two spaces in text.
func cellGap(l textLine, kind Kind) float64 {
	if kind == KindText || kind == KindRows {
		return 1.5
	}
	return l.height() * 1.2
}

// Text returns the document as the extractor sees it: one line per text
// line, cells separated by " | ", for debugging and review screens.
func (d *Document) Text() string {
	var b strings.Builder
	for _, l := range docLines(d) {
		for i, c := range l.cells(d.Kind) {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(c.text())
		}
		b.WriteByte('\n')
	}
	return b.String()
}
