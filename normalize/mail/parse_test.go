package mail

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// crlf turns a readable test mail into wire form.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		from        string
		subject     string
		parts       int
		part        int    // the part checked below
		ctype       string // its content type
		filename    string
		text        string // its decoded text (Data as string)
		forwarded   []string
		wantMsgID   string
		wantInReply string
	}{
		{
			name: "latin1 quoted-printable body",
			raw: "From: \"M=?ISO-8859-1?Q?=FC?=ller\" <Einkauf@Kunde.DE>\nSubject: Bestellung\nMessage-ID: <a1@kunde.de>\nIn-Reply-To: <x@y>\n" +
				"Content-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n10 St=FCck Schrauben f=FCr S=FCd\n",
			from: "einkauf@kunde.de", subject: "Bestellung", parts: 1, part: 0, ctype: "text/plain",
			text: "10 Stück Schrauben für Süd\n", wantMsgID: "<a1@kunde.de>", wantInReply: "<x@y>",
		},
		{
			name: "windows-1252 base64 with euro sign",
			raw:  "From: a@b.example\nSubject: =?windows-1252?Q?Preis_=80_100?=\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: base64\n\nUHJlaXMggCAxMDAgLSDEbmRlcnVuZw==\n",
			from: "a@b.example", subject: "Preis € 100", parts: 1, part: 0, ctype: "text/plain", text: "Preis € 100 - Änderung",
		},
		{
			name: "utf-8 RFC 2047 B subject split over two words",
			raw:  "From: a@b.example\nSubject: =?UTF-8?B?QmVzdGVsbHVuZyBN?= =?UTF-8?B?w6RyeiDinJM=?=\n\nhi\n",
			from: "a@b.example", subject: "Bestellung März ✓", parts: 1, part: 0, ctype: "text/plain", text: "hi\n",
		},
		{
			name: "undeclared charset, invalid UTF-8: Windows-1252",
			raw:  "From: a@b.example\nSubject: x\n\nGr\xfc\xdfe\n",
			from: "a@b.example", subject: "x", parts: 1, part: 0, ctype: "text/plain", text: "Grüße\n",
		},
		{
			name: "RFC 2231 filename in ISO-8859-1 with continuations",
			raw: "From: a@b.example\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nsee\n--B\n" +
				"Content-Type: text/csv\nContent-Disposition: attachment;\n filename*0*=iso-8859-1''Bestellung%20M%E4rz;\n filename*1=\".csv\"\n\nsku;qty\n--B--\n",
			from: "a@b.example", subject: "x", parts: 2, part: 1, ctype: "text/csv", filename: "Bestellung März.csv", text: "sku;qty",
		},
		{
			name: "RFC 2231 UTF-8 filename",
			raw: "From: a@b.example\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n" +
				"Content-Disposition: attachment; filename*=UTF-8''%E6%B3%A8%E6%96%87%E6%9B%B8.pdf\n\nJVBERi0xLjQK\n--B--\n",
			from: "a@b.example", parts: 1, part: 0, ctype: "application/pdf", filename: "注文書.pdf", text: "%PDF-1.4\n",
		},
		{
			name: "RFC 2047 encoded quoted filename, path traversal sanitised",
			raw:  "From: a@b.example\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/octet-stream; name=\"=?utf-8?Q?..=2F..=2Fetc=2Fpasswd?=\"\n\nroot\n--B--\n",
			from: "a@b.example", parts: 1, part: 0, ctype: "application/octet-stream", filename: "_.._etc_passwd", text: "root\n",
		},
		{
			name: "nested multipart alternative inside mixed",
			raw: "From: a@b.example\nContent-Type: multipart/mixed; boundary=OUT\n\n--OUT\nContent-Type: multipart/alternative; boundary=IN\n\n--IN\nContent-Type: text/plain; charset=utf-8\n\nplain\n--IN\n" +
				"Content-Type: text/html; charset=utf-8\n\n<p>html</p>\n--IN--\n--OUT\nContent-Type: application/pdf; name=po.pdf\n\n%PDF-1.4\n--OUT--\n",
			from: "a@b.example", parts: 3, part: 2, ctype: "application/pdf", filename: "po.pdf", text: "%PDF-1.4",
		},
		{
			name: "forwarded fax as message/rfc822",
			raw: "From: service@us.example\nSubject: Fwd: Fax\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nplease enter\n--B\nContent-Type: message/rfc822\n\n" +
				"From: Fax Service <NoReply@Fax.Example.com>\nSubject: Fax from +49 40 123\nContent-Type: multipart/mixed; boundary=C\n\n--C\nContent-Type: application/pdf; name=fax.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--C--\n--B--\n",
			from: "service@us.example", subject: "Fwd: Fax", parts: 2, part: 1, ctype: "application/pdf", filename: "fax.pdf", text: "%PDF-1.4\n",
			forwarded: []string{"noreply@fax.example.com"},
		},
		{
			name: "broken base64 keeps what decodes",
			raw:  "From: a@b.example\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=!!!\n",
			from: "a@b.example", parts: 1, part: 0, ctype: "text/plain", text: "hello world",
		},
		{
			name: "multipart without boundary stays one part",
			raw:  "From: a@b.example\nContent-Type: multipart/mixed\n\nbody\n",
			from: "a@b.example", parts: 1, part: 0, ctype: "application/octet-stream", text: "body\n",
		},
		{
			name: "unknown charset taken as UTF-8 when valid",
			raw:  "From: a@b.example\nContent-Type: text/plain; charset=x-made-up\n\nÄpfel\n",
			from: "a@b.example", parts: 1, part: 0, ctype: "text/plain", text: "Äpfel\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(crlf(tt.raw), Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.From != tt.from {
				t.Errorf("From = %q, want %q", m.From, tt.from)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if tt.wantMsgID != "" && m.MessageID != tt.wantMsgID {
				t.Errorf("MessageID = %q, want %q", m.MessageID, tt.wantMsgID)
			}
			if tt.wantInReply != "" && m.InReplyTo != tt.wantInReply {
				t.Errorf("InReplyTo = %q, want %q", m.InReplyTo, tt.wantInReply)
			}
			if len(m.Parts) != tt.parts {
				for _, p := range m.Parts {
					t.Logf("part %s %s %q", p.Path, p.ContentType, p.Data)
				}
				t.Fatalf("%d parts, want %d", len(m.Parts), tt.parts)
			}
			p := m.Parts[tt.part]
			if p.ContentType != tt.ctype {
				t.Errorf("part %d ContentType = %q, want %q", tt.part, p.ContentType, tt.ctype)
			}
			if p.Filename != tt.filename {
				t.Errorf("part %d Filename = %q, want %q", tt.part, p.Filename, tt.filename)
			}
			if got := strings.ReplaceAll(string(p.Data), "\r\n", "\n"); strings.TrimSpace(got) != strings.TrimSpace(tt.text) {
				t.Errorf("part %d Data = %q, want %q", tt.part, got, tt.text)
			}
			if fmt.Sprint(m.Forwarded) != fmt.Sprint(tt.forwarded) {
				t.Errorf("Forwarded = %q, want %q", m.Forwarded, tt.forwarded)
			}
		})
	}
}

