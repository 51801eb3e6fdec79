package mail

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ordergate/ordergate/edi"
)

// Kind is what a mail is for the gateway.
type Kind string

// The kinds Classify returns.
const (
	KindFax        Kind = "fax"
	KindEmailOrder Kind = "email-order"
	KindEDI        Kind = "edi"
	KindNotAnOrder Kind = "not-an-order"
)

// Channel kinds of Rules.Mode (config key kind).
const (
	ModeAuto  = "auto"
	ModeFax   = "fax"
	ModeEmail = "email"
)

// Rules say how a channel's mails are read.
type Rules struct {
	// Mode is ModeAuto (default), ModeFax (every mail with a PDF or TIFF
	// is a fax) or ModeEmail (never a fax).
	Mode string
	// FaxSenders are address globs (path.Match, case-insensitive, e.g.
	// "*@fax.example.com"): with ModeAuto, a mail from one of them (or
	// forwarding one of theirs as an attachment) is a fax.
	FaxSenders []string
	// OrderSenders are address globs of known customers (the partners'
	// email_from): their mails with a body text are e-mail orders even
	// without order words.
	OrderSenders []string
	// MaxTableRows bounds the rows read from one CSV or sheet; default
	// 10,000. MaxSheets bounds the sheets read from one XLSX; default 10.
	MaxTableRows int
	MaxSheets    int
	// MaxUnzipBytes bounds an XLSX's unpacked size; default 64 MiB.
	MaxUnzipBytes int64
}

// Classification is the result of Classify.
type Classification struct {
	Kind Kind
	// Reason says why, for the order's timeline and the review queue.
	Reason string
	// PDFs are the PDF attachments; Images the TIFF/PNG/JPEG ones (fax
	// pages sent as images).
	PDFs   []*Part
	Images []*Part
	// Text is the body text (text/plain, else text/html as text).
	Text string
	// Tables are the CSV and XLSX attachments read into rows.
	Tables []Table
	// EDI are the attachments recognised as X12 or EDIFACT.
	EDI []EDIAttachment
	// Problems lists attachments that could not be read (a broken XLSX,
	// an old .xls), for the review queue.
	Problems []string
}

// Table is one CSV file or one XLSX sheet.
type Table struct {
	Name  string // the attachment's name
	Sheet string // the sheet's name; "" for CSV
	Rows  [][]string
	// Truncated reports that rows beyond MaxTableRows were dropped.
	Truncated bool
}

// EDIAttachment is an attachment in X12 or EDIFACT.
type EDIAttachment struct {
	Name     string
	Standard edi.Standard
	Data     []byte
}

var (
	ediExts  = []string{".edi", ".x12", ".edifact", ".txt", ".dat", ".850", ".ord"}
	ediTypes = []string{"application/edi-x12", "application/edifact", "application/edi-consent", "application/x12"}
	// orderWords mark a body text as an order (English, German, French,
	// Dutch, Spanish, Italian).
	orderWords = regexp.MustCompile(`(?i)\b(purchase order|order|p\.?o\.?\s*(no|number|#)|bestellung|bestell|auftrag|commande|bestelling|pedido|ordine)\b`)
	// quantityLine is a line with a quantity and something ordered.
	quantityLine = regexp.MustCompile(`(?im)^\s*(?:\d+\s*(?:x|stk|st\.?|pcs|pc|ea|units?|stück|pieces)\b|.*\b\d+\s*(?:x|stk|pcs|ea|stück|pieces)\s+\S)`)
	lineBreakRE  = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</tr>|</li>`)
	cellRE       = regexp.MustCompile(`(?i)</t[dh]>`)
	tagRE        = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>|<[^>]*>`)
)

