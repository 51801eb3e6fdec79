package capture

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/ordergate/ordergate/normalize/order"
)

// raw is one value as read, before interpretation.
type raw struct {
	text  string
	conf  float64 // recogniser confidence, 0..1
	box   order.Box
	found bool
	label float64 // how well the label matched (1 exact), 0 without label
}

func rawOf(ws []Word) raw {
	if len(ws) == 0 {
		return raw{}
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.Text
	}
	return raw{text: strings.Join(parts, " "), conf: minConf(ws), box: unionBox(ws), found: true}
}

// rawLine is one row of the line table as read.
type rawLine struct {
	pos, item, gtin, desc, qty, unit, price, amount raw
	row                                             int // index in the document's rows
	// unlabelled are the cells under the table's header titles the core
	// does not know, by title: what a reviewer's corrections can teach
	// (a column hint).
	unlabelled map[string]raw
}

// reading is everything the core read from a document.
type reading struct {
	kind     Kind
	header   map[string]raw
	lines    []rawLine
	total    raw
	phones   []raw // phone and fax numbers found in the letterhead and the fax header
	names    []raw // letterhead lines: the sender's name is one of them
	faxDate  raw   // the date of the fax header line
	currency string
	locale   Locale // the locale the document's labels and numbers suggest
	notes    []raw  // free-text remarks (readNotes)
}

var (
	phoneRe = regexp.MustCompile(`\+?\(?\d[\d ()/\-]{6,}\d`)
	dateRe  = regexp.MustCompile(`\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b`)
)

// read runs the template-free core, with the profile's overrides.
func read(d *Document, p *Profile) *reading {
	r := &reading{kind: d.Kind, header: map[string]raw{}}
	lines := docLines(d)
	faxLine := -1
	if d.Kind == KindOCR && len(lines) > 0 {
		faxLine = readFaxHeader(r, lines, d)
	}
	r.locale = guessLocale(lines)
	if p != nil && p.Locale != "" {
		r.locale = p.Locale
	}
	r.currency = guessCurrency(lines)
	if p != nil && p.Currency != "" {
		r.currency = p.Currency
	}
	tableAt, cols := findTable(lines, d.Kind, p)
	headerLines := lines
	if tableAt >= 0 {
		headerLines = lines[:tableAt]
	}
	for _, f := range []string{FieldPONumber, FieldPODate, FieldCustomerNumber, FieldDelivery} {
		r.header[f] = findHeaderField(f, headerLines, faxLine, d, p)
	}
	readPhones(r, headerLines, faxLine)
	readLetterhead(r, headerLines, faxLine, d)
	if tableAt >= 0 {
		readTable(r, lines, tableAt, cols, d.Kind)
	} else {
		readFreeLines(r, lines, d.Kind)
	}
	readNotes(r, lines, faxLine, tableAt)
	return r
}

// readFaxHeader reads the fax machine's header line: the first line of
// page 1 when it sits in the top 4% of the page and holds a phone number.
// It returns the line's index or -1.
func readFaxHeader(r *reading, lines []textLine, d *Document) int {
	l := lines[0]
	if l.page != 1 || len(d.Pages) == 0 || l.top() > d.Pages[0].Height*0.04 {
		return -1
	}
	text := l.text()
	if m := dateRe.FindStringIndex(text); m != nil {
		r.faxDate = rawOf(wordsIn(l, m[0], m[1]))
	}
	for _, m := range phoneRe.FindAllStringIndex(text, -1) {
		ws := wordsIn(l, m[0], m[1])
		if digitCount(text[m[0]:m[1]]) >= 7 && !dateRe.MatchString(text[m[0]:m[1]]) {
			r.phones = append(r.phones, rawOf(ws))
		}
	}
	return 0
}

