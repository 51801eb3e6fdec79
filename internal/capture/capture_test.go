package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/capture/faxgen"
	"github.com/ordergate/ordergate/internal/ocr"
	"github.com/ordergate/ordergate/internal/store"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
	"github.com/ordergate/ordergate/normalize/mail"
	"github.com/ordergate/ordergate/normalize/order"
)

func haveOCR(t testing.TB) {
	for _, tool := range []string{"prlimit", "pdfinfo", "pdftotext", "pdftoppm", "pdfimages", "tesseract"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// TestRealOCR runs the whole chain on a few pages: render, rasterise,
// clean, tesseract, extract, match. The accuracy bars are measured on the
// whole set from cache (TestFixtureAccuracy).
func TestRealOCR(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tesseract")
	}
	haveOCR(t)
	c := newCapturer(t, ocr.New(ocr.Options{}))
	for _, tt := range []struct {
		layout string
		res    faxgen.Resolution
	}{{"de-classic", faxgen.Fine}, {"en-gtin", faxgen.Standard}} {
		d, err := faxgen.New(tt.layout, 42)
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := d.Fax(tt.res)
		if err != nil {
			t.Fatal(err)
		}
		o, rep, err := c.Capture(context.Background(), Input{Kind: InputPDF, Bytes: pdf, Name: d.Name(), Sender: ncapture.Sender{Fax: d.Truth.SenderFax}},
			Options{Now: d.Truth.FaxTime})
		if err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		if o.Channel != order.ChannelFax || len(rep.Pages) != 1 || rep.Pages[0].Mode != string(tt.res) {
			t.Errorf("%s: channel %s, pages %+v", d.Name(), o.Channel, rep.Pages)
		}
		out := Compare(o, truthOrder(d.Truth))
		if !out.Header["customer_id"] || out.LinesRight == 0 {
			t.Errorf("%s: wrong %v", d.Name(), out.Wrong)
		}
		if out.Touchless && len(out.Wrong) > 0 {
			t.Errorf("%s went touchless with wrong fields %v", d.Name(), out.Wrong)
		}
	}
}

func TestTextPDFAndBrokenPDF(t *testing.T) {
	haveOCR(t)
	c := newCapturer(t, ocr.New(ocr.Options{}))
	d, _ := faxgen.New("de-classic", 3)
	pdf, err := d.TextPDF()
	if err != nil {
		t.Fatal(err)
	}
	o, rep, err := c.Capture(context.Background(), Input{Kind: InputPDF, Bytes: pdf, Name: "order.pdf"}, Options{Now: d.Truth.FaxTime})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != ncapture.KindTextLayer || o.Source.Standard != "PDF" || !rep.Touchless {
		t.Errorf("kind %s, touchless %v, low %+v", rep.Kind, rep.Touchless, rep.Low())
	}
	if out := Compare(o, truthOrder(d.Truth)); len(out.Wrong) > 0 {
		t.Errorf("wrong fields %v", out.Wrong)
	}
	_, _, err = c.Capture(context.Background(), Input{Kind: InputPDF, Bytes: pdf[:len(pdf)/3], Name: "broken.pdf"}, Options{})
	if !errors.Is(err, ocr.ErrUnreadable) {
		t.Errorf("a truncated PDF: err = %v, want ErrUnreadable", err)
	}
}

func TestTemplateOption(t *testing.T) {
	c := newCapturer(t, nil)
	d, _ := faxgen.New("en-gtin", 4)
	body := []byte(d.Email())
	if _, _, err := c.Capture(context.Background(), Input{Kind: InputText, Bytes: body}, Options{Template: "nope"}); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("unknown template: err = %v", err)
	}
	_, rep, err := c.Capture(context.Background(), Input{Kind: InputText, Bytes: body}, Options{Template: "demo-edifact", Now: d.Truth.FaxTime})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Profile != "demo-edifact" {
		t.Errorf("profile %q", rep.Profile)
	}
	_, rep, err = c.Capture(context.Background(), Input{Kind: InputText, Bytes: body, Sender: ncapture.Sender{Email: "inkoop@demo-edifact.example.com"}}, Options{Now: d.Truth.FaxTime})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Profile != "demo-edifact" {
		t.Errorf("profile by sender %q", rep.Profile)
	}
}

