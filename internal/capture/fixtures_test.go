package capture

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/capture/faxgen"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/ocr"
	"github.com/ordergate/ordergate/internal/store"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
	"github.com/ordergate/ordergate/normalize/mail"
	"github.com/ordergate/ordergate/normalize/order"
)

// -ocr regenerates the fixture set, runs the real OCR on it (filling the
// cache in testdata/capture/ocr) and writes the manifest; without it the
// tests run on the cached OCR output.
var runOCR = flag.Bool("ocr", false, "run real OCR on the fixture set and refresh the cache")

const (
	testdata    = "../../testdata"
	ocrCacheDir = testdata + "/capture/ocr"
	manifestF   = testdata + "/capture/fixtures.json"
	fixtureSeed = 5 // seeds 1..fixtureSeed per layout
)

var partners = map[string]string{"C-1000": "demo-x12", "C-1001": "baumarkt-nord", "C-2000": "demo-edifact", "C-3000": "werkzeug-sued"}

func openDemoStore(t testing.TB) *store.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	ctx := context.Background()
	for _, k := range masterdata.Kinds {
		rep, err := masterdata.ImportFile(ctx, st, k, filepath.Join(testdata, "masterdata", string(k)+".csv"))
		if err != nil || !rep.OK() {
			t.Fatalf("importing demo %s: %v %s", k, err, rep.String())
		}
	}
	rep, err := masterdata.ImportFile(ctx, st, masterdata.Xrefs, filepath.Join(testdata, "capture", "masterdata", "xrefs.csv"))
	if err != nil || !rep.OK() {
		t.Fatalf("importing capture xrefs: %v %s", err, rep.String())
	}
	return st
}

func loadProfiles(t testing.TB) *ncapture.Profiles {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, "capture", "profiles.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := ncapture.ParseProfiles(f)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func newCapturer(t testing.TB, rec Recognizer) *Capturer {
	st := openDemoStore(t)
	md := NewStoreMasterData(st, StoreOptions{PartnerOf: func(c string) string { return partners[c] }})
	return New(Config{Recognizer: rec, MasterData: md, Profiles: loadProfiles(t)})
}

// truthOrder is a fixture's truth as a canonical order.
func truthOrder(t faxgen.Truth) *order.Order {
	total := decimal.MustParse(t.Total)
	o := &order.Order{PONumber: t.PONumber, CustomerID: t.CustomerID, Currency: t.Currency, Totals: &order.Totals{Amount: &total}}
	o.PODate, _ = order.ParseDate(t.PODate)
	if t.Delivery != "" {
		o.RequestedDelivery, _ = order.ParseDate(t.Delivery)
	}
	for i, l := range t.Lines {
		p := decimal.MustParse(l.UnitPrice)
		o.Lines = append(o.Lines, order.Line{LineNo: fmt.Sprint(i + 1), SKU: l.SKU, Quantity: decimal.MustParse(l.Quantity), Unit: l.Unit, UnitPrice: &p})
	}
	return o
}

// fixture is one document of the set.
type fixture struct {
	Name   string `json:"name"`
	Layout string `json:"layout"`
	Seed   uint64 `json:"seed"`
	Form   string `json:"form"` // fine | standard | text-pdf | email | csv
	SHA256 string `json:"sha256,omitempty"`
}

var forms = []string{"fine", "standard", "text-pdf", "email", "csv", "xlsx"}

func fixtureSet() []fixture {
	var out []fixture
	for _, l := range faxgen.Layouts() {
		for seed := uint64(1); seed <= fixtureSeed; seed++ {
			for _, f := range forms {
				out = append(out, fixture{Name: fmt.Sprintf("%s-%d-%s", l, seed, f), Layout: l, Seed: seed, Form: f})
			}
		}
	}
	return out
}

func (f fixture) pdf(d *faxgen.Doc) ([]byte, error) {
	switch f.Form {
	case "fine":
		return d.Fax(faxgen.Fine)
	case "standard":
		return d.Fax(faxgen.Standard)
	case "text-pdf":
		return d.TextPDF()
	}
	return nil, nil
}

func (f fixture) isPDF() bool {
	return f.Form == "fine" || f.Form == "standard" || f.Form == "text-pdf"
}

func readManifest(t testing.TB) map[string]fixture {
	b, err := os.ReadFile(manifestF)
	if err != nil {
		t.Fatalf("reading the fixture manifest (run go test -run TestFixtureAccuracy -ocr to make it): %v", err)
	}
	var fs []fixture
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	m := map[string]fixture{}
	for _, f := range fs {
		m[f.Name] = f
	}
	return m
}

// result is one fixture's capture.
type result struct {
	f   fixture
	out Outcome
	o   *order.Order
	rep *Report
	err error
}

