package mailer

import (
	"fmt"
	"strings"
	"text/template"
)

// Original is the mail being answered.
type Original struct {
	// From is where the answer goes (the original's Reply-To or From).
	From string
	// Subject, MessageID and References of the original.
	Subject    string
	MessageID  string
	References []string
}

// reply addresses m as an automatic answer to o.
func (o Original) reply(m *Message) *Message {
	m.To = []string{o.From}
	m.InReplyTo = o.MessageID
	m.References = o.References
	m.AutoReply = true
	return m
}

// replySubject prefixes "Re: " once.
func replySubject(subject, fallback string) string {
	s := strings.TrimSpace(subject)
	if s == "" {
		return fallback
	}
	if strings.HasPrefix(strings.ToLower(s), "re:") || strings.HasPrefix(strings.ToLower(s), "aw:") {
		return s
	}
	return "Re: " + s
}

// Line is one order line in a confirmation.
type Line struct {
	LineNo      string
	SKU         string
	Description string
	Quantity    string
	Unit        string
}

// ConfirmationData fills the confirmation template.
type ConfirmationData struct {
	Company           string // our company, signing the mail
	OrderID           string // our reference
	PONumber          string // the customer's
	Customer          string
	RequestedDelivery string
	Lines             []Line
	Notes             []string
}

// ResendData fills the "please resend" template.
type ResendData struct {
	Company string
	// Reason says what was wrong, in words for the customer.
	Reason string
	// Problems lists details (an unreadable attachment, a missing PO).
	Problems []string
}

// TaskData fills the sales-rep task template.
type TaskData struct {
	Company  string
	RepName  string
	OrderID  string
	PONumber string
	Customer string
	// Task says what to do; Notes are the customer's words.
	Task  string
	Notes []string
	// Link opens the order in the web UI.
	Link string
}

var templates = template.Must(template.New("mail").Parse(`
{{- define "confirmation" -}}
Guten Tag,

vielen Dank für Ihre Bestellung{{with .PONumber}} {{.}}{{end}}. Wir haben sie unter der Nummer {{.OrderID}} erfasst.
{{- with .RequestedDelivery}}
Gewünschter Liefertermin: {{.}}{{end}}

Thank you for your order{{with .PONumber}} {{.}}{{end}}. We have entered it as {{.OrderID}}.
{{- with .RequestedDelivery}}
Requested delivery: {{.}}{{end}}
{{if .Lines}}
{{range .Lines}}{{.LineNo}}. {{.Quantity}} {{.Unit}} {{.SKU}}{{with .Description}} - {{.}}{{end}}
{{end}}{{end}}
{{- range .Notes}}
Hinweis / Note: {{.}}{{end}}

Mit freundlichen Grüßen / Kind regards
{{.Company}}
{{end -}}

{{- define "resend" -}}
Guten Tag,

wir konnten Ihre Nachricht nicht als Bestellung verarbeiten{{with .Reason}}: {{.}}{{end}}.
Bitte senden Sie die Bestellung erneut, am besten als PDF, CSV- oder Excel-Datei (.xlsx) im Anhang.

We could not process your message as an order{{with .Reason}}: {{.}}{{end}}.
Please send the order again, preferably as a PDF, CSV or Excel (.xlsx) attachment.
{{range .Problems}}
- {{.}}{{end}}

Mit freundlichen Grüßen / Kind regards
{{.Company}}
{{end -}}

{{- define "task" -}}
Hallo {{with .RepName}}{{.}}{{else}}zusammen{{end}},

{{.Task}}

Auftrag / Order: {{.OrderID}}{{with .PONumber}} (PO {{.}}){{end}}
Kunde / Customer: {{.Customer}}
{{range .Notes}}
> {{.}}{{end}}
{{with .Link}}
{{.}}
{{end}}
-- 
{{.Company}} ordergate
{{end -}}
`))

func render(name string, data any) (string, error) {
	var b strings.Builder
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("rendering the %s mail: %w", name, err)
	}
	return b.String(), nil
}

// Confirmation is the answer to an order mail that was taken.
func Confirmation(o Original, d ConfirmationData) (*Message, error) {
	text, err := render("confirmation", d)
	if err != nil {
		return nil, err
	}
	fallback := "Auftragsbestätigung / Order confirmation " + d.OrderID
	return o.reply(&Message{Subject: replySubject(o.Subject, fallback), Text: text}), nil
}

// PleaseResend asks the sender to send an order again.
func PleaseResend(o Original, d ResendData) (*Message, error) {
	text, err := render("resend", d)
	if err != nil {
		return nil, err
	}
	return o.reply(&Message{Subject: replySubject(o.Subject, "Bitte erneut senden / Please resend your order"), Text: text}), nil
}

// SalesRepTask notifies a sales rep of a task on an order.
func SalesRepTask(rep string, d TaskData) (*Message, error) {
	text, err := render("task", d)
	if err != nil {
		return nil, err
	}
	subject := "Aufgabe / Task: " + d.Customer
	if d.PONumber != "" {
		subject += " PO " + d.PONumber
	}
	return &Message{To: []string{rep}, Subject: subject, Text: text}, nil
}
