package mail

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics, stays within its limits, and yields
// valid UTF-8 text and safe names; Classify never panics on its result.
func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@b.example\r\nSubject: =?utf-8?q?x?=\r\n\r\nhello\r\n"))
	f.Add(mailWith("From: a@fax.example.com\n", "x", attachment{"fax.pdf", "application/pdf", []byte(pdf)}))
	f.Add(mailWith("From: a@b.example\n", "", attachment{"po.txt", "text/plain", []byte(x12PO)}))
	lim := Limits{MaxBytes: 1 << 20, MaxParts: 100, MaxDepth: 8}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, lim)
		if err != nil {
			if !errors.Is(err, ErrLimit) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error of no class: %v", err)
			}
			return
		}
		if len(m.Parts) > lim.MaxParts {
			t.Fatalf("%d parts beyond the limit", len(m.Parts))
		}
		if !utf8.ValidString(m.Subject) {
			t.Fatalf("subject not UTF-8: %q", m.Subject)
		}
		for _, p := range m.Parts {
			if p.Text && !utf8.Valid(p.Data) {
				t.Fatalf("text part %s not UTF-8", p.Path)
			}
			if p.Filename != "" && (!utf8.ValidString(p.Filename) || len(p.Filename) > 255) {
				t.Fatalf("unsafe name %q", p.Filename)
			}
		}
		Classify(m, Rules{FaxSenders: []string{"*@fax.example.com"}, MaxUnzipBytes: 4 << 20})
	})
}
