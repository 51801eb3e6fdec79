package mailer

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	msg := &Message{
		To: []string{"Jörg Müller <einkauf@kunde.example>"}, Cc: []string{"rep@tools.example"},
		Subject: "Auftragsbestätigung für Süd – PO 4711", Text: "Zeile 1: 24 × SCR-100\nÄnderung übernommen.\n",
		InReplyTo: "<po@kunde.example>", References: []string{"<a@x>", "<po@kunde.example>"}, AutoReply: true,
		Attachments: []Attachment{{Name: "Bestätigung März.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n")}},
	}
	raw, err := msg.Build("Ordergate <orders@tools.example>", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if strings.Contains(line, "\n") {
			t.Fatalf("bare LF in %q", line)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date = %v, %v; want %v", d, err, now)
	}
	if !regexp.MustCompile(`^<\d{14}\.[0-9a-f]{16}@tools\.example>$`).MatchString(h.Get("Message-ID")) || h.Get("Message-ID") != msg.MessageID {
		t.Errorf("Message-ID = %q (msg %q)", h.Get("Message-ID"), msg.MessageID)
	}
	dec := new(mime.WordDecoder)
	if s, _ := dec.DecodeHeader(h.Get("Subject")); s != msg.Subject {
		t.Errorf("Subject decodes to %q, want %q (raw %q)", s, msg.Subject, h.Get("Subject"))
	}
	if to, err := h.AddressList("To"); err != nil || to[0].Name != "Jörg Müller" || to[0].Address != "einkauf@kunde.example" {
		t.Errorf("To = %v, %v", to, err)
	}
	if got := h.Get("References"); got != "<a@x> <po@kunde.example>" {
		t.Errorf("References = %q", got)
	}
	if h.Get("Auto-Submitted") != "auto-replied" || h.Get("MIME-Version") != "1.0" {
		t.Errorf("Auto-Submitted %q, MIME-Version %q", h.Get("Auto-Submitted"), h.Get("MIME-Version"))
	}
	_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	text, err := mr.NextRawPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(text))
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != msg.Text {
		t.Errorf("text = %q, want %q", got, msg.Text)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if att.FileName() != "Bestätigung März.pdf" {
		t.Errorf("attachment name = %q", att.FileName())
	}
}

func TestBuildRefusesHeaderInjection(t *testing.T) {
	for _, msg := range []*Message{
		{To: []string{"a@b.example"}, Subject: "x\r\nBcc: victim@example.com"},
		{To: []string{"a@b.example\r\nBcc: v@example.com"}, Subject: "x"},
		{To: []string{"not an address"}, Subject: "x"},
		{Subject: "no recipient"},
		{To: []string{"a@b.example"}, InReplyTo: "<x>\nBcc: v@example.com"},
	} {
		if _, err := msg.Build("a@b.example", time.Now()); !errors.Is(err, ErrHeader) {
			t.Errorf("Build(%+v) = %v, want ErrHeader", msg, err)
		}
	}
}

func TestTemplates(t *testing.T) {
	o := Original{From: "einkauf@kunde.example", Subject: "Bestellung März", MessageID: "<m1@kunde.example>", References: []string{"<m0@kunde.example>"}}
	conf, err := Confirmation(o, ConfirmationData{Company: "Tools GmbH", OrderID: "ord_7", PONumber: "4711", RequestedDelivery: "2026-12-01",
		Lines: []Line{{LineNo: "1", SKU: "SCR-100", Quantity: "24", Unit: "EA"}}, Notes: []string{"Rampe 3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Bestellung 4711", "ord_7", "2026-12-01", "1. 24 EA SCR-100", "Rampe 3", "Tools GmbH"} {
		if !strings.Contains(conf.Text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, conf.Text)
		}
	}
	if conf.Subject != "Re: Bestellung März" || conf.To[0] != o.From || conf.InReplyTo != o.MessageID || !conf.AutoReply {
		t.Errorf("confirmation addressing: %+v", conf)
	}
	if raw, err := conf.Build("orders@tools.example", time.Now()); err != nil || !bytes.Contains(raw, []byte("References: <m0@kunde.example> <m1@kunde.example>")) {
		t.Errorf("confirmation build: %v\n%s", err, raw)
	}

	resend, err := PleaseResend(Original{From: "a@b.example", Subject: "RE: scan"}, ResendData{Company: "Tools GmbH", Reason: "the attachment could not be read", Problems: []string{"po.xls: old Excel format"}})
	if err != nil {
		t.Fatal(err)
	}
	if resend.Subject != "RE: scan" || !strings.Contains(resend.Text, "could not be read") || !strings.Contains(resend.Text, "- po.xls: old Excel format") {
		t.Errorf("resend: %q\n%s", resend.Subject, resend.Text)
	}

	task, err := SalesRepTask("rep@tools.example", TaskData{Company: "Tools", RepName: "Anna", OrderID: "ord_9", PONumber: "88", Customer: "Baumarkt Nord",
		Task: "Bitte den Wunschtermin klären.", Notes: []string{"Liefern vor 8 Uhr"}, Link: "https://og.example/orders/ord_9"})
	if err != nil {
		t.Fatal(err)
	}
	if task.Subject != "Aufgabe / Task: Baumarkt Nord PO 88" || task.AutoReply || !strings.Contains(task.Text, "> Liefern vor 8 Uhr") || !strings.Contains(task.Text, "https://og.example/orders/ord_9") {
		t.Errorf("task: %q\n%s", task.Subject, task.Text)
	}
}
