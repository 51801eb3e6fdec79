package normalize

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize/order"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func corpusDir(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the shared EDI corpus is not at %s", dir)
	}
	return dir
}

// decode850s returns every 850 of an X12 input and whether each was
// accepted by the syntax checks.
func decode850s(t testing.TB, data []byte) []*x12.Transaction {
	t.Helper()
	d := x12.NewDecoder(bytes.NewReader(data))
	var out []*x12.Transaction
	for {
		tx, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		if tx.Type == "850" {
			out = append(out, tx)
		}
	}
}

// mapAccepted maps the accepted 850s of data.
func mapAccepted(t testing.TB, data []byte, file string) []*order.Order {
	t.Helper()
	var orders []*order.Order
	for _, tx := range decode850s(t, data) {
		if !tx.Accepted {
			continue
		}
		o, err := FromX12850(&tx.Message, file)
		if err != nil {
			t.Fatalf("mapping %s set %s: %v", file, tx.Envelope.MessageControl, err)
		}
		orders = append(orders, o)
	}
	return orders
}

// crafted850 is our own 850 with every mapped field.
const crafted850 = `ISA*00*          *00*          *ZZ*BAUMARKTNORD   *ZZ*TOOLSUPPLY     *261118*1230*U*00401*000004711*0*T*>~
GS*PO*BAUMARKTNORD*TOOLSUPPLY*20261118*1230*4711*X*004010~
ST*850*0001~
BEG*00*SA*4500012345**20261118~
CUR*BY*EUR~
REF*CT*K-2026-17~
PER*BD*Anna Meier*TE*040123456~
DTM*010*20261128~
DTM*002*20261201~
N9*L1**NOTE~
MSG*Please deliver to dock 3~
N1*ST*Baumarkt Nord Lager*92*ST-HH-01~
N2*Hamburg Hafen~
N3*Lagerstrasse 5*Tor 2~
N4*Hamburg*HH*20457*DE~
N1*BY*Baumarkt Nord GmbH*UL*4012345000009~
N1*VN*Tool Supply GmbH*91*V-100~
N1*RE*Tool Supply Finance*9*123456789~
PO1*1*24*EA*12.50*PE*BP*BN-4711*VP*SCR-100*UP*012345678905~
PID*F****Wood screws 4x40~
PID*F****box of 100~
DTM*002*20261203~
MSG*Fragile~
PO1*2*3*BX*7.5**SK*778899*MG*M-55*EN*4012345678901~
PID*F****Wall plugs 8mm~
DTM*010*20261205~
AMT*1*22.50~
PO1**1.5*LB*3**IN*I-1*SK*S-2*ZZ*OTHER~
CTT*3*28.5~
AMT*TT*322.50~
SE*29*0001~
GE*1*4711~
IEA*1*000004711~
`

func TestFromX12850Golden(t *testing.T) {
	type input struct {
		name string
		data func(t *testing.T) []byte
	}
	fromCorpus := func(rel string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			data, err := os.ReadFile(filepath.Join(corpusDir(t), rel))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	// Goldens only for inputs whose license allows keeping derived copies
	// (our own, MIT, Apache); the GPL Bots files are checked against
	// Bots' own expected XML in TestFromX12850Bots instead.
	inputs := []input{
		{"crafted", func(*testing.T) []byte { return []byte(crafted850) }},
		{"node-x12-850", fromCorpus("node-x12/x12/850.edi")},
		{"node-x12-850_2", fromCorpus("node-x12/x12/850_2.edi")},
		{"node-x12-850_3", fromCorpus("node-x12/x12/850_3.edi")},
		{"node-x12-850_fat", fromCorpus("node-x12/x12/850_fat.edi")},
		{"edi-net-x12.850", fromCorpus("edi-net/x12/x12.850.edi")},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			orders := mapAccepted(t, in.data(t), in.name)
			if len(orders) == 0 {
				t.Fatal("no accepted 850")
			}
			for _, o := range orders {
				if err := o.Validate(); err != nil && in.name == "crafted" {
					t.Errorf("the crafted order does not validate: %v", err)
				}
			}
			got, err := json.MarshalIndent(orders, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "x12", in.name+".json")
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
				t.Errorf("%s differs from the golden file; run with -update and review the diff\n got:\n%s", path, got)
			}
		})
	}
}

