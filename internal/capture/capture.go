package capture

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/internal/ocr"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
	"github.com/ordergate/ordergate/normalize/order"
)

// InputKind is the kind of a captured document.
type InputKind string

// The input kinds.
const (
	InputPDF  InputKind = "pdf"  // a fax or a PDF with a text layer
	InputText InputKind = "text" // an e-mail body
	InputCSV  InputKind = "csv"  // a CSV file (the delimiter is sniffed: ; , or tab)
	InputRows InputKind = "rows" // spreadsheet rows (XLSX cells read by normalize/mail)
	// InputImage is a fax sent as an image: a TIFF (every page) or a PNG.
	InputImage InputKind = "image"
)

// Input is one captured document.
type Input struct {
	Kind   InputKind
	Bytes  []byte     // the PDF, the text or the CSV
	Rows   [][]string // for InputRows
	Sender ncapture.Sender
	// Name is the file name or message id, recorded in the order's source.
	Name      string
	MessageID string
}

// Options configure one capture.
type Options struct {
	// Template names the profile to apply; empty: the profile matching the
	// sender, if any.
	Template string
	// Threshold overrides the confidence threshold (0: the profile's or
	// ncapture.DefaultThreshold).
	Threshold float64
	// Now is the reference date for documents without a fax header date.
	Now time.Time
}

// Report is what a capture did.
type Report struct {
	ncapture.Report
	Pages   []ocr.PageResult // per OCR'd page; empty for a text layer and text inputs
	Elapsed time.Duration
}

// Recognizer reads a PDF into words with boxes: *ocr.Runner, or a Cache.
type Recognizer interface {
	Recognize(ctx context.Context, pdf []byte) (*ocr.Recognition, error)
}

// ImageRecognizer reads fax pages sent as images (TIFF, PNG):
// *ocr.Runner.
type ImageRecognizer interface {
	RecognizeImage(ctx context.Context, img []byte) (*ocr.Recognition, error)
}

// Capturer captures documents. It is safe for concurrent use.
type Capturer struct {
	rec      Recognizer
	md       ncapture.MasterData
	profiles *ncapture.Profiles
	log      *slog.Logger
}

// Config configures a Capturer.
type Config struct {
	Recognizer Recognizer          // required for PDFs
	MasterData ncapture.MasterData // nil: no matching (nothing goes touchless from OCR)
	Profiles   *ncapture.Profiles  // nil: none
	Logger     *slog.Logger        // discarded when nil
}

// New returns a Capturer.
func New(cfg Config) *Capturer {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Capturer{rec: cfg.Recognizer, md: cfg.MasterData, profiles: cfg.Profiles, log: cfg.Logger}
}

// ErrNoTemplate means Options.Template names no profile.
var ErrNoTemplate = errors.New("no such template")

// Capture turns the input into a draft order (see the package
// documentation).
func (c *Capturer) Capture(ctx context.Context, in Input, opts Options) (*order.Order, *Report, error) {
	start := time.Now()
	rep := &Report{}
	var prof *ncapture.Profile
	if opts.Template != "" {
		p, ok := c.profiles.ByName(opts.Template)
		if !ok {
			return nil, nil, fmt.Errorf("capturing %s: %w: %q", in.Name, ErrNoTemplate, opts.Template)
		}
		prof = p
	} else if p, ok := c.profiles.ForSender(in.Sender); ok {
		prof = p
	}
	var doc *ncapture.Document
	channel, standard := order.ChannelEmail, "EMAIL"
	switch in.Kind {
	case InputPDF, InputImage:
		if c.rec == nil {
			return nil, nil, fmt.Errorf("capturing %s: no recognizer for PDFs", in.Name)
		}
		var r *ocr.Recognition
		var err error
		if in.Kind == InputImage {
			ir, ok := c.rec.(ImageRecognizer)
			if !ok {
				return nil, nil, fmt.Errorf("capturing %s: no recognizer for images", in.Name)
			}
			r, err = ir.RecognizeImage(ctx, in.Bytes)
		} else {
			r, err = c.rec.Recognize(ctx, in.Bytes)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("capturing %s: %w", in.Name, err)
		}
		doc, rep.Pages = r.Doc, r.Pages
		standard = "PDF"
		if in.Kind == InputImage {
			standard = "IMAGE"
		}
		if in.Sender.Fax == "" {
			// A fax without a sender (a file): the number of its fax
			// header line is the sender, for the profile and the customer.
			in.Sender.Fax = ncapture.FaxHeaderNumber(doc)
			if p, ok := c.profiles.ForSender(in.Sender); ok && prof == nil && opts.Template == "" && in.Sender.Fax != "" {
				prof = p
			}
		}
		if doc.Kind == ncapture.KindOCR {
			channel = order.ChannelFax
		}
	case InputText:
		if !utf8.Valid(in.Bytes) {
			return nil, nil, fmt.Errorf("capturing %s: the text is not UTF-8", in.Name)
		}
		doc = ncapture.FromText(string(in.Bytes))
	case InputCSV:
		rows, err := ReadCSV(in.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("capturing %s: %w", in.Name, err)
		}
		doc = ncapture.FromRows(rows)
	case InputRows:
		doc = ncapture.FromRows(in.Rows)
	default:
		return nil, nil, fmt.Errorf("capturing %s: unknown input kind %q", in.Name, in.Kind)
	}
	o, r, err := ncapture.Extract(ctx, doc, ncapture.Options{Threshold: opts.Threshold, Profile: prof, Sender: in.Sender,
		MasterData: c.md, Channel: channel, Standard: standard, Now: opts.Now})
	if errors.Is(err, ncapture.ErrNoOrder) && (in.Kind == InputPDF || in.Kind == InputImage) {
		// A fax or PDF that came as an order but in which nothing was
		// recognised: an empty draft for a human, with the document.
		o, r, err = emptyDraft(channel, standard), &ncapture.Report{Kind: doc.Kind, Threshold: opts.Threshold,
			Fields: []ncapture.FieldReport{{Path: "lines", Reason: "no PO number and no order line recognised"}}}, nil
		if prof != nil {
			r.Profile = prof.Name
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("capturing %s: %w", in.Name, err)
	}
	o.Source.File, o.Source.MessageID = in.Name, in.MessageID
	rep.Report = *r
	rep.Elapsed = time.Since(start)
	c.log.Info("captured", "kind", in.Kind, "doc_kind", doc.Kind, "profile", r.Profile, "lines", len(o.Lines),
		"touchless", r.Touchless, "low_fields", len(r.Low()), "elapsed", rep.Elapsed)
	return o, rep, nil
}

// ReadCSV reads a CSV order export, sniffing the delimiter (semicolon,
// comma or tab) from the first lines; rows may have any number of fields.
func ReadCSV(b []byte) ([][]string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("reading CSV: not UTF-8")
	}
	head := b[:min(len(b), 2048)]
	delim := ','
	best := bytes.Count(head, []byte(","))
	if n := bytes.Count(head, []byte(";")); n > best {
		delim, best = ';', n
	}
	if n := bytes.Count(head, []byte("\t")); n > best {
		delim = '\t'
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading CSV: %w", err)
	}
	return rows, nil
}

func emptyDraft(ch order.Channel, standard string) *order.Order {
	return &order.Order{Channel: ch, Source: order.Source{Standard: standard}, Purpose: order.PurposeOriginal, Lines: []order.Line{},
		Status: order.StatusReview, Confidence: map[string]float64{"po_number": 0, "lines": 0}, Boxes: map[string]order.Box{}}
}