func TestParseDateAndDisplayName(t *testing.T) {
	m, err := Parse(crlf("From: =?iso-8859-1?q?J=F6rg_M=FCller?= <J@X.example>\nTo: a@b.example, C <c@d.example>\nDate: Tue, 17 Nov 2026 10:00:00 +0100\n\nx\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.FromName != "Jörg Müller" || m.From != "j@x.example" {
		t.Errorf("From = %q %q, want Jörg Müller j@x.example", m.FromName, m.From)
	}
	if want := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC); !m.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", m.Date, want)
	}
	if fmt.Sprint(m.To) != "[a@b.example c@d.example]" {
		t.Errorf("To = %q", m.To)
	}
}

// TestParseLimits: hostile mails end in ErrLimit, bounded in time.
func TestParseLimits(t *testing.T) {
	manyParts := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n")
		for i := range n {
			fmt.Fprintf(&b, "--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
		}
		b.WriteString("--B--\r\n")
		return b.Bytes()
	}
	deep := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: a@b.example\r\n")
		for i := range n {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=B%d\r\n\r\n--B%d\r\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\r\n\r\ndeep\r\n")
		return b.Bytes()
	}
	deepForward := func(n int) []byte {
		var b bytes.Buffer
		for range n {
			b.WriteString("From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n")
		}
		b.WriteString("From: z@b.example\r\n\r\nbottom\r\n")
		return b.Bytes()
	}
	big := append([]byte("From: a@b.example\r\nContent-Type: application/pdf\r\n\r\n"), bytes.Repeat([]byte("A"), 50<<20)...)
	tests := []struct {
		name string
		raw  []byte
		lim  Limits
	}{
		{"50 MB mail", big, Limits{}},
		{"10,000 parts", manyParts(10000), Limits{}},
		{"deep multipart nesting", deep(200), Limits{}},
		{"deep forwarded mails", deepForward(200), Limits{}},
		{"part larger than its limit", manyParts(3), Limits{MaxPartBytes: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			m, err := Parse(tt.raw, tt.lim)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("Parse = %v parts, %v; want ErrLimit", partsOf(m), err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Parse took %v", d)
			}
		})
	}
	// Within the limits the same shapes parse.
	if m, err := Parse(manyParts(50), Limits{}); err != nil || len(m.Parts) != 50 {
		t.Errorf("50 parts: %v parts, %v", partsOf(m), err)
	}
	if m, err := Parse(deep(5), Limits{}); err != nil || len(m.Parts) != 1 {
		t.Errorf("5 levels: %v parts, %v", partsOf(m), err)
	}
}

func partsOf(m *Mail) int {
	if m == nil {
		return -1
	}
	return len(m.Parts)
}

func TestParseMalformed(t *testing.T) {
	if _, err := Parse([]byte("no header at all, just text without colon\r\n"), Limits{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("Parse of a non-mail = %v, want ErrMalformed", err)
	}
}