// TestFromX12850Fields pins the mapping decisions on the crafted order.
func TestFromX12850Fields(t *testing.T) {
	orders := mapAccepted(t, []byte(crafted850), "po.edi")
	if len(orders) != 1 {
		t.Fatalf("%d orders, want 1", len(orders))
	}
	o := orders[0]
	checks := []struct{ name, got, want string }{
		{"purpose", string(o.Purpose), "original"},
		{"po_number", o.PONumber, "4500012345"},
		{"po_date", o.PODate.String(), "2026-11-18"},
		{"currency", o.Currency, "EUR"},
		{"requested_delivery (002 wins over 010)", o.RequestedDelivery.String(), "2026-12-01"},
		{"notes", strings.Join(o.Notes, "|"), "Please deliver to dock 3"},
		{"reference", o.References[0].Qualifier + "=" + o.References[0].Value, "CT=K-2026-17"},
		{"ship_to", o.Parties[0].Role + " " + o.Parties[0].IDScheme + " " + o.Parties[0].ID + " " + o.Parties[0].Name, "ship_to buyer ST-HH-01 Baumarkt Nord Lager Hamburg Hafen"},
		{"ship_to address", strings.Join(o.Parties[0].Address.Lines, "|") + " " + o.Parties[0].Address.City + " " + o.Parties[0].Address.Region + " " + o.Parties[0].Address.PostalCode + " " + o.Parties[0].Address.Country, "Lagerstrasse 5|Tor 2 Hamburg HH 20457 DE"},
		{"buyer", o.Parties[1].Role + " " + o.Parties[1].IDScheme, "buyer GLN"},
		{"supplier", o.Parties[2].Role + " " + o.Parties[2].IDScheme, "supplier seller"},
		{"raw role", o.Parties[3].Role + " " + o.Parties[3].IDScheme, "RE DUNS"},
		{"line 1", o.Lines[0].LineNo + " " + o.Lines[0].Quantity.String() + " " + o.Lines[0].Unit + " " + o.Lines[0].UnitPrice.String() + " " + o.Lines[0].PriceBasis, "1 24 EA 12.50 PE"},
		{"line 1 ids", o.Lines[0].BuyerPart + " " + o.Lines[0].SupplierPart + " " + o.Lines[0].GTIN, "BN-4711 SCR-100 012345678905"},
		{"line 1 description, second PID a note", o.Lines[0].Description + "|" + strings.Join(o.Lines[0].Notes, "|"), "Wood screws 4x40|box of 100|Fragile"},
		{"line 1 delivery", o.Lines[0].RequestedDelivery.String(), "2026-12-03"},
		{"line 2 SK as buyer part", o.Lines[1].BuyerPart + " " + o.Lines[1].ManufacturerPart + " " + o.Lines[1].GTIN, "778899 M-55 4012345678901"},
		{"line 2 ship date as delivery", o.Lines[1].RequestedDelivery.String(), "2026-12-05"},
		{"line 2 amount", o.Lines[1].Amount.String(), "22.50"},
		{"line 3 numbered by ordinal", o.Lines[2].LineNo + " " + o.Lines[2].Quantity.String(), "3 1.5"},
		{"line 3 unmapped ids and SK after IN are references, not notes", o.Lines[2].BuyerPart + "|" + lineRefs(o.Lines[2]) + "|" + strings.Join(o.Lines[2].Notes, "|"), "I-1|ZZ OTHER SK S-2|"},
		{"totals", itoa(*o.Totals.LineCount) + " " + o.Totals.QuantityHash.String() + " " + o.Totals.Amount.String(), "3 28.5 322.50"},
		{"source", o.Source.Standard + " " + o.Source.Version + " " + o.Source.SenderQualifier + ":" + o.Source.SenderID + " " + o.Source.InterchangeControl + " " + o.Source.GroupControl + " " + o.Source.MessageControl + " " + o.Source.File, "X12 004010 ZZ:BAUMARKTNORD 000004711 4711 0001 po.edi"},
		{"test flag", boolString(o.Source.Test), "true"},
		{"channel", string(o.Channel), "edi"},
		{"provenance po_number", prov(o, "po_number"), "segment 4 BEG03"},
		{"provenance quantity", prov(o, "lines[0].quantity"), "segment 19 PO102"},
		{"provenance line_no by ordinal", prov(o, "lines[2].line_no"), "segment 28 PO1"},
		{"provenance party city", prov(o, "parties[0].address.city"), "segment 15 N401"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	// Every field set has provenance.
	for _, path := range []string{"purpose", "order_type", "po_date", "currency", "requested_delivery", "notes[0]", "references[0]",
		"parties[0].name", "parties[0].id", "parties[0].id_scheme", "parties[0].address.lines[1]", "lines[0].unit_price",
		"lines[0].gtin", "lines[0].description", "lines[0].notes[0]", "lines[2].references[1]", "lines[1].requested_delivery", "lines[1].amount",
		"totals.line_count", "totals.quantity_hash", "totals.amount", "source.message_control"} {
		if prov(o, path) == "" {
			t.Errorf("no provenance for %s", path)
		}
	}
}

func itoa(n int) string { return decimal.MustNew(int64(n), 0).String() }

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestFromX12850Purpose(t *testing.T) {
	for code, want := range map[string]order.Purpose{"00": "original", "01": "cancel", "04": "change", "05": "replace", "06": "06", "07": "07"} {
		data := strings.Replace(crafted850, "BEG*00*", "BEG*"+code+"*", 1)
		txs := decode850s(t, []byte(data))
		o, err := FromX12850(&txs[0].Message, "")
		if err != nil {
			t.Fatal(err)
		}
		if o.Purpose != want {
			t.Errorf("BEG01 %s: purpose %q, want %q", code, o.Purpose, want)
		}
	}
}

func TestFromX12850Errors(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string
		msg       string
		seg, elem int
	}{
		{"quantity", "PO1*1*24*", "PO1*1*2X*", `segment 19 (PO1) element 2: quantity "2X" is not a number`, 19, 2},
		{"unit price", "*EA*12.50*", "*EA*12,50*", `segment 19 (PO1) element 4: unit price "12,50" is not a number`, 19, 4},
		{"po date", "**20261118~", "**20261332~", `segment 4 (BEG) element 5: 2026-13-32 is not a calendar date`, 4, 5},
		{"delivery date", "DTM*002*20261201", "DTM*002*20260230", `segment 9 (DTM) element 2: 2026-02-30 is not a calendar date`, 9, 2},
		{"line count", "CTT*3*", "CTT*three*", `segment 29 (CTT) element 1: number of line items "three" is not an integer`, 29, 1},
		{"total", "AMT*TT*322.50", "AMT*TT*3.2.2", `segment 30 (AMT) element 2: total amount "3.2.2" is not a number`, 30, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txs := decode850s(t, []byte(strings.Replace(crafted850, tt.old, tt.new, 1)))
			_, err := FromX12850(&txs[0].Message, "")
			var me *MappingError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want a *MappingError", err)
			}
			if me.Pos.Index != tt.seg || me.Element != tt.elem || err.Error() != tt.msg {
				t.Errorf("got %q (segment %d element %d), want %q", err, me.Pos.Index, me.Element, tt.msg)
			}
		})
	}
	m := &edi.Message{Standard: edi.X12, Type: "810"}
	if _, err := FromX12850(m, ""); !errors.Is(err, ErrNotAnOrder) {
		t.Errorf("an 810: %v, want ErrNotAnOrder", err)
	}
}