func TestStoreMasterData(t *testing.T) {
	ctx := context.Background()
	st := openDemoStore(t)
	md := NewStoreMasterData(st, StoreOptions{PartnerOf: func(c string) string { return partners[c] }})
	for _, phone := range []string{"+49 40 1234560", "0049 40 1234560", "040 1234560", "040/123 45 60"} {
		cs, err := md.CustomersByPhone(ctx, phone)
		if err != nil || len(cs) != 1 || cs[0].Number != "C-1001" {
			t.Errorf("phone %q: %+v %v", phone, cs, err)
		}
	}
	if cs, _ := md.CustomersByPhone(ctx, "040 123"); len(cs) != 0 {
		t.Errorf("a short number matched %+v", cs)
	}
	if cs, _ := md.CustomersByEmail(ctx, "someone@baumarkt-nord.de"); len(cs) != 1 || cs[0].Number != "C-1001" {
		t.Errorf("by domain: %+v", cs)
	}
	if cs, _ := md.CustomersByName(ctx, "baumarkt  nord gmbh"); len(cs) != 1 || cs[0].Number != "C-1001" {
		t.Errorf("by name: %+v", cs)
	}
	if cs, _ := md.CustomersByName(ctx, "Baumarkt"); len(cs) != 0 {
		t.Errorf("a name prefix matched: %+v", cs)
	}
	if it, ok, _ := md.ItemByPartNumber(ctx, "C-3000", "WS-33100"); !ok || it.SKU != "SCR-100" {
		t.Errorf("part number: %+v %v", it, ok)
	}
	if _, ok, _ := md.ItemByPartNumber(ctx, "C-1001", "WS-33100"); ok {
		t.Error("another partner's part number matched")
	}
	if it, ok, _ := md.ItemByGTIN(ctx, "4012345000023"); !ok || it.SKU != "HAM-200" {
		t.Errorf("gtin: %+v %v", it, ok)
	}
	cs, err := md.FindItems(ctx, "SCR-1OO", 2)
	if err != nil || len(cs) == 0 || cs[0].Item.SKU != "SCR-100" {
		t.Errorf("fuzzy sku: %+v %v", cs, err)
	}
	cs, _ = md.FindItems(ctx, "Claw hamer 500 g", 2)
	if len(cs) == 0 || cs[0].Item.SKU != "HAM-200" {
		t.Errorf("fuzzy description: %+v", cs)
	}
	d, _ := order.ParseDate("2026-06-01")
	p, ok, err := md.PriceFor(ctx, "C-1001", "HAM-200", decimalOne(), d)
	if err != nil || !ok || p.Amount.String() != "12.50" {
		t.Errorf("price: %+v %v %v", p, ok, err)
	}
	if _, ok, _ := md.CustomerByNumber(ctx, "C-9999"); ok {
		t.Error("a missing customer was found")
	}
}

func TestReadCSV(t *testing.T) {
	for _, tt := range []struct {
		in   string
		cols int
	}{{"a;b;c\n1;2;3\n", 3}, {"a,b\n1,2\n", 2}, {"a\tb\tc\td\n", 4}, {"\xef\xbb\xbfa;b\n", 2}} {
		rows, err := ReadCSV([]byte(tt.in))
		if err != nil || len(rows[0]) != tt.cols {
			t.Errorf("%q: %v %v", tt.in, rows, err)
		}
	}
	if _, err := ReadCSV([]byte("a,\xff")); err == nil {
		t.Error("invalid UTF-8 passed")
	}
}

// BenchmarkFaxPage measures seconds per fax page, OCR included, with one
// worker per core (b.RunParallel): ns/op is wall time per page divided by
// the workers.
func BenchmarkFaxPage(b *testing.B) {
	haveOCR(b)
	for _, res := range []faxgen.Resolution{faxgen.Fine, faxgen.Standard} {
		b.Run(string(res), func(b *testing.B) {
			var pdfs [][]byte
			for seed := range uint64(4) {
				d, _ := faxgen.New(faxgen.Layouts()[seed%6], 100+seed)
				pdf, err := d.Fax(res)
				if err != nil {
					b.Fatal(err)
				}
				pdfs = append(pdfs, pdf)
			}
			c := newCapturer(b, ocr.New(ocr.Options{}))
			b.SetParallelism(1) // GOMAXPROCS workers: one per core
			cpu0 := cpuSeconds()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, _, err := c.Capture(context.Background(), Input{Kind: InputPDF, Bytes: pdfs[i%len(pdfs)]}, Options{}); err != nil {
						b.Error(err)
					}
					i++
				}
			})
			b.StopTimer()
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/page")
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "workers")
		})
	}
}

