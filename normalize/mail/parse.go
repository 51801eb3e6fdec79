package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/ordergate/ordergate/channels"
)

// Errors of Parse.
var (
	// ErrLimit: the mail exceeds one of the Limits.
	ErrLimit = errors.New("mail exceeds a limit")
	// ErrMalformed: the mail cannot be read as RFC 5322.
	ErrMalformed = errors.New("malformed mail")
)

// Limits bound Parse. Zero fields take the defaults.
type Limits struct {
	MaxBytes     int64 // the raw mail; default 25 MiB
	MaxPartBytes int64 // one decoded part; default MaxBytes
	MaxParts     int   // MIME parts counted over the whole tree; default 1000
	MaxDepth     int   // nesting of multiparts and attached mails; default 16
}

// Default limits.
const (
	DefaultMaxBytes = 25 << 20
	DefaultMaxParts = 1000
	DefaultMaxDepth = 16
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPartBytes <= 0 {
		l.MaxPartBytes = l.MaxBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultMaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Mail is a decoded e-mail.
type Mail struct {
	// Header is the top-level header as sent (values not decoded).
	Header netmail.Header
	// From is the sender's address, lower-cased ("" when missing or
	// unreadable); FromName the display name, decoded.
	From     string
	FromName string
	// ReplyTo is the Reply-To address when given, lower-cased.
	ReplyTo string
	// To lists the recipients' addresses.
	To []string
	// Subject is decoded and sanitised (no control characters).
	Subject string
	// MessageID, InReplyTo and References keep their angle brackets.
	MessageID  string
	InReplyTo  string
	References []string
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time
	// Parts are the leaf parts in document order.
	Parts []*Part
	// Forwarded lists the senders (lower-cased addresses) of mails
	// attached as message/rfc822, outermost first.
	Forwarded []string
}

// Part is one leaf of the MIME tree.
type Part struct {
	// Path is the part's IMAP-style section number ("1", "2.1"); "" for
	// a single-part mail's body.
	Path string
	// ContentType is the lower-cased media type; Params its parameters.
	ContentType string
	Params      map[string]string
	// Charset is the declared charset, lower-cased ("" if none).
	Charset string
	// Disposition is "attachment", "inline" or "".
	Disposition string
	// Filename is the attachment name, decoded and sanitised; "" if none.
	Filename string
	// Data is the decoded content; for text/* parts converted to UTF-8.
	Data []byte
	// Text reports whether Data is UTF-8 text converted from Charset.
	Text bool
	// From is the sender of the (possibly attached) mail this part
	// belongs to, lower-cased.
	From string
}

// IsAttachment reports whether the part is an attachment rather than
// the body: disposition attachment, or a name, or not text.
func (p *Part) IsAttachment() bool {
	if p.Disposition == "attachment" || p.Filename != "" {
		return true
	}
	return !strings.HasPrefix(p.ContentType, "text/")
}

// Parse decodes raw within lim.
func Parse(raw []byte, lim Limits) (*Mail, error) {
	lim = lim.withDefaults()
	if int64(len(raw)) > lim.MaxBytes {
		return nil, fmt.Errorf("mail of %d bytes exceeds %d: %w", len(raw), lim.MaxBytes, ErrLimit)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w: %w", ErrMalformed, err)
	}
	m := &Mail{Header: msg.Header}
	m.From, m.FromName = address(msg.Header.Get("From"))
	m.ReplyTo, _ = address(msg.Header.Get("Reply-To"))
	if list, err := addrParser.ParseList(msg.Header.Get("To")); err == nil {
		for _, a := range list {
			m.To = append(m.To, strings.ToLower(a.Address))
		}
	}
	m.Subject = sanitizeText(decodeWords(msg.Header.Get("Subject")), 998)
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	m.InReplyTo = strings.TrimSpace(msg.Header.Get("In-Reply-To"))
	m.References = strings.Fields(msg.Header.Get("References"))
	if d, err := msg.Header.Date(); err == nil {
		m.Date = d
	}
	w := &walker{lim: lim, mail: m}
	if err := w.entity(textproto.MIMEHeader(msg.Header), msg.Body, 0, "", m.From); err != nil {
		return nil, err
	}
	return m, nil
}

type walker struct {
	lim   Limits
	mail  *Mail
	parts int
}

// entity decodes one MIME entity (header and body) at depth.
func (w *walker) entity(h textproto.MIMEHeader, body io.Reader, depth int, path, from string) error {
	if depth > w.lim.MaxDepth {
		return fmt.Errorf("part %s: nesting deeper than %d: %w", pathName(path), w.lim.MaxDepth, ErrLimit)
	}
	w.parts++
	if w.parts > w.lim.MaxParts {
		return fmt.Errorf("more than %d MIME parts: %w", w.lim.MaxParts, ErrLimit)
	}
	ctype, params := contentType(h.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ctype, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			// No boundary: keep the body as one opaque part.
			return w.leaf(h, "application/octet-stream", params, body, path, from)
		}
		mr := multipart.NewReader(body, boundary)
		for i := 1; ; i++ {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				// A truncated or broken multipart keeps the parts read
				// before the damage.
				return nil
			}
			if err := w.entity(p.Header, p, depth+1, joinPath(path, i), from); err != nil {
				return err
			}
		}
	case ctype == "message/rfc822" || ctype == "message/global":
		data, err := w.readBody(h, body, path)
		if err != nil {
			return err
		}
		inner, err := netmail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			return w.leaf(h, ctype, params, bytes.NewReader(data), path, from)
		}
		innerFrom, _ := address(inner.Header.Get("From"))
		if innerFrom != "" {
			w.mail.Forwarded = append(w.mail.Forwarded, innerFrom)
		}
		return w.entity(textproto.MIMEHeader(inner.Header), inner.Body, depth+1, joinPath(path, 1), innerFrom)
	}
	return w.leaf(h, ctype, params, body, path, from)
}

