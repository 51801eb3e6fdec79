package mail

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ordergate/ordergate/edi"
)

// mailWith builds a mail from headers, a text body and attachments
// (name, content type, bytes).
type attachment struct {
	name, ctype string
	data        []byte
}

func mailWith(headers, body string, atts ...attachment) []byte {
	var b bytes.Buffer
	b.WriteString(strings.ReplaceAll(headers, "\n", "\r\n"))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n")
	fmt.Fprintf(&b, "--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", strings.ReplaceAll(body, "\n", "\r\n"))
	for _, a := range atts {
		fmt.Fprintf(&b, "--XYZ\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			a.ctype, a.name, base64.StdEncoding.EncodeToString(a.data))
	}
	b.WriteString("--XYZ--\r\n")
	return b.Bytes()
}

func xlsxFile(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipBomb is an XLSX-shaped zip whose sheet unpacks to 40 MiB.
func zipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 40 {
		w.Write(chunk)
	}
	zw.Close()
	return buf.Bytes()
}

const (
	x12PO     = "ISA*00*          *00*          *ZZ*BAUMARKTNORD   *ZZ*TOOLSUPPLY     *261118*1200*U*00401*000004711*0*P*>~GS*PO*BAUMARKTNORD*TOOLSUPPLY*20261118*1200*4711*X*004010~"
	edifactPO = "UNA:+.? 'UNB+UNOC:3+4012345000009:14+TOOLSUPPLY:ZZ+261118:1200+4711'"
	pdf       = "%PDF-1.4\n%\xc7\xec\x8f\xa2\n"
)

func TestClassify(t *testing.T) {
	faxRules := Rules{FaxSenders: []string{"*@fax.example.com"}, OrderSenders: []string{"*@baumarkt-nord.de"}}
	tests := []struct {
		name   string
		raw    []byte
		rules  Rules
		kind   Kind
		check  func(t *testing.T, c Classification)
		reason string
	}{
		{"fax from the fax service", mailWith("From: NoReply@FAX.example.com\nSubject: Fax\n", "1 page", attachment{"fax.pdf", "application/pdf", []byte(pdf)}), faxRules, KindFax,
			func(t *testing.T, c Classification) {
				if len(c.PDFs) != 1 || c.PDFs[0].Filename != "fax.pdf" {
					t.Errorf("PDFs = %v", c.PDFs)
				}
			}, "fax service"},
		{"fax TIFF pages", mailWith("From: a@fax.example.com\n", "", attachment{"fax.tif", "image/tiff", []byte("II*\x00")}), faxRules, KindFax,
			func(t *testing.T, c Classification) {
				if len(c.Images) != 1 {
					t.Errorf("Images = %d, want 1", len(c.Images))
				}
			}, ""},
		{"fax sender without PDF", mailWith("From: a@fax.example.com\n", "your fax could not be sent"), faxRules, KindNotAnOrder, nil, "without a PDF"},
		{"fax channel takes any PDF", mailWith("From: x@anywhere.example\n", "", attachment{"scan.pdf", "application/pdf", []byte(pdf)}), Rules{Mode: ModeFax}, KindFax, nil, ""},
		{"email channel: fax sender's PDF is a customer PDF", mailWith("From: a@fax.example.com\nSubject: Order 4711\n", "", attachment{"po.pdf", "application/pdf", []byte(pdf)}),
			Rules{Mode: ModeEmail, FaxSenders: faxRules.FaxSenders}, KindEmailOrder, nil, "PDF"},
		{"X12 attachment named .txt", mailWith("From: edi@baumarkt-nord.de\n", "", attachment{"po.txt", "text/plain", []byte(x12PO)}), faxRules, KindEDI,
			func(t *testing.T, c Classification) {
				if len(c.EDI) != 1 || c.EDI[0].Standard != edi.X12 || c.EDI[0].Name != "po.txt" {
					t.Errorf("EDI = %+v", c.EDI)
				}
			}, "X12"},
		{"EDIFACT attachment .edi", mailWith("From: a@b.example\n", "", attachment{"orders.edi", "application/edifact", []byte(edifactPO)}), faxRules, KindEDI,
			func(t *testing.T, c Classification) {
				if c.EDI[0].Standard != edi.EDIFACT {
					t.Errorf("Standard = %v", c.EDI[0].Standard)
				}
			}, ""},
		{".edi that is not EDI", mailWith("From: a@b.example\n", "hello", attachment{"x.edi", "application/octet-stream", []byte("hello")}), faxRules, KindNotAnOrder, nil, ""},
		{"CSV order with semicolons", mailWith("From: einkauf@kunde.example\nSubject: Nachbestellung\n", "anbei", attachment{"po.csv", "text/csv", []byte("sku;qty\nSCR-100;24\n\nNUT-8;100\n")}), faxRules, KindEmailOrder,
			func(t *testing.T, c Classification) {
				if len(c.Tables) != 1 || fmt.Sprint(c.Tables[0].Rows) != "[[sku qty] [SCR-100 24] [NUT-8 100]]" {
					t.Errorf("Tables = %+v", c.Tables)
				}
			}, "table"},
		{"XLSX order", mailWith("From: einkauf@kunde.example\n", "see file", attachment{"po.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			xlsxFile(t, [][]any{{"SKU", "Qty"}, {"SCR-100", 24}, {"Schraube M4 Süd", 3}})}), faxRules, KindEmailOrder,
			func(t *testing.T, c Classification) {
				if len(c.Tables) != 1 || c.Tables[0].Sheet != "Sheet1" || fmt.Sprint(c.Tables[0].Rows) != "[[SKU Qty] [SCR-100 24] [Schraube M4 Süd 3]]" {
					t.Errorf("Tables = %+v", c.Tables)
				}
			}, ""},
		{"XLSX zip bomb refused", mailWith("From: a@b.example\n", "", attachment{"bomb.xlsx", "application/octet-stream", zipBomb(t)}), Rules{MaxUnzipBytes: 16 << 20}, KindNotAnOrder,
			func(t *testing.T, c Classification) {
				if len(c.Problems) != 1 {
					t.Errorf("Problems = %q, want the bomb", c.Problems)
				}
			}, "could not be read"},
		{"old xls named", mailWith("From: a@b.example\n", "", attachment{"po.xls", "application/vnd.ms-excel", []byte{0xD0, 0xCF}}), faxRules, KindNotAnOrder, nil, ".xls"},
		{"plain text order", mailWith("From: a@kunde.example\nSubject: Bestellung\n", "Hallo,\nbitte liefern:\n10 x SCR-100 Holzschrauben\n5 Stk NUT-8\nGruss"), faxRules, KindEmailOrder,
			func(t *testing.T, c Classification) {
				if !strings.Contains(c.Text, "10 x SCR-100") {
					t.Errorf("Text = %q", c.Text)
				}
			}, "reads like an order"},
		{"known customer, any text", mailWith("From: Lager@Baumarkt-Nord.de\n", "Wie besprochen die Artikel von gestern nochmal."), faxRules, KindEmailOrder, nil, "known customer"},
		{"customer PDF with order words", mailWith("From: a@kunde.example\nSubject: Purchase order 4500012345\n", "attached", attachment{"po.pdf", "application/pdf", []byte(pdf)}), faxRules, KindEmailOrder, nil, "PDF"},
		{"newsletter", mailWith("From: news@shop.example\nList-Unsubscribe: <mailto:u@shop.example>\nSubject: Order now!\n", "Order now: 10 x discount"), faxRules, KindNotAnOrder, nil, "newsletter"},
		{"auto-reply", mailWith("From: a@kunde.example\nAuto-Submitted: auto-replied\nSubject: Out of office\n", "I am away, your order 5 x will wait"), faxRules, KindNotAnOrder, nil, "automatic"},
		{"chit-chat", mailWith("From: a@kunde.example\nSubject: Lunch\n", "See you at noon?"), faxRules, KindNotAnOrder, nil, "no order content"},
		{"forwarded fax by customer service", []byte(strings.ReplaceAll("From: service@us.example\nSubject: Fwd: Fax\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: message/rfc822\n\n"+
			"From: noreply@fax.example.com\nContent-Type: application/pdf; name=fax.pdf\n\n%PDF-1.4\n--B--\n", "\n", "\r\n")), faxRules, KindFax, nil, "fax service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c := Classify(m, tt.rules)
			if c.Kind != tt.kind {
				t.Fatalf("Kind = %q (%s), want %q", c.Kind, c.Reason, tt.kind)
			}
			if tt.reason != "" && !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to mention %q", c.Reason, tt.reason)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestHTMLBody(t *testing.T) {
	raw := "From: a@kunde.example\r\nSubject: Bestellung\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><style>p{}</style><p>Bitte liefern</p><table><tr><td>10 x</td><td>SCR-100 &amp; Co</td></tr></table></html>\r\n"
	m, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := Classify(m, Rules{})
	if c.Kind != KindEmailOrder || !strings.Contains(c.Text, "SCR-100 & Co") || strings.Contains(c.Text, "<") || strings.Contains(c.Text, "p{}") {
		t.Errorf("Kind %q, Text %q", c.Kind, c.Text)
	}
}
