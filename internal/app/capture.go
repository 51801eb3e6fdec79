package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/capture"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ocr"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
	"github.com/ordergate/ordergate/normalize/mail"
	"github.com/ordergate/ordergate/normalize/order"
	"go.yaml.in/yaml/v3"
)

// newCapturer makes the reader of faxes and order mails: tesseract and
// poppler under limits, the store's master data for matching, the
// configured sender profiles. st may be nil (no master data: nothing
// read by OCR goes touchless).
func newCapturer(cfg *config.Config, st *store.Store, log *slog.Logger) (*capture.Capturer, error) {
	cc := capture.Config{Recognizer: ocr.New(ocr.Options{Logger: log}), Logger: log}
	if st != nil {
		cc.MasterData = capture.NewStoreMasterData(st, capture.StoreOptions{PartnerOf: partnerOfCustomer(cfg), Country: cfg.Capture.Country})
	}
	if cfg.Capture.Profiles != "" {
		ps, err := capture.LoadProfiles(cfg.Capture.Profiles)
		if err != nil {
			return nil, err
		}
		cc.Profiles = ps
	}
	return capture.New(cc), nil
}

// partnerOfCustomer maps our customer numbers to the partners whose
// account they are.
func partnerOfCustomer(cfg *config.Config) func(string) string {
	m := map[string]string{}
	for _, p := range cfg.Partners {
		if p.CustomerID != "" {
			m[p.CustomerID] = p.ID
		}
	}
	return func(customer string) string { return m[customer] }
}

// captureFunc is the pipeline's capture over a Capturer: each PDF of a fax
// or order mail is read (OCR or its text layer), else each table, else
// the body text; every part that holds an order gives a draft.
//
// template names a profile to apply ("": the sender's, if any).
func captureFunc(c *capture.Capturer, cfg func() *config.Config, template string) pipeline.Capture {
	return func(ctx context.Context, in pipeline.CaptureInput) ([]*order.Order, error) {
		opts := capture.Options{Template: template, Threshold: cfg().Capture.Threshold, Now: time.Now()}
		sender := ncapture.Sender{Email: in.Sender, Fax: faxNumberOf(in.Subject)}
		var inputs []capture.Input
		for _, p := range in.Class.PDFs {
			inputs = append(inputs, capture.Input{Kind: capture.InputPDF, Bytes: p.Data, Sender: sender, Name: p.Filename})
		}
		if in.Kind == mail.KindFax {
			// Fax pages sent as images (TIFF, PNG) are read by OCR like
			// the pages of a PDF.
			for _, p := range in.Class.Images {
				inputs = append(inputs, capture.Input{Kind: capture.InputImage, Bytes: p.Data, Sender: sender, Name: p.Filename})
			}
		}
		if len(inputs) == 0 {
			for _, t := range in.Class.Tables {
				inputs = append(inputs, capture.Input{Kind: capture.InputRows, Rows: t.Rows, Sender: sender, Name: t.Name})
			}
		}
		if len(inputs) == 0 && strings.TrimSpace(in.Class.Text) != "" {
			inputs = append(inputs, capture.Input{Kind: capture.InputText, Bytes: []byte(in.Class.Text), Sender: sender, Name: in.Subject})
		}
		var out []*order.Order
		var errs []error
		for _, x := range inputs {
			o, _, err := c.Capture(ctx, x, opts)
			if errors.Is(err, ncapture.ErrNoOrder) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, o)
		}
		if len(out) == 0 && len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return out, nil
	}
}

// faxNumberOf finds a fax number in a fax-to-mail subject ("Fax from +49
// 40 1234 567"): the longest run of digits, spaces, + and - with at least
// six digits.
func faxNumberOf(subject string) string {
	best, cur, digits := "", "", 0
	flush := func() {
		if digits >= 6 && len(cur) > len(best) {
			best = strings.TrimSpace(cur)
		}
		cur, digits = "", 0
	}
	for _, r := range subject {
		switch {
		case r >= '0' && r <= '9':
			cur += string(r)
			digits++
		case r == '+' || r == ' ' || r == '-' || r == '/' || r == '(' || r == ')':
			if cur != "" || r == '+' {
				cur += string(r)
			}
		default:
			flush()
		}
	}
	flush()
	return best
}

