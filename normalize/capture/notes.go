package capture

import (
	"regexp"
	"strings"
)

// noteLabels are the label keys of a remark block on a form: the text
// after the label (or, when the label stands alone, the next line) is a
// note for whoever handles the order.
var noteLabels = []string{"bemerkung", "bemerkungen", "hinweis", "hinweise", "anmerkung", "anmerkungen", "lieferhinweis",
	"remark", "remarks", "note", "notes", "comment", "comments", "deliverynote", "deliveryinstructions", "instructions"}

var (
	// mailBoilerplate matches the lines of an order mail that say nothing
	// to the person handling it: greetings, the lead-in to the order.
	mailBoilerplate = regexp.MustCompile(`(?i)^(sehr geehrte|liebe |hallo|guten (tag|morgen)|moin|dear |hello|hi[ ,]|good (morning|afternoon)|` +
		`hiermit bestellen|wir bestellen|anbei|bitte liefern sie (uns )?folgend|folgende|please (find|supply|send|deliver) (the following|attached|us the following)|` +
		`we (would like to )?order|attached)`)
	// mailClosing matches the closing of a mail: what follows is the
	// signature.
	mailClosing = regexp.MustCompile(`(?i)^(mit freundlichen gr|freundliche gr|viele gr|beste gr|herzliche gr|gruß|gruss|mfg\b|best regards|kind regards|regards|` +
		`best wishes|sincerely|thank you|thanks|vielen dank|danke|--\s*$)`)
)

// noteLabelAt reports the number of words of the remark label that
// starts line l ("Bemerkung:", "Remarks", "Hinweis zur Lieferung:" is not
// one), 0 when none.
func noteLabelAt(l textLine) int {
	for n := min(2, len(l.words)); n >= 1; n-- {
		parts := make([]string, n)
		for i := range n {
			parts[i] = l.words[i].Text
		}
		joined := strings.Join(parts, " ")
		key := labelKey(joined)
		if key == "" {
			continue
		}
		for _, lab := range noteLabels {
			if key == lab && (n == len(l.words) || strings.HasSuffix(joined, ":") || strings.HasSuffix(joined, ".")) {
				return n
			}
		}
	}
	return 0
}

// readNotes reads the free-text remarks of a document into r.notes:
// remark blocks after a label (Bemerkung, Hinweis, Remarks, Note) on any
// document; on an e-mail body also every line that is neither a header
// field, nor an order line, nor the total, nor a greeting, lead-in,
// closing or signature.
func readNotes(r *reading, lines []textLine, skip, tableAt int) {
	used := map[int]bool{skip: true}
	for _, rl := range r.lines {
		used[rl.row] = true
	}
	if tableAt >= 0 {
		used[tableAt] = true
	}
	for li := 0; li < len(lines); li++ {
		l := lines[li]
		n := noteLabelAt(l)
		if n == 0 || used[li] {
			continue
		}
		used[li] = true
		ws := l.words[n:]
		if len(ws) == 0 && li+1 < len(lines) && !used[li+1] && !anyLabelAt(lines[li+1], 0) && !isTotalLine(lines[li+1]) {
			li++
			used[li] = true
			ws = lines[li].words
		}
		if v := rawOf(ws); v.found && hasAlnum(v.text) {
			r.notes = append(r.notes, v)
		}
	}
	if r.kind != KindText {
		return
	}
	for li, l := range lines {
		if used[li] {
			continue
		}
		t := strings.TrimSpace(l.text())
		if mailClosing.MatchString(t) {
			break
		}
		if !hasAlnum(t) || strings.HasSuffix(t, ":") || mailBoilerplate.MatchString(t) || isTotalLine(l) || anyLabelAt(l, 0) ||
			(tableAt >= 0 && li > tableAt && li <= lastRow(r)) {
			continue
		}
		r.notes = append(r.notes, rawOf(l.words))
	}
}

// lastRow is the index of the last line of the line table (-1: none).
func lastRow(r *reading) int {
	last := -1
	for _, rl := range r.lines {
		last = max(last, rl.row)
	}
	return last
}
