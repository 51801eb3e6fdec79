package normalize

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/normalize/order"
)

var renderTime = time.Date(2026, 11, 27, 12, 30, 0, 0, time.UTC)

func testX12Envelope() X12Envelope {
	return X12Envelope{SenderQualifier: "ZZ", SenderID: "TOOLSUPPLY", ReceiverQualifier: "ZZ", ReceiverID: "WMSNORD",
		InterchangeControl: 4711, GroupControl: 4711, SetControl: 1, Time: renderTime}
}

func testEDIFACTEnvelope() EDIFACTEnvelope {
	return EDIFACTEnvelope{SenderID: "4000000000002", SenderQualifier: "14", ReceiverID: "4012345000009", ReceiverQualifier: "14",
		InterchangeControl: "4711", MessageControl: 1, SyntaxID: "UNOW", SyntaxVersion: "3", Time: renderTime}
}

// comparable is o's JSON without provenance and source.
func comparableJSON(t *testing.T, o *order.Order) string {
	t.Helper()
	c := *o
	c.Provenance = nil
	c.Source = order.Source{}
	b, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// corpusFiles returns the files under the corpus's */<standard> folders,
// expected outputs left out.
func corpusFiles(t *testing.T, standard string) []string {
	t.Helper()
	dir := corpusDir(t)
	roots, _ := filepath.Glob(filepath.Join(dir, "*", standard))
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "expected") {
				return filepath.SkipDir
			}
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return err
		})
	}
	return files
}

// sourceOrder is an order mapped from a message, and whether the message
// passed the syntax checks.
type sourceOrder struct {
	o        *order.Order
	accepted bool
}

// x12Orders maps every 850 of data that maps; decoding stops at the first
// error of the input.
func x12Orders(data []byte, file string) []sourceOrder {
	d := x12.NewDecoder(bytes.NewReader(data))
	var out []sourceOrder
	for {
		tx, err := d.Next()
		if err != nil {
			return out
		}
		if tx.Type != "850" {
			continue
		}
		if o, err := FromX12850(&tx.Message, file); err == nil {
			out = append(out, sourceOrder{o, tx.Accepted})
		}
	}
}

// reparseX12 decodes a rendered interchange, which must hold one valid
// 850, and maps it.
func reparseX12(t *testing.T, data []byte, wantAccepted bool) *order.Order {
	t.Helper()
	txs := decode850s(t, data)
	if len(txs) != 1 {
		t.Fatalf("rendered %d 850s, want 1:\n%s", len(txs), data)
	}
	if wantAccepted && !txs[0].Accepted {
		t.Errorf("the rendered 850 is not accepted: %v\n%s", txs[0].Errors, data)
	}
	o, err := FromX12850(&txs[0].Message, "")
	if err != nil {
		t.Fatalf("mapping the rendered 850: %v\n%s", err, data)
	}
	return o
}

func reparseEDIFACT(t *testing.T, data []byte, wantAccepted bool) *order.Order {
	t.Helper()
	ms := edifactMessages(t, data)
	if len(ms) != 1 {
		t.Fatalf("rendered %d messages, want 1:\n%s", len(ms), data)
	}
	if wantAccepted && !ms[0].Accepted {
		t.Errorf("the rendered ORDERS is not accepted: %v\n%s", ms[0].Errors, data)
	}
	o, err := FromEDIFACTOrders(&ms[0].Message, "")
	if err != nil {
		t.Fatalf("mapping the rendered ORDERS: %v\n%s", err, data)
	}
	return o
}

func TestRenderX12850RoundTrip(t *testing.T) {
	type input struct {
		name   string
		orders []sourceOrder
	}
	inputs := []input{
		{"crafted", x12Orders([]byte(crafted850), "crafted")},
		{"fixtures", x12Orders(fixtures.X12850(17, "4500099999", 25), "fixtures")},
	}
	dir := corpusDir(t)
	for _, f := range corpusFiles(t, "x12") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		if os := x12Orders(data, rel); len(os) > 0 {
			inputs = append(inputs, input{filepath.ToSlash(rel), os})
		}
	}
	total := 0
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			for i, so := range in.orders {
				o := so.o
				env := testX12Envelope()
				env.SetControl = int64(i + 1)
				data, err := RenderX12850(o, env)
				if err != nil {
					t.Errorf("order %d (PO %s): %v", i, o.PONumber, err)
					continue
				}
				got := reparseX12(t, data, so.accepted)
				if g, w := comparableJSON(t, got), comparableJSON(t, o); g != w {
					t.Errorf("order %d (PO %s) differs after the round trip:\n got %s\nwant %s\nrendered:\n%s", i, o.PONumber, g, w, data)
				}
				total++
			}
		})
	}
	if total < 30 {
		t.Errorf("%d orders went round, want at least 30", total)
	}
	t.Logf("%d orders from %d inputs went round", total, len(inputs))
}

func TestRenderEDIFACTOrdersRoundTrip(t *testing.T) {
	type input struct {
		name   string
		orders []sourceOrder
	}
	mapAll := func(t *testing.T, data []byte, file string) []sourceOrder {
		var out []sourceOrder
		for _, m := range edifactMessages(t, data) {
			if m.Type != "ORDERS" {
				continue
			}
			if o, err := FromEDIFACTOrders(&m.Message, file); err == nil {
				out = append(out, sourceOrder{o, m.Accepted})
			}
		}
		return out
	}
	inputs := []input{{"fixtures", mapAll(t, fixtures.EDIFACTOrders(17, "4500099999", 25), "fixtures")}}
	dir := corpusDir(t)
	for _, f := range corpusFiles(t, "edifact") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		if os := mapAll(t, data, rel); len(os) > 0 {
			inputs = append(inputs, input{filepath.ToSlash(rel), os})
		}
	}
	total := 0
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			for i, so := range in.orders {
				o := so.o
				env := testEDIFACTEnvelope()
				env.MessageControl = int64(i + 1)
				data, err := RenderEDIFACTOrders(o, env)
				if err != nil {
					t.Errorf("order %d (PO %s): %v", i, o.PONumber, err)
					continue
				}
				got := reparseEDIFACT(t, data, so.accepted)
				if g, w := comparableJSON(t, got), comparableJSON(t, o); g != w {
					t.Errorf("order %d (PO %s) differs after the round trip:\n got %s\nwant %s\nrendered:\n%s", i, o.PONumber, g, w, data)
				}
				total++
			}
		})
	}
	if total < 15 {
		t.Errorf("%d orders went round, want at least 15", total)
	}
	t.Logf("%d orders from %d inputs went round", total, len(inputs))
}