// readBody reads and transfer-decodes a body within MaxPartBytes.
func (w *walker) readBody(h textproto.MIMEHeader, body io.Reader, path string) ([]byte, error) {
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	// A broken transfer encoding or a truncated part keeps what was
	// decoded up to the damage: the read error is not fatal.
	data, _ := io.ReadAll(io.LimitReader(r, w.lim.MaxPartBytes+1))
	if int64(len(data)) > w.lim.MaxPartBytes {
		return nil, fmt.Errorf("part %s larger than %d bytes: %w", pathName(path), w.lim.MaxPartBytes, ErrLimit)
	}
	return data, nil
}

func (w *walker) leaf(h textproto.MIMEHeader, ctype string, params map[string]string, body io.Reader, path, from string) error {
	data, err := w.readBody(h, body, path)
	if err != nil {
		return err
	}
	p := &Part{Path: path, ContentType: ctype, Params: params, Charset: strings.ToLower(params["charset"]), From: from}
	disp, dparams := contentType(h.Get("Content-Disposition"))
	if disp == "attachment" || disp == "inline" {
		p.Disposition = disp
	}
	// RFC 2231 parameters are decoded here: the standard library knows
	// only UTF-8 and US-ASCII and drops pieces in other charsets.
	name := rfc2231Fallback(h.Get("Content-Disposition"), "filename")
	if name == "" {
		name = dparams["filename"]
	}
	if name == "" {
		name = rfc2231Fallback(h.Get("Content-Type"), "name")
	}
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		p.Filename = channels.SanitizeName(decodeWords(name))
	}
	if strings.HasPrefix(ctype, "text/") {
		data = toUTF8(data, p.Charset)
		p.Text = true
	}
	p.Data = data
	w.mail.Parts = append(w.mail.Parts, p)
	return nil
}

// base64Cleaner drops bytes outside the base64 alphabet (spaces, stray
// characters some mailers add), so a sloppy encoder still decodes.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func joinPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i)
	}
	return path + "." + strconv.Itoa(i)
}

func pathName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// contentType parses a Content-Type or Content-Disposition value,
// tolerating bad parameters; the default is text/plain.
func contentType(v string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil && mt == "" {
		// Take the type before the first ';' when it looks like one.
		t := strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		if strings.Count(t, "/") == 1 && !strings.ContainsAny(t, " \t\"") {
			mt = t
		} else {
			mt = "application/octet-stream"
		}
	}
	if params == nil {
		params = map[string]string{}
	}
	return strings.ToLower(mt), params
}