// renderPages draws the pages of a document's PDF (the document itself, or
// a mail's first PDF attachment) as PNG for the review screen, with
// poppler's pdftoppm at 100 dpi, limited to 20 pages and 30 seconds.
func renderPages(ctx context.Context, doc store.Document, raw []byte) ([][]byte, error) {
	pdf := raw
	if doc.Standard == pipeline.StandardEmail {
		m, err := mail.Parse(raw, mail.Limits{})
		if err != nil {
			return nil, err
		}
		pdf = nil
		for _, p := range m.Parts {
			if strings.EqualFold(p.ContentType, "application/pdf") {
				pdf = p.Data
				break
			}
		}
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		return nil, nil // nothing to draw: the review shows the fields only
	}
	dir, err := os.MkdirTemp("", "ordergate-pages-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pdftoppm", "-png", "-r", "100", "-l", "20", in, filepath.Join(dir, "page"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdftoppm: %v: %s", err, bytes.TrimSpace(out))
	}
	names, err := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var pages [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		pages = append(pages, b)
	}
	return pages, nil
}

// CaptureFile reads a fax or order file the way the gateway reads them
// from a mailbox (`ordergate parse` of .pdf, .eml, .csv, .xlsx, .txt): the
// draft orders with their confidence, boxes and status. EDI attachments
// of a mail are read as EDI. st may be nil (no master data).
func CaptureFile(ctx context.Context, cfg *config.Config, st *store.Store, path, template string, log *slog.Logger) ([]*order.Order, error) {
	c, err := newCapturer(cfg, st, log)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	opts := capture.Options{Template: template, Threshold: cfg.Capture.Threshold, Now: time.Now()}
	one := func(in capture.Input) ([]*order.Order, error) {
		o, _, err := c.Capture(ctx, in, opts)
		if err != nil {
			return nil, err
		}
		return []*order.Order{o}, nil
	}
	ext := strings.ToLower(filepath.Ext(name))
	if kind, ok := capture.KindForFile(name); ok {
		return one(capture.Input{Kind: kind, Bytes: data, Name: name})
	}
	switch ext {
	case ".xlsx":
		tables, err := mail.ReadXLSX(name, data, mail.Rules{})
		if err != nil {
			return nil, err
		}
		var out []*order.Order
		for _, t := range tables {
			o, _, err := c.Capture(ctx, capture.Input{Kind: capture.InputRows, Rows: t.Rows, Name: name}, opts)
			if errors.Is(err, ncapture.ErrNoOrder) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: %w", name, ncapture.ErrNoOrder)
		}
		return out, nil
	case ".eml":
		m, err := mail.Parse(data, mail.Limits{})
		if err != nil {
			return nil, err
		}
		cls := mail.Classify(m, mailRules(cfg))
		switch cls.Kind {
		case mail.KindFax, mail.KindEmailOrder:
			out, err := captureFunc(c, func() *config.Config { return cfg }, template)(ctx, pipeline.CaptureInput{Kind: cls.Kind, Sender: m.From,
				Subject: m.Subject, Class: cls})
			if err == nil && len(out) == 0 {
				err = fmt.Errorf("%s: %w", name, ncapture.ErrNoOrder)
			}
			for _, o := range out {
				if cls.Kind == mail.KindFax {
					// As the gateway has it: a fax service's PDF is a fax.
					o.Channel = order.ChannelFax
				}
			}
			return out, err
		case mail.KindEDI:
			return nil, fmt.Errorf("%s holds EDI (%d attachment(s)): save them and parse them as EDI", name, len(cls.EDI))
		default:
			return nil, fmt.Errorf("%s is not an order: %s", name, cls.Reason)
		}
	}
	return nil, fmt.Errorf("%s: not a file capture reads (.pdf, .eml, .csv, .xlsx, .txt)", name)
}

// mailRules are the classification rules of the configured IMAP
// channels for a mail read from a file: their fax senders, and their kind
// when they all have the same one.
func mailRules(cfg *config.Config) mail.Rules {
	rules := mail.Rules{Mode: "auto", OrderSenders: pipeline.OrderSenders(cfg)}
	kinds := map[string]bool{}
	for _, ch := range cfg.Channels {
		if ch.Type != config.ChannelIMAP {
			continue
		}
		rules.FaxSenders = append(rules.FaxSenders, ch.FaxSenders...)
		if ch.Kind != "" {
			kinds[ch.Kind] = true
		}
	}
	if len(kinds) == 1 {
		for k := range kinds {
			rules.Mode = k
		}
	}
	return rules
}

// IsCaptureFile reports whether `ordergate parse` reads a file by capture
// (a .pdf, .eml, .csv, .xlsx or .txt that is not EDI) rather than as EDI.
func IsCaptureFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pdf", ".eml", ".csv", ".xlsx", ".txt", ".tif", ".tiff", ".png":
	default:
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return true // capture reports the error
	}
	defer f.Close()
	head := make([]byte, edi.SniffLen)
	n, _ := io.ReadFull(f, head)
	return edi.Sniff(head[:n]) == edi.Unknown
}

// ProposeProfile learns a capture profile for a sender from the
// reviewers' corrections of its drafts (`ordergate capture propose`):
// sender is an address or a domain ("*@example.com" or "example.com");
// the proposal says why for each setting. It writes the profiles YAML
// (ready for capture.profiles) to w.
func (t *Tools) ProposeProfile(ctx context.Context, name, sender string, w io.Writer) (int, error) {
	evs, err := t.Store.EventsOfKind(ctx, "review_accepted", 0)
	if err != nil {
		return 0, err
	}
	want := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(sender, "*"), "@"))
	var cs []ncapture.Correction
	for _, e := range evs {
		var data struct {
			Sender      string                `json:"sender"`
			Corrections []ncapture.Correction `json:"corrections"`
		}
		if len(e.Data) == 0 || json.Unmarshal(e.Data, &data) != nil {
			continue
		}
		from := strings.ToLower(data.Sender)
		if from != want && !strings.HasSuffix(from, "@"+want) {
			continue
		}
		cs = append(cs, data.Corrections...)
	}
	if len(cs) == 0 {
		// Nothing to learn from: nothing printed (the caller says why).
		return 0, nil
	}
	p := ncapture.ProposeProfile(name, cs)
	if strings.Contains(sender, "@") && !strings.HasPrefix(sender, "*") {
		p.Profile.Match.Email = []string{sender}
	} else {
		p.Profile.Match.Email = []string{"*@" + want}
	}
	var b strings.Builder
	b.WriteString("# proposed from " + fmt.Sprint(len(cs)) + " reviewer correction(s) of drafts from " + sender + "\n")
	for _, why := range p.Why {
		b.WriteString("# - " + why + "\n")
	}
	out, err := yaml.Marshal(map[string]any{"profiles": []ncapture.Profile{p.Profile}})
	if err != nil {
		return 0, err
	}
	b.Write(out)
	_, err = io.WriteString(w, b.String())
	return len(cs), err
}
