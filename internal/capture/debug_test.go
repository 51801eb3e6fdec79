package capture

import (
	"context"
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
	c := newCapturer(t, ocr.New(ocr.Options{}))
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