// botsMessage is the part of Bots' inhouse XML the test compares.
type botsMessage struct {
	DocNum string `xml:"docnum"`
	DocDtm string `xml:"docdtm"`
	Partys []struct {
		Qual       string `xml:"qual"`
		ExternalID string `xml:"externalID"`
		Name1      string `xml:"name1"`
		Address1   string `xml:"address1"`
		Address2   string `xml:"address2"`
		City       string `xml:"city"`
		PCode      string `xml:"pcode"`
		State      string `xml:"state"`
		Country    string `xml:"country"`
	} `xml:"partys>party"`
	Lines []struct {
		LineNum string `xml:"linenum"`
		OrdQua  string `xml:"ordqua"`
		OrdUnit string `xml:"ordunit"`
		Price   string `xml:"price"`
		Desc    string `xml:"desc"`
		GTIN    string `xml:"gtin"`
	} `xml:"lines>line"`
}

// TestFromX12850Bots checks our orders against the "inhouse" XML Bots
// produced for the same 850s: PO number and date, parties, line count,
// quantities, units, prices and descriptions.
func TestFromX12850Bots(t *testing.T) {
	dir := corpusDir(t)
	var manifest []struct {
		File string `json:"file"`
		Pair string `json:"pair"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	cache := map[string][]*order.Order{}
	orders := func(file string) []*order.Order {
		if o, ok := cache[file]; ok {
			return o
		}
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			cache[file] = nil
			return nil // paired input not in the corpus
		}
		cache[file] = mapAccepted(t, data, file)
		return cache[file]
	}
	roles := map[string]string{"BY": "buyer", "ST": "ship_to", "BT": "bill_to", "SE": "supplier", "VN": "supplier", "SF": "ship_from"}
	checked := 0
	for _, m := range manifest {
		if !strings.HasPrefix(m.File, "bots-plugins/x12/expected-inhouse-xml/") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, m.File))
		if err != nil {
			t.Fatal(err)
		}
		var want botsMessage
		if err := xml.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%s: %v", m.File, err)
		}
		// Bots' pair column may name several inputs holding a PO with the
		// same number (masked copies of one order); the order that matches
		// best is compared.
		var candidates []*order.Order
		inputs, missing := 0, false
		for _, in := range strings.Split(m.Pair, ",") {
			os := orders(strings.TrimSpace(in))
			if os == nil {
				missing = true
				continue
			}
			inputs++
			for _, o := range os {
				if o.PONumber == want.DocNum && len(o.Lines) == len(want.Lines) {
					candidates = append(candidates, o)
				}
			}
		}
		if inputs == 0 {
			continue // none of the inputs Bots read is in the corpus
		}
		t.Run(filepath.Base(m.File), func(t *testing.T) {
			if len(candidates) == 0 {
				t.Fatalf("no order with PO number %s and %d lines among %s", want.DocNum, len(want.Lines), m.Pair)
			}
			var best []string
			for i, o := range candidates {
				diffs := compareBots(o, &want, roles)
				if i == 0 || len(diffs) < len(best) {
					best = diffs
				}
			}
			if len(best) > 0 && missing {
				t.Skipf("no order from the inputs present matches, and Bots also read inputs missing from the corpus (%s): %v", m.Pair, best)
			}
			for _, d := range best {
				t.Error(d)
			}
		})
		checked++
	}
	if checked < 20 {
		t.Errorf("checked %d Bots messages, want at least 20", checked)
	}
}

func sameDecimal(a, b string) bool {
	x, err1 := decimal.Parse(a)
	y, err2 := decimal.Parse(b)
	return err1 == nil && err2 == nil && x.Cmp(y) == 0
}

// compareBots lists the differences between our order and Bots' XML.
// Bots exports a party's id only for some qualifiers, so the id is
// compared where Bots has one.
func compareBots(o *order.Order, want *botsMessage, roles map[string]string) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if got := o.PODate.String(); got != want.DocDtm {
		add("po_date %s, want %s", got, want.DocDtm)
	}
	if len(o.Parties) != len(want.Partys) {
		add("%d parties, want %d", len(o.Parties), len(want.Partys))
	}
	for i, wp := range want.Partys {
		if i >= len(o.Parties) {
			break
		}
		p := o.Parties[i]
		role := wp.Qual
		if r, ok := roles[role]; ok {
			role = r
		}
		a := p.Address
		if a == nil {
			a = &order.Address{}
		}
		lines := append(append([]string{}, a.Lines...), "", "")
		id := p.ID
		if wp.ExternalID == "" {
			id = ""
		}
		got := []string{p.Role, id, lines[0], lines[1], a.City, a.PostalCode, a.Region, a.Country}
		exp := []string{role, wp.ExternalID, wp.Address1, wp.Address2, wp.City, wp.PCode, wp.State, wp.Country}
		if strings.Join(got, "|") != strings.Join(exp, "|") {
			add("party %d: got %q, want %q", i, got, exp)
		}
		if !strings.HasPrefix(p.Name, wp.Name1) {
			add("party %d: name %q does not start with %q", i, p.Name, wp.Name1)
		}
	}
	for i, wl := range want.Lines {
		l := o.Lines[i]
		if !sameDecimal(l.Quantity.String(), wl.OrdQua) || l.Unit != wl.OrdUnit {
			add("line %d: %s %s, want %s %s", i, l.Quantity, l.Unit, wl.OrdQua, wl.OrdUnit)
		}
		if wl.Price != "" && (l.UnitPrice == nil || !sameDecimal(l.UnitPrice.String(), wl.Price)) {
			add("line %d: unit price %v, want %s", i, l.UnitPrice, wl.Price)
		}
		if wl.Desc != "" && l.Description != wl.Desc {
			add("line %d: description %q, want %q", i, l.Description, wl.Desc)
		}
		if wl.LineNum != "" && l.LineNo != wl.LineNum {
			add("line %d: line_no %q, want %q", i, l.LineNo, wl.LineNum)
		}
		if wl.GTIN != "" && l.GTIN != wl.GTIN {
			add("line %d: gtin %q, want %q", i, l.GTIN, wl.GTIN)
		}
	}
	return diffs
}

// TestParseDecimalFastPath checks that the mapper's fast decimal parser
// gives what ParseDecimal gives, value, scale and error alike.
func TestParseDecimalFastPath(t *testing.T) {
	inputs := []string{"", "0", "00", "-0", "-0.00", "0.00", "7", "007", "90.36", "-12.5", "+5", "5.", ".5", "-.5", ".", "-",
		"1.2.3", "1,5", "12a", "--1", "999999999999999999", "9999999999999999999", "99999999999999999999",
		"123456789.123456789", "0.000000000000000001", "1e5", " 1", "1 ", "-999999999999999999", "184.20", "100"}
	for _, mark := range []byte{'.', ','} {
		for _, in := range inputs {
			if mark == ',' {
				in = strings.ReplaceAll(in, ".", ",")
			}
			want, wantErr := ParseDecimal(in, mark)
			got, err := parseDecimal(in, mark)
			if got != want || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Errorf("parseDecimal(%q, %q) = %v (scale %d), %v; want %v (scale %d), %v",
					in, mark, got, got.Scale(), err, want, want.Scale(), wantErr)
			}
		}
	}
}

// prov returns where the order's field at path was read, "" if nowhere.
func prov(o *order.Order, path string) string {
	w, _ := o.Provenance.Get(path)
	return w
}

// lineRefs is a line's references as "QUAL VALUE" joined by spaces.
func lineRefs(l order.Line) string {
	var parts []string
	for _, r := range l.References {
		parts = append(parts, r.Qualifier+" "+r.Value)
	}
	return strings.Join(parts, " ")
}
