package capture

import (
	"strings"
	"unicode/utf8"
)

// FromText turns a plain-text body (an e-mail) into a Document: one page
// whose words are boxed in character columns (X, W) and lines (Y, H = 1),
// so that tables aligned with spaces keep their columns. Tabs advance to
// the next multiple of eight.
func FromText(body string) *Document {
	p := Page{Number: 1}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	width := 0
	for y, line := range lines {
		col := 0
		start, inWord := 0, false
		var word strings.Builder
		flush := func() {
			if inWord {
				p.Words = append(p.Words, Word{Text: word.String(), Page: 1, X: float64(start), Y: float64(y), W: float64(col - start), H: 1, Conf: 1})
				word.Reset()
				inWord = false
			}
		}
		for _, r := range line {
			switch r {
			case ' ', '\u00a0':
				flush()
				col++
			case '\t':
				flush()
				col = (col/8 + 1) * 8
			default:
				if !inWord {
					start, inWord = col, true
				}
				word.WriteRune(r)
				col++
			}
		}
		flush()
		width = max(width, col)
	}
	p.Width, p.Height = float64(width), float64(len(lines))
	return &Document{Kind: KindText, Pages: []Page{p}}
}

// FromRows turns spreadsheet rows (CSV records, XLSX cells) into a
// Document: every non-empty cell is one word boxed by its column (X = 10
// per column, W = 9) and row (Y, H = 1), so cells stay apart however long
// they are.
func FromRows(rows [][]string) *Document {
	p := Page{Number: 1}
	cols := 0
	for y, row := range rows {
		for x, c := range row {
			c = strings.TrimSpace(c)
			if c == "" || !utf8.ValidString(c) {
				continue
			}
			p.Words = append(p.Words, Word{Text: c, Page: 1, X: float64(x * 10), Y: float64(y), W: 9, H: 1, Conf: 1})
		}
		cols = max(cols, len(row))
	}
	p.Width, p.Height = float64(cols*10), float64(len(rows))
	return &Document{Kind: KindRows, Pages: []Page{p}}
}