// Classify tells what m is under rules and collects the relevant parts.
func Classify(m *Mail, rules Rules) Classification {
	if rules.Mode == "" {
		rules.Mode = ModeAuto
	}
	c := Classification{Text: bodyText(m)}
	var csvParts, xlsxParts []*Part
	for _, p := range m.Parts {
		if !p.IsAttachment() {
			continue
		}
		ext := strings.ToLower(path.Ext(p.Filename))
		switch {
		case p.ContentType == "application/pdf" || ext == ".pdf" || bytes.HasPrefix(p.Data, []byte("%PDF-")):
			c.PDFs = append(c.PDFs, p)
		case p.ContentType == "image/tiff" || p.ContentType == "image/png" || p.ContentType == "image/jpeg" ||
			ext == ".tif" || ext == ".tiff":
			c.Images = append(c.Images, p)
		case ext == ".xlsx" || p.ContentType == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
			xlsxParts = append(xlsxParts, p)
		case ext == ".xls" || p.ContentType == "application/vnd.ms-excel":
			c.Problems = append(c.Problems, fmt.Sprintf("%s: the old Excel format (.xls) is not read; ask for .xlsx or CSV", p.Filename))
		case ext == ".csv" || p.ContentType == "text/csv" || p.ContentType == "text/comma-separated-values":
			csvParts = append(csvParts, p)
		}
		if isEDICandidate(p, ext) {
			if std := edi.Sniff(head(p.Data, edi.SniffLen)); std != edi.Unknown {
				c.EDI = append(c.EDI, EDIAttachment{Name: p.Filename, Standard: std, Data: p.Data})
			}
		}
	}

	if len(c.EDI) > 0 {
		c.Kind, c.Reason = KindEDI, fmt.Sprintf("%d EDI attachment(s) (%s)", len(c.EDI), c.EDI[0].Standard)
		return c
	}
	faxSender := matchAny(rules.FaxSenders, m.From)
	for _, f := range m.Forwarded {
		if matchAny(rules.FaxSenders, f) {
			faxSender = true
		}
	}
	hasPages := len(c.PDFs)+len(c.Images) > 0
	switch {
	case rules.Mode == ModeFax && hasPages:
		c.Kind, c.Reason = KindFax, "fax channel: mail with a PDF or image"
		return c
	case rules.Mode == ModeFax:
		c.Kind, c.Reason = KindNotAnOrder, "fax channel: mail without a PDF or image"
		return c
	case rules.Mode == ModeAuto && faxSender && hasPages:
		c.Kind, c.Reason = KindFax, "from a fax service sender"
		return c
	case rules.Mode == ModeAuto && faxSender:
		c.Kind, c.Reason = KindNotAnOrder, "from a fax service sender without a PDF or image"
		return c
	}
	if why := bulk(m); why != "" {
		c.Kind, c.Reason = KindNotAnOrder, why
		return c
	}

	for _, p := range csvParts {
		t, err := readCSV(p, rules)
		if err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", p.Filename, err))
			continue
		}
		if len(t.Rows) > 0 {
			c.Tables = append(c.Tables, t)
		}
	}
	for _, p := range xlsxParts {
		ts, err := readXLSX(p, rules)
		if err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", p.Filename, err))
		}
		c.Tables = append(c.Tables, ts...)
	}
	known := matchAny(rules.OrderSenders, m.From)
	orderish := orderWords.MatchString(m.Subject) || orderWords.MatchString(c.Text)
	switch {
	case len(c.Tables) > 0:
		c.Kind, c.Reason = KindEmailOrder, fmt.Sprintf("%d table(s) attached", len(c.Tables))
	case len(c.PDFs) > 0 && (known || orderish):
		c.Kind, c.Reason = KindEmailOrder, "PDF attached by a customer"
	case strings.TrimSpace(c.Text) != "" && known:
		c.Kind, c.Reason = KindEmailOrder, "body text from a known customer"
	case strings.TrimSpace(c.Text) != "" && orderish && quantityLine.MatchString(c.Text):
		c.Kind, c.Reason = KindEmailOrder, "body text reads like an order"
	case len(c.Problems) > 0:
		c.Kind, c.Reason = KindNotAnOrder, "attachments could not be read: "+strings.Join(c.Problems, "; ")
	default:
		c.Kind, c.Reason = KindNotAnOrder, "no order content found"
	}
	return c
}