// BenchmarkTextMail measures text orders per second as the gateway takes
// them from a mailbox: the raw mail's MIME parse and classification, the
// capture of its body (with master-data matching over SQLite) and the
// storing of its document row and draft order in one transaction.
func BenchmarkTextMail(b *testing.B) {
	c := newCapturer(b, nil)
	st := openDemoStore(b)
	var mails [][]byte
	rules := mail.Rules{Mode: "auto"}
	for i, l := range faxgen.Layouts() {
		d, _ := faxgen.New(l, uint64(200+i))
		rules.OrderSenders = append(rules.OrderSenders, d.Truth.SenderEmail)
		mails = append(mails, []byte(fmt.Sprintf("From: %s\r\nTo: orders@toolsupply.example\r\nSubject: Bestellung\r\nMessage-ID: <bench-%d@test>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s",
			d.Truth.SenderEmail, i, strings.ReplaceAll(d.Email(), "\n", "\r\n"))))
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			k := n.Add(1)
			raw := mails[int(k)%len(mails)]
			m, err := mail.Parse(raw, mail.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			cls := mail.Classify(m, rules)
			if cls.Kind != mail.KindEmailOrder {
				b.Fatalf("classified %s: %s", cls.Kind, cls.Reason)
			}
			o, _, err := c.Capture(ctx, Input{Kind: InputText, Bytes: []byte(cls.Text), Sender: ncapture.Sender{Email: m.From}, MessageID: m.MessageID}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if o.Status != order.StatusReview {
				o.Status = order.StatusReceived
			}
			h, size, err := st.Archive().Put(ctx, bytes.NewReader(raw))
			if err != nil {
				b.Fatal(err)
			}
			err = st.Write(ctx, func(tx *store.Tx) error {
				doc, _, err := tx.InsertDocument(ctx, store.DocumentInput{Channel: "mail", SourceKey: fmt.Sprint("bench-", k), SHA256: h,
					Size: size, Filename: "mail.eml", Standard: "EMAIL", ContentType: "message/rfc822"})
				if err != nil {
					return err
				}
				_, _, err = tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, Order: o})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuSeconds is the CPU time of this process and its finished children
// (the tools), user and system.
func cpuSeconds() float64 {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// TestFaxAsImage: faxes sent as images are read by OCR like PDF pages: a
// two-page standard-mode TIFF (both pages recognised, the 2:1 pixels
// squared) and a fine-mode PNG; an image declaring too many pixels is
// refused before it is decoded.
func TestFaxAsImage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tesseract")
	}
	haveOCR(t)
	c := newCapturer(t, ocr.New(ocr.Options{}))
	d, err := faxgen.New("de-classic", 42)
	if err != nil {
		t.Fatal(err)
	}
	png, err := d.FaxPNG(faxgen.Fine)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		img   []byte
		pages int
		mode  string
	}{{"fax.tif", d.FaxTIFF(faxgen.Standard, 2), 2, "standard"}, {"fax.png", png, 1, "fine"}} {
		t.Run(tt.name, func(t *testing.T) {
			kind, ok := KindForFile(tt.name)
			if !ok || kind != InputImage {
				t.Fatalf("KindForFile(%s) = %s, %v", tt.name, kind, ok)
			}
			o, rep, err := c.Capture(context.Background(), Input{Kind: kind, Bytes: tt.img, Name: tt.name, Sender: ncapture.Sender{Fax: d.Truth.SenderFax}},
				Options{Now: d.Truth.FaxTime})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Pages) != tt.pages {
				t.Fatalf("%d pages recognised, want %d", len(rep.Pages), tt.pages)
			}
			for _, p := range rep.Pages {
				if p.Mode != tt.mode || p.Width < 2300 || p.Width > 2700 || p.Height < 3200 || p.Height > 3800 {
					t.Errorf("page %+v: want mode %s at 300 dpi (about 2480 x 3508)", p, tt.mode)
				}
			}
			out := Compare(o, truthOrder(d.Truth))
			if o.Channel != order.ChannelFax || !out.Header["customer_id"] || out.LinesRight == 0 {
				t.Errorf("channel %s, wrong %v", o.Channel, out.Wrong)
			}
		})
	}
	bomb := []byte("II*\x00\x08\x00\x00\x00\x02\x00\x00\x01\x04\x00\x01\x00\x00\x00\x40\x9c\x00\x00\x01\x01\x04\x00\x01\x00\x00\x00\x40\x9c\x00\x00\x00\x00\x00\x00")
	if _, _, err := c.Capture(context.Background(), Input{Kind: InputImage, Bytes: bomb, Name: "bomb.tif"}, Options{}); !errors.Is(err, ocr.ErrLimit) {
		t.Errorf("a 40000 x 40000 TIFF: %v, want ErrLimit", err)
	}
}

// TestStoreMasterDataConcurrent: the pipeline's capture workers share one
// StoreMasterData; lookups from several goroutines, with the snapshot
// expiring all the time, give the same answers. scripts/test.sh runs this
// test under the race detector (the package's page tests run without).
func TestStoreMasterDataConcurrent(t *testing.T) {
	ctx := context.Background()
	st := openDemoStore(t)
	md := NewStoreMasterData(st, StoreOptions{SnapshotTTL: time.Nanosecond, PartnerOf: func(c string) string { return partners[c] }})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if cs, err := md.FindItems(ctx, "Claw hamer 500 g", 2); err != nil || len(cs) == 0 || cs[0].Item.SKU != "HAM-200" {
					errs <- fmt.Sprintf("fuzzy description: %+v %v", cs, err)
					return
				}
				if cs, err := md.CustomersByPhone(ctx, "040 1234560"); err != nil || len(cs) != 1 || cs[0].Number != "C-1001" {
					errs <- fmt.Sprintf("phone: %+v %v", cs, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
