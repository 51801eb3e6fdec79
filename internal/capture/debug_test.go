package capture

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ordergate/ordergate/internal/capture/faxgen"
	"github.com/ordergate/ordergate/internal/ocr"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
)

func TestDebugForms(t *testing.T) {
	form := os.Getenv("DBG_FORM")
	if form == "" {
		t.Skip()
	}
	c := newCapturer(t, &Cache{Dir: "/tmp/ocrcache", Next: ocr.New(ocr.Options{})})
	for _, l := range faxgen.Layouts() {
		for seed := uint64(1); seed <= 2; seed++ {
			d, _ := faxgen.New(l, seed)
			f := fixture{Name: d.Name() + "-" + form, Layout: l, Seed: seed, Form: form}
			in := Input{Name: f.Name, Sender: ncapture.Sender{Email: d.Truth.SenderEmail}}
			switch form {
			case "email":
				in.Kind, in.Bytes = InputText, []byte(d.Email())
			case "csv":
				in.Kind, in.Bytes = InputCSV, d.CSV()
			default:
				in.Kind = InputPDF
				in.Bytes, _ = f.pdf(d)
			}
			o, rep, err := c.Capture(context.Background(), in, Options{Now: d.Truth.FaxTime})
			if err != nil {
				t.Errorf("%s: %v", f.Name, err)
				continue
			}
			out := Compare(o, truthOrder(d.Truth))
			logLow(t, result{f: f, out: out, o: o, rep: rep})
		}
	}
}

func TestDebugText(t *testing.T) {
	name := os.Getenv("DBG_DOC")
	if name == "" {
		t.Skip()
	}
	var layout string
	var seed uint64
	var form string
	for _, l := range faxgen.Layouts() {
		if len(name) > len(l) && name[:len(l)] == l {
			layout = l
			_, err := fmt.Sscanf(name[len(l):], "-%d-%s", &seed, &form)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	d, _ := faxgen.New(layout, seed)
	pdf, _ := fixture{Form: form}.pdf(d)
	c := &Cache{Dir: ocrCacheDir}
	if os.Getenv("DBG_FRESH") != "" {
		c = &Cache{Dir: t.TempDir(), Next: ocr.New(ocr.Options{})}
	}
	rec, err := c.Recognize(context.Background(), pdf)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(rec.Doc.Text())
}