func isEDICandidate(p *Part, ext string) bool {
	for _, e := range ediExts {
		if ext == e {
			return true
		}
	}
	for _, t := range ediTypes {
		if p.ContentType == t {
			return true
		}
	}
	return p.ContentType == "application/octet-stream" || p.ContentType == "text/plain"
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// matchAny matches addr against globs, case-insensitively.
func matchAny(globs []string, addr string) bool {
	if addr == "" {
		return false
	}
	addr = strings.ToLower(addr)
	for _, g := range globs {
		if ok, err := path.Match(strings.ToLower(strings.TrimSpace(g)), addr); err == nil && ok {
			return true
		}
	}
	return false
}

// bulk tells newsletters, lists, auto-replies and delivery reports.
func bulk(m *Mail) string {
	h := m.Header
	switch {
	case h.Get("List-Unsubscribe") != "" || h.Get("List-Id") != "":
		return "mailing list or newsletter"
	case strings.EqualFold(strings.TrimSpace(h.Get("Precedence")), "bulk"), strings.EqualFold(strings.TrimSpace(h.Get("Precedence")), "list"),
		strings.EqualFold(strings.TrimSpace(h.Get("Precedence")), "junk"):
		return "bulk mail"
	case h.Get("Auto-Submitted") != "" && !strings.EqualFold(strings.TrimSpace(h.Get("Auto-Submitted")), "no"):
		return "automatic reply"
	}
	ct, _ := contentType(h.Get("Content-Type"))
	if ct == "multipart/report" {
		return "delivery or read report"
	}
	return ""
}

// bodyText is the text of the body parts: text/plain, else HTML as text.
func bodyText(m *Mail) string {
	var plain, htmlText []string
	for _, p := range m.Parts {
		if p.IsAttachment() {
			continue
		}
		switch p.ContentType {
		case "text/plain":
			plain = append(plain, string(p.Data))
		case "text/html":
			htmlText = append(htmlText, htmlToText(string(p.Data)))
		}
	}
	if len(plain) > 0 {
		return strings.Join(plain, "\n")
	}
	return strings.Join(htmlText, "\n")
}

func htmlToText(s string) string {
	s = lineBreakRE.ReplaceAllString(s, "\n")
	s = cellRE.ReplaceAllString(s, "\t")
	s = tagRE.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// readCSV reads a CSV attachment, guessing the delimiter from the first
// line (',', ';' or tab).
func readCSV(p *Part, rules Rules) (Table, error) {
	maxRows := rules.MaxTableRows
	if maxRows <= 0 {
		maxRows = 10000
	}
	data := p.Data
	if !p.Text {
		data = toUTF8(data, p.Charset)
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	delim, best := ',', bytes.Count(first, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if n := bytes.Count(first, []byte(string(d))); n > best {
			delim, best = d, n
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes, r.ReuseRecord = delim, -1, true, false
	t := Table{Name: p.Filename}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return t, fmt.Errorf("reading CSV: %w", err)
		}
		if blank(rec) {
			continue
		}
		if len(t.Rows) == maxRows {
			t.Truncated = true
			break
		}
		t.Rows = append(t.Rows, rec)
	}
	return t, nil
}

// readXLSX reads the sheets of an XLSX attachment within the unzip
// limits.
// ReadXLSX reads a spreadsheet file's sheets into rows, within the rules'
// limits (rows, sheets, unzipped size), as Classify reads attachments.
func ReadXLSX(name string, data []byte, rules Rules) ([]Table, error) {
	return readXLSX(&Part{Filename: name, Data: data}, rules)
}

func readXLSX(p *Part, rules Rules) ([]Table, error) {
	maxRows, maxSheets, unzip := rules.MaxTableRows, rules.MaxSheets, rules.MaxUnzipBytes
	if maxRows <= 0 {
		maxRows = 10000
	}
	if maxSheets <= 0 {
		maxSheets = 10
	}
	if unzip <= 0 {
		unzip = 64 << 20
	}
	f, err := excelize.OpenReader(bytes.NewReader(p.Data), excelize.Options{UnzipSizeLimit: unzip, UnzipXMLSizeLimit: min(unzip, 16<<20)})
	if err != nil {
		return nil, fmt.Errorf("opening XLSX: %w", err)
	}
	defer f.Close()
	var tables []Table
	for i, sheet := range f.GetSheetList() {
		if i == maxSheets {
			break
		}
		rows, err := f.Rows(sheet)
		if err != nil {
			return tables, fmt.Errorf("reading sheet %q: %w", sheet, err)
		}
		t := Table{Name: p.Filename, Sheet: sheet}
		for rows.Next() {
			rec, err := rows.Columns()
			if err != nil {
				rows.Close()
				return tables, fmt.Errorf("reading sheet %q: %w", sheet, err)
			}
			if blank(rec) {
				continue
			}
			if len(t.Rows) == maxRows {
				t.Truncated = true
				break
			}
			t.Rows = append(t.Rows, rec)
		}
		rows.Close()
		if len(t.Rows) > 0 {
			tables = append(tables, t)
		}
	}
	return tables, nil
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