// FaxHeaderNumber returns the sender's number in a recognised fax's
// header line ("" when the document has none): the first phone number
// there.
func FaxHeaderNumber(d *Document) string {
	lines := docLines(d)
	if d.Kind != KindOCR || len(lines) == 0 {
		return ""
	}
	r := &reading{}
	if readFaxHeader(r, lines, d) < 0 || len(r.phones) == 0 {
		return ""
	}
	return r.phones[0].text
}

// wordsIn returns the words of l that overlap the byte range [from, to)
// of l.text().
func wordsIn(l textLine, from, to int) []Word {
	var out []Word
	at := 0
	for _, w := range l.words {
		end := at + len(w.Text)
		if end > from && at < to {
			out = append(out, w)
		}
		at = end + 1
	}
	return out
}

func digitCount(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func guessLocale(lines []textLine) Locale {
	de, en := 0, 0
	for _, l := range lines {
		for _, w := range l.words {
			k := labelKey(w.Text)
			switch k {
			case "bestellung", "bestellnummer", "datum", "menge", "einheit", "preis", "einzelpreis", "gesamt", "summe",
				"bezeichnung", "kundennr", "artikel", "artnr", "betrag", "stk", "gesamtsumme", "lieferung", "liefertermin":
				de++
			case "order", "date", "quantity", "qty", "unit", "price", "total", "description", "amount", "customer", "item", "delivery":
				en++
			}
		}
	}
	switch {
	case de > en:
		return LocaleDE
	case en > de:
		return LocaleEN
	}
	return LocaleAuto
}

func guessCurrency(lines []textLine) string {
	counts := map[string]int{}
	for _, l := range lines {
		t := l.text()
		counts["EUR"] += strings.Count(t, "EUR") + strings.Count(t, "€")
		counts["USD"] += strings.Count(t, "USD") + strings.Count(t, "$")
		counts["GBP"] += strings.Count(t, "GBP") + strings.Count(t, "£")
		counts["CHF"] += strings.Count(t, "CHF")
	}
	best, n := "", 0
	for _, c := range []string{"EUR", "USD", "GBP", "CHF"} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return best
}

// labelSpan finds a label of labels starting at word i of l, trying spans
// of up to four words, longest first. It returns the number of words and
// how well it matched.
func labelSpan(l textLine, i int, labels []string) (int, float64) {
	for n := min(4, len(l.words)-i); n >= 1; n-- {
		var b strings.Builder
		for _, w := range l.words[i : i+n] {
			b.WriteString(labelKey(w.Text))
		}
		if q, ok := matchLabel(b.String(), labels); ok {
			// A label must end its last word (Bestell-Nr.: 4711 is two
			// words; Bestell-Nr.4711 is not a label).
			return n, q
		}
	}
	return 0, 0
}

// anyLabelAt reports whether any header field's label starts at word i.
func anyLabelAt(l textLine, i int) bool {
	for _, ls := range headerLabels {
		if n, _ := labelSpan(l, i, ls); n > 0 && labelKey(l.words[i].Text) != "" {
			return true
		}
	}
	return false
}

func validValue(field, s string, p *Profile) bool {
	s = strings.TrimSpace(s)
	switch field {
	case FieldPONumber, FieldCustomerNumber:
		if len(s) < 3 || len(s) > 30 || digitCount(s) == 0 {
			return false
		}
		if dateRe.MatchString(s) && strings.Count(s, ".") == 2 {
			return false
		}
		return !strings.Contains(s, " ") || len(strings.Fields(s)) <= 2
	case FieldPODate, FieldDelivery:
		_, ok := ParseDate(s, p.dateOrder())
		return ok
	}
	return s != ""
}

// trimValueWords drops leading punctuation-only words (":", "#", "Nr.").
func trimValueWords(ws []Word) []Word {
	for len(ws) > 0 {
		k := labelKey(ws[0].Text)
		if k == "" || k == "nr" || k == "no" || k == "nummer" || k == "number" {
			ws = ws[1:]
			continue
		}
		break
	}
	out := slices.Clone(ws)
	if len(out) > 0 {
		w := &out[0]
		w.Text = strings.TrimLeft(w.Text, ":#")
	}
	return out
}

// findHeaderField finds the value of a header field: the words after its
// label on the same line (up to the next label or a wide gap), or the
// words below the label.
func findHeaderField(field string, lines []textLine, skip int, d *Document, p *Profile) raw {
	labels := headerLabels[field]
	var region *Region
	if p != nil {
		if fp, ok := p.Fields[field]; ok {
			labels = append(slices.Clone(fp.Labels), labels...)
			for i := range fp.Labels {
				labels[i] = labelKey(fp.Labels[i])
			}
			region = fp.Region
		}
	}
	var best raw
	for li, l := range lines {
		if li == skip {
			continue
		}
		for i := 0; i < len(l.words); i++ {
			n, q := labelSpan(l, i, labels)
			if n == 0 {
				continue
			}
			// The same-line value: words after the label up to another
			// label or a gap wider than four line heights.
			var vals []Word
			last := l.words[i+n-1]
			for j := i + n; j < len(l.words); j++ {
				w := l.words[j]
				if len(vals) == 0 {
					if d.Kind == KindOCR && w.X-(last.X+last.W) > l.height()*15 {
						break
					}
					if k := labelKey(w.Text); k == "" || k == "nr" || k == "no" {
						continue // ":" or "Nr." after the label
					}
					vals = append(vals, w)
					if d.Kind == KindRows {
						break
					}
					continue
				}
				prev := vals[len(vals)-1]
				if anyLabelAt(l, j) || w.X-(prev.X+prev.W) > cellGap(l, d.Kind) {
					break
				}
				vals = append(vals, w)
			}
			vals = trimValueWords(vals)
			v := rawOf(vals)
			if !v.found || !validValue(field, v.text, p) {
				v = below(lines, li, l.words[i:i+n], field, p)
			}
			if !v.found || !validValue(field, v.text, p) {
				continue
			}
			if region != nil && !region.contains(v.box, d) {
				continue
			}
			v.label = q
			if !best.found || v.label > best.label {
				best = v
			}
		}
	}
	if !best.found && region != nil {
		best = inRegion(lines, field, region, d, p)
	}
	return best
}

// below returns the cell under a label: on the next line or the one after,
// overlapping the label horizontally.
func below(lines []textLine, li int, label []Word, field string, p *Profile) raw {
	lb := unionBox(label)
	for k := li + 1; k < len(lines) && k <= li+2; k++ {
		l := lines[k]
		if l.page != lines[li].page || l.top()-lb.Y-lb.H > lb.H*3 {
			break
		}
		for _, c := range l.cells(KindOCR) {
			if c.right() < lb.X-lb.H || c.left() > lb.X+lb.W+lb.H {
				continue
			}
			v := rawOf(trimValueWords(c.words))
			if v.found && validValue(field, v.text, p) {
				return v
			}
		}
	}
	return raw{}
}

// inRegion returns the first cell inside the profile's region whose text
// is a valid value of field.
func inRegion(lines []textLine, field string, rg *Region, d *Document, p *Profile) raw {
	for _, l := range lines {
		for _, c := range l.cells(d.Kind) {
			v := rawOf(c.words)
			if rg.contains(v.box, d) && validValue(field, v.text, p) {
				v.label = 0.5
				return v
			}
		}
	}
	return raw{}
}

func readPhones(r *reading, lines []textLine, skip int) {
	for li, l := range lines {
		if li == skip {
			continue
		}
		for i := range l.words {
			if n, _ := labelSpan(l, i, phoneLabels); n == 0 {
				continue
			}
			rest := textLine{page: l.page, words: l.words[i+1:]}
			t := rest.text()
			if m := phoneRe.FindStringIndex(t); m != nil && digitCount(t[m[0]:m[1]]) >= 7 {
				r.phones = append(r.phones, rawOf(wordsIn(rest, m[0], m[1])))
			}
		}
	}
}

type column struct {
	kind        string
	left, right float64
	end         int // the header word after the title (while finding it)
}

// unlabelledPrefix marks the kind of a column whose title the core does
// not know: its cells are kept per line, never read as a field.
const unlabelledPrefix = "?"

// findTable finds the header row of the line table: a line naming at least
// three column kinds, one of them the quantity. It returns its index and
// columns, or -1.
func findTable(lines []textLine, kind Kind, p *Profile) (int, []column) {
	labels := columnLabels
	if p != nil && len(p.Columns) > 0 {
		labels = map[string][]string{}
		for k, v := range columnLabels {
			labels[k] = v
		}
		for k, extra := range p.Columns {
			ks := make([]string, len(extra))
			for i, e := range extra {
				ks[i] = labelKey(e)
			}
			labels[k] = append(ks, labels[k]...)
		}
	}
	for li, l := range lines {
		var cols, unknown []column
		seen := map[string]bool{}
		for i := 0; i < len(l.words); {
			matched := false
			for n := min(3, len(l.words)-i); n >= 1 && !matched; n-- {
				if !tight(l, i, n) {
					continue
				}
				var b strings.Builder
				for _, w := range l.words[i : i+n] {
					b.WriteString(labelKey(w.Text))
				}
				key := b.String()
				for _, k := range []string{ColQty, ColPrice, ColAmount, ColUnit, ColGTIN, ColItem, ColDesc, ColPos} {
					if _, ok := matchLabel(key, labels[k]); ok && !seen[k] {
						bx := unionBox(l.words[i : i+n])
						cols = append(cols, column{kind: k, left: bx.X, right: bx.X + bx.W})
						seen[k] = true
						i += n
						matched = true
						break
					}
				}
			}
			if !matched {
				w := l.words[i]
				if n := len(unknown); n > 0 && unknown[n-1].end == i && tight(l, i-1, 2) {
					unknown[n-1].kind += " " + w.Text
					unknown[n-1].right, unknown[n-1].end = w.X+w.W, i+1
				} else if hasAlnum(w.Text) {
					unknown = append(unknown, column{kind: w.Text, left: w.X, right: w.X + w.W, end: i + 1})
				}
				i++
			}
		}
		if len(cols) >= 3 && seen[ColQty] && (seen[ColItem] || seen[ColDesc] || seen[ColGTIN]) {
			for _, u := range unknown {
				u.kind = unlabelledPrefix + strings.TrimRight(u.kind, ":.")
				cols = append(cols, u)
			}
			return li, cols
		}
	}
	return -1, nil
}

// tight reports whether the n words from i are set as one phrase (gaps of
// about a space), so that two column titles are never read as one.
func tight(l textLine, i, n int) bool {
	for j := i + 1; j < i+n; j++ {
		p := l.words[j-1]
		if l.words[j].X-(p.X+p.W) > l.height()*0.7 {
			return false
		}
	}
	return true
}

// assign returns the column a cell belongs to: the one its extent
// overlaps most, or the nearest.
func assign(cols []column, left, right, pad float64) int {
	best, bestOv := -1, 0.0
	for i, c := range cols {
		ov := math.Min(right, c.right+pad) - math.Max(left, c.left-pad)
		if ov > bestOv {
			best, bestOv = i, ov
		}
	}
	if best >= 0 {
		return best
	}
	bestD := math.Inf(1)
	for i, c := range cols {
		d := math.Max(c.left-right, left-c.right)
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func readTable(r *reading, lines []textLine, at int, all []column, kind Kind) {
	var cols, unknown []column
	for _, c := range all {
		if strings.HasPrefix(c.kind, unlabelledPrefix) {
			unknown = append(unknown, c)
		} else {
			cols = append(cols, c)
		}
	}
	head := lines[at]
	lh := head.height()
	pad := lh * 0.3
	if kind == KindText || kind == KindRows {
		pad = 0
	}
	prevBottom := head.bottom()
	for li := at + 1; li < len(lines); li++ {
		l := lines[li]
		if l.page != head.page && len(r.lines) == 0 {
			break
		}
		if n, _ := labelSpan(l, 0, totalLabels); n > 0 || (len(l.words) > 1 && isTotalLine(l)) {
			r.total = lastNumber(l)
			break
		}
		parts := map[string][]Word{}
		for _, c := range l.cells(kind) {
			if len(unknown) > 0 && strings.HasPrefix(all[assign(all, c.left(), c.right(), pad)].kind, unlabelledPrefix) {
				// Under a title the core does not know (unlabelledCells).
				continue
			}
			ci := assign(cols, c.left(), c.right(), pad)
			// A cell spanning several columns (too narrow a gap) is split
			// word by word.
			spans := 0
			for _, col := range cols {
				if math.Min(c.right(), col.right+pad)-math.Max(c.left(), col.left-pad) > 0 {
					spans++
				}
			}
			if spans > 1 && len(c.words) > 1 && kind != KindRows {
				for _, w := range c.words {
					k := cols[assign(cols, w.X, w.X+w.W, pad)].kind
					parts[k] = append(parts[k], w)
				}
				continue
			}
			parts[cols[ci].kind] = append(parts[cols[ci].kind], c.words...)
		}
		rl := rawLine{pos: rawOf(parts[ColPos]), item: rawOf(parts[ColItem]), gtin: rawOf(parts[ColGTIN]), desc: rawOf(parts[ColDesc]),
			qty: rawOf(parts[ColQty]), unit: rawOf(parts[ColUnit]), price: rawOf(parts[ColPrice]), amount: rawOf(parts[ColAmount]), row: li}
		splitQtyUnit(&rl)
		_, qok := ParseNumber(rl.qty.text, r.locale)
		hasItem := rl.item.found || rl.gtin.found || rl.desc.found
		switch {
		case qok && hasItem:
			rl.unlabelled = unlabelledCells(l, unknown, kind, pad)
			r.lines = append(r.lines, rl)
			prevBottom = l.bottom()
		case len(r.lines) > 0 && !rl.qty.found && !rl.price.found && !rl.amount.found && rl.desc.found && hasAlnum(rl.desc.text) &&
			l.top()-prevBottom < lh*1.2 && l.page == lines[r.lines[len(r.lines)-1].row].page:
			// A continuation of the previous line's description.
			last := &r.lines[len(r.lines)-1]
			last.desc = joinRaw(last.desc, rl.desc)
			prevBottom = l.bottom()
		}
	}
}

// unlabelledCells returns the cells of a table row under the columns of
// unknown titles (the cell overlapping the title most), by title.
func unlabelledCells(l textLine, unknown []column, kind Kind, pad float64) map[string]raw {
	if len(unknown) == 0 {
		return nil
	}
	out := map[string]raw{}
	for _, c := range l.cells(kind) {
		for _, u := range unknown {
			if math.Min(c.right(), u.right+pad)-math.Max(c.left(), u.left-pad) > 0 {
				out[strings.TrimPrefix(u.kind, unlabelledPrefix)] = rawOf(c.words)
				break
			}
		}
	}
	return out
}

func isTotalLine(l textLine) bool {
	for i := range l.words {
		if i > 2 {
			break
		}
		if n, _ := labelSpan(l, i, totalLabels); n > 0 {
			return true
		}
	}
	return false
}

func joinRaw(a, b raw) raw {
	if !a.found {
		return b
	}
	out := a
	out.text = a.text + " " + b.text
	out.conf = math.Min(a.conf, b.conf)
	bx := unionBox([]Word{{Page: a.box.Page, X: a.box.X, Y: a.box.Y, W: a.box.W, H: a.box.H}, {Page: b.box.Page, X: b.box.X, Y: b.box.Y, W: b.box.W, H: b.box.H}})
	out.box = bx
	return out
}

// splitQtyUnit separates "10 Stk" in the quantity column.
func splitQtyUnit(rl *rawLine) {
	f := strings.Fields(rl.qty.text)
	if len(f) == 2 && !rl.unit.found {
		if _, ok := unitSynonyms[labelKey(f[1])]; ok {
			rl.unit = raw{text: f[1], conf: rl.qty.conf, box: rl.qty.box, found: true}
			rl.qty.text = f[0]
		}
	}
}

// lastNumber returns the last number of a line.
func lastNumber(l textLine) raw {
	cs := l.cells(KindOCR)
	for i := len(cs) - 1; i >= 0; i-- {
		ws := cs[i].words
		for j := len(ws) - 1; j >= 0; j-- {
			if _, ok := ParseNumber(ws[j].Text, LocaleAuto); ok && digitCount(ws[j].Text) > 0 {
				return rawOf(ws[j : j+1])
			}
		}
	}
	return raw{}
}

var freeLineRe = regexp.MustCompile(`^(?i)\s*(?:pos\.?\s*\d+[:.)]?\s+)?(\d+(?:[.,]\d+)?)\s*(?:x\s+)?([A-Za-zäöüÄÖÜ.]{1,8}\s+)?(?:x\s+)?([A-Z0-9][A-Z0-9\-./]{2,})\s*(.*?)\s*(?:(?:à|a|@|je|zu|at)\s+(?:EUR\s*|€\s*|USD\s*|\$\s*)?(\d[\d.,]*)\s*(?:EUR|€|USD|\$)?(?:\s*(?:/|pro|per)\s*\S+)?)?\s*$`)

// readFreeLines reads order lines written as sentences in an e-mail:
// "10 x SCR-100 Holzschrauben 4x40 à 0,09 EUR", "5 Stk HAM-200".
func readFreeLines(r *reading, lines []textLine, kind Kind) {
	for li, l := range lines {
		t := l.text()
		m := freeLineRe.FindStringSubmatchIndex(t)
		if m == nil {
			continue
		}
		if n, _ := labelSpan(l, 0, totalLabels); n > 0 {
			continue
		}
		get := func(g int) raw {
			if m[2*g] < 0 {
				return raw{}
			}
			ws := wordsIn(l, m[2*g], m[2*g+1])
			v := rawOf(ws)
			v.text = strings.TrimSpace(t[m[2*g]:m[2*g+1]])
			return v
		}
		unit := get(2)
		if unit.found {
			if _, ok := unitSynonyms[labelKey(unit.text)]; !ok {
				continue
			}
		}
		item := get(3)
		if digitCount(item.text) == 0 {
			continue
		}
		r.lines = append(r.lines, rawLine{qty: get(1), unit: unit, item: item, desc: get(4), price: get(5), row: li})
	}
	for _, l := range lines {
		if isTotalLine(l) {
			r.total = lastNumber(l)
		}
	}
}

func hasAlnum(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// readLetterhead keeps the first lines of page 1 (the top sixth, at most
// eight) as candidates for the sender's name.
func readLetterhead(r *reading, lines []textLine, skip int, d *Document) {
	if len(d.Pages) == 0 {
		return
	}
	limit := d.Pages[0].Height / 6
	if d.Kind == KindText || d.Kind == KindRows {
		limit = d.Pages[0].Height
	}
	for li, l := range lines {
		if li == skip {
			continue
		}
		if l.page != 1 || l.top() > limit || len(r.names) >= 8 {
			break
		}
		for _, c := range l.cells(d.Kind) {
			if t := c.text(); len(t) >= 4 && len(t) <= 80 {
				r.names = append(r.names, rawOf(c.words))
			}
		}
	}
}