// TestFixtureAccuracy runs capture over the whole fixture set on cached
// OCR output and checks the accuracy bars. With -ocr it first renders the
// set and runs the real OCR (one worker per core), refreshing the cache
// and the manifest, and prints the benchmark tables for docs.
func TestFixtureAccuracy(t *testing.T) {
	ctx := context.Background()
	set := fixtureSet()
	cache := &Cache{Dir: ocrCacheDir}
	if *runOCR {
		refreshOCR(t, set)
	}
	manifest := readManifest(t)
	c := newCapturer(t, cache)
	var results []result
	for _, f := range set {
		d, err := faxgen.New(f.Layout, f.Seed)
		if err != nil {
			t.Fatal(err)
		}
		in := Input{Name: f.Name}
		var r result
		r.f = f
		switch f.Form {
		case "email":
			in.Kind, in.Bytes, in.Sender = InputText, []byte(d.Email()), ncapture.Sender{Email: d.Truth.SenderEmail}
		case "csv":
			in.Kind, in.Bytes, in.Sender = InputCSV, d.CSV(), ncapture.Sender{Email: d.Truth.SenderEmail}
		case "xlsx":
			x, err := d.XLSX()
			if err != nil {
				t.Fatal(err)
			}
			tables, err := mail.ReadXLSX(f.Name+".xlsx", x, mail.Rules{})
			if err != nil || len(tables) != 1 {
				t.Fatalf("%s: %d tables, %v", f.Name, len(tables), err)
			}
			in.Kind, in.Rows, in.Sender = InputRows, tables[0].Rows, ncapture.Sender{Email: d.Truth.SenderEmail}
		default:
			m, ok := manifest[f.Name]
			if !ok || m.SHA256 == "" {
				t.Fatalf("%s: not in the manifest; run with -ocr", f.Name)
			}
			in.Kind, in.Sender = InputPDF, ncapture.Sender{Fax: d.Truth.SenderFax}
			if f.Form == "text-pdf" {
				in.Sender = ncapture.Sender{Email: d.Truth.SenderEmail}
			}
			c.rec = keyed{cache, m.SHA256}
		}
		o, rep, err := c.Capture(ctx, in, Options{Now: d.Truth.FaxTime})
		r.o, r.rep, r.err = o, rep, err
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		r.out = Compare(o, truthOrder(d.Truth))
		results = append(results, r)
		if f.Form == "email" {
			// The remark of the body, and nothing else, is the order's note.
			var want []string
			if rm := d.Remark(); rm != "" {
				want = []string{rm}
			}
			if !slices.Equal(o.Notes, want) {
				t.Errorf("%s: notes %q, want %q", f.Name, o.Notes, want)
			}
		}
	}
	tallies := map[string]*Tally{}
	add := func(k string, o Outcome) {
		if tallies[k] == nil {
			tallies[k] = &Tally{}
		}
		tallies[k].Add(o)
	}
	for _, r := range results {
		add(r.f.Form, r.out)
		add(r.f.Form+"|"+r.f.Layout, r.out)
		if r.out.Touchless {
			if err := r.o.Validate(); err != nil {
				t.Errorf("%s went touchless but does not validate: %v", r.f.Name, err)
			}
		}
		for path := range r.o.Confidence {
			// Every field read from the page has its box, on every form:
			// the reviewer sees where it was read (a field confirmed
			// without being read, such as a unit from the item master,
			// points at its line).
			if _, ok := r.o.Boxes[path]; !ok && r.o.Confidence[path] >= r.rep.Threshold {
				t.Errorf("%s: %s has a confidence of %.2f but no box", r.f.Name, path, r.o.Confidence[path])
			}
		}
		if r.out.Touchless && len(r.out.Wrong) > 0 {
			t.Errorf("%s went touchless with wrong fields %v", r.f.Name, r.out.Wrong)
			logLow(t, r)
		}
		if testing.Verbose() && (len(r.out.Wrong) > 0 || !r.out.Touchless) {
			logLow(t, r)
		}
	}
	if *runOCR || testing.Verbose() {
		printTables(t, tallies)
	}
	bars := []struct {
		form          string
		header, lines float64
		fields        float64
	}{
		{"text-pdf", 0, 0, 0.99}, {"email", 0, 0, 0.99}, {"csv", 0, 0, 0.99}, {"xlsx", 0, 0, 0.99},
		{"fine", 0.90, 0.85, 0}, {"standard", 0.75, 0.65, 0},
	}
	for _, b := range bars {
		tl := tallies[b.form]
		if tl == nil {
			t.Errorf("%s: no results", b.form)
			continue
		}
		if tl.HeaderAccuracy() < b.header || tl.LineAccuracy() < b.lines || tl.FieldAccuracy() < b.fields {
			t.Errorf("%s: header %.1f%% (bar %.0f%%), lines %.1f%% (bar %.0f%%), fields %.1f%% (bar %.0f%%)", b.form,
				100*tl.HeaderAccuracy(), 100*b.header, 100*tl.LineAccuracy(), 100*b.lines, 100*tl.FieldAccuracy(), 100*b.fields)
		}
		if tl.AutoErrorRate() > 0.005 {
			t.Errorf("%s: %.2f%% of auto-accepted fields wrong, bar 0.5%%", b.form, 100*tl.AutoErrorRate())
		}
	}
}