// rfc2231Fallback decodes an RFC 2231 parameter (with continuations) in
// a charset the standard library does not decode (it knows only UTF-8
// and US-ASCII).
func rfc2231Fallback(header, key string) string {
	type piece struct {
		n       int
		encoded bool
		value   string
	}
	var pieces []piece
	for _, param := range splitParams(header) {
		k, v, ok := strings.Cut(param, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if !strings.HasPrefix(k, key+"*") {
			continue
		}
		rest := k[len(key)+1:]
		p := piece{}
		if strings.HasSuffix(rest, "*") {
			p.encoded = true
			rest = strings.TrimSuffix(rest, "*")
		} else if rest == "" {
			p.encoded = true
		}
		if rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || n > 100 {
				continue
			}
			p.n = n
		}
		p.value = v
		pieces = append(pieces, p)
	}
	if len(pieces) == 0 {
		return ""
	}
	slices.SortFunc(pieces, func(a, b piece) int { return a.n - b.n })
	charset := ""
	var raw []byte
	for i, p := range pieces {
		v := p.value
		if i == 0 && p.encoded {
			parts := strings.SplitN(v, "'", 3)
			if len(parts) == 3 {
				charset, v = strings.ToLower(parts[0]), parts[2]
			}
		}
		if p.encoded {
			if u, err := url.PathUnescape(strings.ReplaceAll(v, "+", "%2B")); err == nil {
				v = u
			}
		}
		raw = append(raw, v...)
	}
	return string(toUTF8(raw, charset))
}

// splitParams splits "type; a=1; b=\"x;y\"" at the semicolons outside
// quotes, dropping the first element (the type).
func splitParams(v string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	out = append(out, v[start:])
	if len(out) > 0 {
		out = out[1:]
	}
	return out
}

// charsetEncoding finds a charset's decoder; nil when unknown.
func charsetEncoding(charset string) encoding.Encoding {
	charset = strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"`))
	if charset == "" {
		return nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil
	}
	return enc
}

// toUTF8 converts data from charset; unknown or missing charsets are
// UTF-8 when valid, else Windows-1252 (the usual culprit).
func toUTF8(data []byte, charset string) []byte {
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs == "utf-8" || cs == "us-ascii" || cs == "ascii" || cs == "utf8" {
		if utf8.Valid(data) {
			return data
		}
		cs = ""
	}
	enc := charsetEncoding(cs)
	if enc == nil {
		if utf8.Valid(data) {
			return data
		}
		enc = charmap.Windows1252
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	return out
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc := charsetEncoding(charset)
	if enc == nil {
		return nil, fmt.Errorf("unknown charset %q", charset)
	}
	return enc.NewDecoder().Reader(input), nil
}}

var addrParser = &netmail.AddressParser{WordDecoder: wordDecoder}

// decodeWords decodes RFC 2047 words; raw 8-bit text is converted as in
// toUTF8.
func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return string(toUTF8([]byte(s), ""))
}

// address parses one address header: the lower-cased address and the
// decoded display name.
func address(v string) (string, string) {
	if strings.TrimSpace(v) == "" {
		return "", ""
	}
	a, err := addrParser.Parse(v)
	if err != nil {
		// Take what is between the last <...>, or the bare value.
		if i := strings.LastIndexByte(v, '<'); i >= 0 {
			if j := strings.IndexByte(v[i:], '>'); j > 0 {
				return strings.ToLower(strings.TrimSpace(v[i+1 : i+j])), ""
			}
		}
		if f := strings.Fields(v); len(f) == 1 && strings.Contains(f[0], "@") {
			return strings.ToLower(f[0]), ""
		}
		return "", ""
	}
	return strings.ToLower(a.Address), sanitizeText(a.Name, 200)
}

// sanitizeText: valid UTF-8, control characters as spaces, space runs
// collapsed, at most n runes.
func sanitizeText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n])
	}
	return s
}