func logLow(t *testing.T, r result) {
	t.Logf("%s: wrong %v touchless %v", r.f.Name, r.out.Wrong, r.out.Touchless)
	for _, f := range r.rep.Fields {
		wrong := slices.Contains(r.out.Wrong, f.Path)
		if wrong || f.Confidence < r.rep.Threshold {
			t.Logf("    %-22s read %-24q value %-14q conf %.2f wrong=%v %s", f.Path, f.Read, f.Value, f.Confidence, wrong, f.Reason)
		}
	}
}

// keyed recognises through the cache by a known key, without the PDF.
type keyed struct {
	c   *Cache
	key string
}

func (k keyed) Recognize(context.Context, []byte) (*ocr.Recognition, error) { return k.c.Lookup(k.key) }

func printTables(t *testing.T, tallies map[string]*Tally) {
	var b strings.Builder
	b.WriteString("| form | layout | docs | header fields | whole lines | all fields | touchless | touchless with an error | auto-accepted fields wrong |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, form := range forms {
		for _, k := range SortedKeys(tallies) {
			if strings.HasPrefix(k, form+"|") {
				b.WriteString(tallies[k].Row(form, strings.TrimPrefix(k, form+"|")) + "\n")
			}
		}
		if tl := tallies[form]; tl != nil {
			b.WriteString(tl.Row("**"+form+"**", "**all**") + "\n")
		}
	}
	t.Log("\n" + b.String())
}

// refreshOCR renders every PDF of the set, runs the real OCR with one
// worker per core through the cache and writes the manifest.
func refreshOCR(t *testing.T, set []fixture) {
	ctx := context.Background()
	cache := &Cache{Dir: ocrCacheDir, Next: ocr.New(ocr.Options{})}
	var mu sync.Mutex
	var pageTimes = map[string][]time.Duration{}
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f := &set[i]
				if !f.isPDF() {
					continue
				}
				d, err := faxgen.New(f.Layout, f.Seed)
				if err != nil {
					t.Error(err)
					continue
				}
				pdf, err := f.pdf(d)
				if err != nil {
					t.Error(err)
					continue
				}
				f.SHA256 = Key(pdf)
				start := time.Now()
				if _, err := cache.Recognize(ctx, pdf); err != nil {
					t.Errorf("%s: %v", f.Name, err)
					continue
				}
				mu.Lock()
				pageTimes[f.Form] = append(pageTimes[f.Form], time.Since(start))
				mu.Unlock()
			}
		}()
	}
	for i := range set {
		work <- i
	}
	close(work)
	wg.Wait()
	var pdfs []fixture
	for _, f := range set {
		if f.isPDF() {
			pdfs = append(pdfs, f)
		}
	}
	b, _ := json.MarshalIndent(pdfs, "", " ")
	if err := os.WriteFile(manifestF, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	for form, ts := range pageTimes {
		var sum time.Duration
		for _, d := range ts {
			sum += d
		}
		t.Logf("%s: %d documents, %.2f s per page on average (cache misses only)", form, len(ts), sum.Seconds()/float64(len(ts)))
	}
}

func decimalOne() decimal.Decimal { return decimal.One }

// TestFixturesMatchTheManifest renders a few fixtures and checks that the
// bytes are those whose OCR output is cached: the generator is
// deterministic across runs and machines, and the cache belongs to it.
func TestFixturesMatchTheManifest(t *testing.T) {
	manifest := readManifest(t)
	for _, name := range []string{"de-classic-1-fine", "en-gtin-2-standard", "de-serif-parts-3-text-pdf"} {
		f, ok := manifest[name]
		if !ok {
			t.Fatalf("%s not in the manifest", name)
		}
		d, err := faxgen.New(f.Layout, f.Seed)
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := f.pdf(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := Key(pdf); got != f.SHA256 {
			t.Errorf("%s: sha256 %s, the manifest has %s (run go test -run TestFixtureAccuracy -ocr)", name, got, f.SHA256)
		}
		if _, err := (&Cache{Dir: ocrCacheDir}).Lookup(f.SHA256); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
