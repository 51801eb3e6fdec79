package normalize

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/normalize/order"
)

// edifactCorpus is the shared corpus, two levels above the repository.
func edifactCorpus(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared corpus not available at %s", dir)
	}
	return dir
}

// edifactMessages decodes data and returns every message.
func edifactMessages(t testing.TB, data []byte, opts ...edifact.Option) []*edifact.Message {
	t.Helper()
	d := edifact.NewDecoder(bytes.NewReader(data), opts...)
	var out []*edifact.Message
	for {
		m, err := d.Next()
		if err == io.EOF {
			return out
		}
		var se *edifact.SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("decoding: %v", err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

type edifactGolden struct {
	Message      string       `json:"message"`
	Accepted     bool         `json:"accepted"`
	Errors       []string     `json:"errors,omitempty"`
	Order        *order.Order `json:"order,omitempty"`
	MappingError string       `json:"mapping_error,omitempty"`
	// LinesTotal is set when the golden keeps only the first goldenLines
	// lines of a large order.
	LinesTotal int `json:"lines_total,omitempty"`
}

const goldenLines = 20

// trimmed returns o with its first goldenLines lines only.
func trimmed(o *order.Order) (*order.Order, int) {
	if o == nil || len(o.Lines) <= goldenLines {
		return o, 0
	}
	c := *o
	c.Lines = o.Lines[:goldenLines]
	c.Provenance = nil
	for _, e := range o.Provenance {
		k := e.Path
		if strings.HasPrefix(k, "lines[") {
			n := 0
			for _, d := range k[len("lines["):] {
				if d < '0' || d > '9' {
					break
				}
				n = n*10 + int(d-'0')
			}
			if n >= goldenLines {
				continue
			}
		}
		c.Provenance = append(c.Provenance, e)
	}
	return &c, len(o.Lines)
}

// TestFromEDIFACTOrdersGolden maps every ORDERS message of the corpus and
// compares with testdata/edifact/*.json (-update rewrites them).
func TestFromEDIFACTOrdersGolden(t *testing.T) {
	dir := edifactCorpus(t)
	roots, _ := filepath.Glob(filepath.Join(dir, "*", "edifact"))
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "expected") {
				return filepath.SkipDir
			}
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return err
		})
	}
	goldens := 0
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var got []edifactGolden
		for _, m := range edifactMessages(t, data) {
			if m.Type != "ORDERS" {
				continue
			}
			g := edifactGolden{Message: m.Envelope.MessageControl, Accepted: m.Accepted}
			for i, e := range m.Errors {
				if i == 10 {
					g.Errors = append(g.Errors, "...")
					break
				}
				g.Errors = append(g.Errors, e.Error())
			}
			o, err := FromEDIFACTOrders(&m.Message, filepath.ToSlash(rel))
			if err != nil {
				g.MappingError = err.Error()
			}
			g.Order, g.LinesTotal = trimmed(o)
			got = append(got, g)
		}
		if len(got) == 0 {
			continue
		}
		goldens++
		name := strings.ReplaceAll(filepath.ToSlash(rel), "/", "_") + ".json"
		t.Run(name, func(t *testing.T) {
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			golden := filepath.Join("testdata", "edifact", name)
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run with -update): %v", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("orders differ from %s:\n%s", golden, b)
			}
		})
	}
	if goldens < 10 {
		t.Errorf("only %d corpus files with ORDERS, want at least 10", goldens)
	}
}

// botsInhouse is Bots' inhouse XML for one ORDERS message.
type botsInhouse struct {
	Sender   string `xml:"sender"`
	Receiver string `xml:"receiver"`
	DocSort  string `xml:"docsrt"`
	DocNum   string `xml:"docnum"`
	DocDate  string `xml:"docdtm"`
	Parties  []struct {
		Qual string `xml:"qual"`
		GLN  string `xml:"gln"`
	} `xml:"partys>party"`
	Lines []struct {
		LineNum string `xml:"linenum"`
		GTIN    string `xml:"gtin"`
		Qty     string `xml:"ordqua"`
	} `xml:"lines>line"`
}

var edifactRoleCodes = map[string]string{order.RoleBuyer: "BY", order.RoleShipTo: "DP", order.RoleBillTo: "IV", order.RoleSupplier: "SU"}

func compareInhouse(t *testing.T, o *order.Order, want *botsInhouse) {
	t.Helper()
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("%s = %q, Bots has %q", field, got, want)
		}
	}
	check("sender", o.Source.SenderID, want.Sender)
	check("receiver", o.Source.ReceiverID, want.Receiver)
	check("order_type", o.OrderType, want.DocSort)
	check("po_number", o.PONumber, want.DocNum)
	check("po_date", strings.ReplaceAll(o.PODate.String(), "-", ""), want.DocDate)
	var parties []string
	for _, p := range o.Parties {
		role := edifactRoleCodes[p.Role]
		if role == "" {
			role = p.Role
		}
		parties = append(parties, role+"="+p.ID)
	}
	var wantParties []string
	for _, p := range want.Parties {
		wantParties = append(wantParties, p.Qual+"="+p.GLN)
	}
	if !slices.Equal(parties, wantParties) {
		t.Errorf("parties %v, Bots has %v", parties, wantParties)
	}
	if len(o.Lines) != len(want.Lines) {
		t.Fatalf("%d lines, Bots has %d", len(o.Lines), len(want.Lines))
	}
	for i, l := range want.Lines {
		check("line_no", o.Lines[i].LineNo, l.LineNum)
		check("gtin", o.Lines[i].GTIN, l.GTIN)
		check("quantity", o.Lines[i].Quantity.String(), l.Qty)
	}
}

// TestFromEDIFACTOrdersBots compares with the Bots translations of the
// same files.
func TestFromEDIFACTOrdersBots(t *testing.T) {
	dir := filepath.Join(edifactCorpus(t), "bots-plugins", "edifact")
	pairs := []struct {
		input string
		index int // message in the input
		xml   string
		strip bool // Bots' preprocessing: drop what precedes UNB
	}{
		{"orders01_two_interchanges.edi", 0, "orders_1.xml", false},
		{"orders01_two_interchanges.edi", 1, "orders_2.xml", false},
		{"orders01_two_interchanges.edi", 2, "orders_3.xml", false},
		{"orders03_linebreak_inside_element.edi", 0, "orders_4.xml", false},
		{"orders04.edi", 0, "orders_5.xml", false},
		{"orders05.edi", 0, "orders_6.xml", false},
		{"preprocessing_junk_header.edi", 0, "preprocessing_orders_1.xml", true},
	}
	for _, p := range pairs {
		t.Run(p.xml, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "orders", p.input))
			if err != nil {
				t.Fatal(err)
			}
			if p.strip {
				// Without preprocessing the file is rejected ...
				if msgs := edifactMessages(t, data); len(msgs) != 1 || msgs[0].Accepted {
					t.Fatalf("junk before UNB: want one rejected message")
				}
				data = data[bytes.Index(data, []byte("UNB+")):]
			}
			msgs := edifactMessages(t, data)
			m := msgs[p.index]
			if !m.Accepted {
				t.Fatalf("message rejected: %v", m.Errors)
			}
			o, err := FromEDIFACTOrders(&m.Message, p.input)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "expected-inhouse-xml", p.xml))
			if err != nil {
				t.Fatal(err)
			}
			var want botsInhouse
			if err := xml.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			compareInhouse(t, o, &want)
		})
	}
}

// xmlNode is a generic XML element of Bots' EDIFACT-to-XML translation.
type xmlNode struct {
	XMLName  xml.Name
	Text     string    `xml:",chardata"`
	Children []xmlNode `xml:",any"`
}

func (n *xmlNode) field(name string) string {
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			return strings.TrimSpace(c.Text)
		}
	}
	return ""
}

func (n *xmlNode) walk(fn func(*xmlNode)) {
	fn(n)
	for i := range n.Children {
		n.Children[i].walk(fn)
	}
}

// TestFromEDIFACTOrdersBotsGeneric compares with Bots' element-by-element
// XML of one2one_orders01.edi.
func TestFromEDIFACTOrdersBotsGeneric(t *testing.T) {
	dir := filepath.Join(edifactCorpus(t), "bots-plugins", "edifact")
	data, err := os.ReadFile(filepath.Join(dir, "orders", "one2one_orders01.edi"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := edifactMessages(t, data)
	for i, name := range []string{"1.xml", "2.xml"} {
		raw, err := os.ReadFile(filepath.Join(dir, "expected-xml", name))
		if err != nil {
			t.Fatal(err)
		}
		var root xmlNode
		if err := xml.Unmarshal(raw, &root); err != nil {
			t.Fatal(err)
		}
		o, err := FromEDIFACTOrders(&msgs[i].Message, "one2one_orders01.edi")
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			po, typ, date     string
			parties, lines, q []string
		}
		root.walk(func(n *xmlNode) {
			switch n.XMLName.Local {
			case "BGM":
				want.po, want.typ = n.field("_1004"), n.field("_C002.1001")
			case "DTM":
				if n.field("_C507.2005") == "137" {
					want.date = n.field("_C507.2380")
				}
			case "NAD":
				want.parties = append(want.parties, n.field("_3035")+"="+n.field("_C082.3039"))
			case "LIN":
				want.lines = append(want.lines, n.field("_1082")+"="+n.field("_C212.7140"))
			case "QTY":
				want.q = append(want.q, n.field("_C186.6060"))
			}
		})
		var parties, lines, q []string
		for _, p := range o.Parties {
			role := edifactRoleCodes[p.Role]
			if role == "" {
				role = p.Role
			}
			parties = append(parties, role+"="+p.ID)
		}
		for _, l := range o.Lines {
			lines = append(lines, l.LineNo+"="+l.GTIN)
			q = append(q, l.Quantity.String())
		}
		if o.PONumber != want.po || o.OrderType != want.typ || strings.ReplaceAll(o.PODate.String(), "-", "") != want.date {
			t.Errorf("%s: po %q type %q date %v, Bots has %q %q %q", name, o.PONumber, o.OrderType, o.PODate, want.po, want.typ, want.date)
		}
		// Bots lists NAD+DP as DP; the canonical ship_to maps back to DP.
		if !slices.Equal(parties, want.parties) || !slices.Equal(lines, want.lines) || !slices.Equal(q, want.q) {
			t.Errorf("%s: parties %v lines %v qty %v, Bots has %v %v %v", name, parties, lines, q, want.parties, want.lines, want.q)
		}
	}
}

const craftedORDERS = "UNA:+,? '" +
	"UNB+UNOC:3+4012345000009:14+4000000000001:14+261118:1230+4711++++++1'" +
	"UNH+0001+ORDERS:D:96A:UN:EAN008'" + // 3
	"BGM+220+4500012345+9'" + // 4
	"DTM+137:20261118:102'" + // 5
	"DTM+2:202612011200:203'" + // 6
	"FTX+AAI+++Bitte an Rampe 3?: liefern:und anrufen'" + // 7
	"RFF+CT:K-77'" + // 8
	"NAD+BY+4012345000009::9++Baumarkt Nord ?+ Co:KG+Hauptstra\xdfe 1+Hamburg++20095+DE'" + // 9
	"CTA+PD+:Herr Foo'" + // 10
	"NAD+DP+ST-HH-01::92++Lager Hamburg+Lagerstrasse 5:Tor 2+Hamburg+HH+20457+DE'" + // 11
	"RFF+API:X'" + // 12
	"NAD+IV++Rechnung GmbH:Buchhaltung:Postfach 1++++++DE'" + // 13
	"NAD+SU+123456789::16'" + // 14
	"NAD+UC+4000000000002::9'" + // 15
	"CUX+2:EUR:9'" + // 16
	"LIN+1++4000000000017:EN'" + // 17
	"PIA+5+SCR-100:SA+BN-4711:BP+M-1:MF'" + // 18
	"IMD+F++:::Holzschraube 4x40:verzinkt'" + // 19
	"QTY+21:24,5:PCE'" + // 20
	"DTM+2:20261205:102'" + // 21
	"MOA+203:306,25'" + // 22
	"PRI+AAB:13,00'" + // 23
	"PRI+AAA:12,50::NTP:1:PCE'" + // 24
	"LIN+2++:EN'" + // 25
	"PIA+1+BN-9:IN'" + // 26
	"QTY+59:6'" + // 27
	"QTY+21:100:C62'" + // 28
	"FTX+AAI+++rot'" + // 29
	"UNS+S'" + // 30
	"MOA+79:1000,00'" + // 31
	"MOA+86:1190,00'" + // 32
	"CNT+2:2'" + // 33
	"UNT+32+0001'" +
	"UNZ+1+4711'"

func TestFromEDIFACTOrdersFields(t *testing.T) {
	msgs := edifactMessages(t, []byte(craftedORDERS))
	if len(msgs) != 1 || !msgs[0].Accepted {
		t.Fatalf("crafted message not accepted: %v", msgs[0].Errors)
	}
	o, err := FromEDIFACTOrders(&msgs[0].Message, "in/po.edi")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	get := func(path string) string {
		var cur any = doc
		for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[part]
			case []any:
				i := 0
				for _, d := range part {
					i = i*10 + int(d-'0')
				}
				if i >= len(c) {
					return "<missing>"
				}
				cur = c[i]
			}
		}
		switch v := cur.(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			bb, _ := json.Marshal(v)
			return string(bb)
		}
	}
	tests := []struct{ path, want, prov string }{
		{"channel", "edi", ""},
		{"source.standard", "EDIFACT", ""},
		{"source.version", "D96A", ""},
		{"source.sender_id", "4012345000009", ""},
		{"source.sender_qualifier", "14", ""},
		{"source.interchange_control", "4711", ""},
		{"source.message_control", "0001", ""},
		{"source.test", "true", ""},
		{"source.file", "in/po.edi", ""},
		{"purpose", "original", "segment 4 BGM03"},
		{"order_type", "220", "segment 4 BGM01:1"},
		{"po_number", "4500012345", "segment 4 BGM02"},
		{"po_date", "2026-11-18", "segment 5 DTM01:2"},
		{"requested_delivery", "2026-12-01", "segment 6 DTM01:2"},
		{"notes[0]", "Bitte an Rampe 3: liefern und anrufen", "segment 7 FTX04:1"},
		{"references[0].qualifier", "CT", "segment 8 RFF01:1"},
		{"references[0].value", "K-77", "segment 8 RFF01:2"},
		{"currency", "EUR", "segment 16 CUX01:2"},
		{"parties[0].role", "buyer", "segment 9 NAD01"},
		{"parties[0].id", "4012345000009", "segment 9 NAD02:1"},
		{"parties[0].id_scheme", "GLN", "segment 9 NAD02:3"},
		{"parties[0].name", "Baumarkt Nord + Co KG", "segment 9 NAD04:1"},
		{"parties[0].address.lines[0]", "Hauptstraße 1", ""},
		{"parties[0].address.city", "Hamburg", "segment 9 NAD06"},
		{"parties[0].address.postal_code", "20095", "segment 9 NAD08"},
		{"parties[0].address.country", "DE", "segment 9 NAD09"},
		{"parties[1].role", "ship_to", ""},
		{"parties[1].id_scheme", "buyer", ""},
		{"parties[1].address.lines[1]", "Tor 2", "segment 11 NAD05:2"},
		{"parties[1].address.region", "HH", "segment 11 NAD07"},
		{"parties[2].role", "bill_to", ""},
		{"parties[2].name", "Rechnung GmbH", "segment 13 NAD03:1"},
		{"parties[2].address.lines[1]", "Postfach 1", "segment 13 NAD03:3"},
		{"parties[2].address.country", "DE", "segment 13 NAD09"},
		{"parties[3].role", "supplier", ""},
		{"parties[3].id_scheme", "DUNS", ""},
		{"parties[4].role", "UC", ""},
		{"lines[0].line_no", "1", "segment 17 LIN01"},
		{"lines[0].gtin", "4000000000017", "segment 17 LIN03:1"},
		{"lines[0].supplier_part", "SCR-100", "segment 18 PIA02:1"},
		{"lines[0].buyer_part", "BN-4711", "segment 18 PIA03:1"},
		{"lines[0].manufacturer_part", "M-1", "segment 18 PIA04:1"},
		{"lines[0].description", "Holzschraube 4x40 verzinkt", "segment 19 IMD03:4"},
		{"lines[0].quantity", "24.5", "segment 20 QTY01:2"},
		{"lines[0].unit", "PCE", "segment 20 QTY01:3"},
		{"lines[0].requested_delivery", "2026-12-05", "segment 21 DTM01:2"},
		{"lines[0].amount", "306.25", "segment 22 MOA01:2"},
		{"lines[0].unit_price", "12.50", "segment 24 PRI01:2"},
		{"lines[0].price_basis", "1 PCE", "segment 24 PRI01:5"},
		{"lines[1].gtin", "", ""},
		{"lines[1].buyer_part", "BN-9", "segment 26 PIA02:1"},
		{"lines[1].quantity", "100", "segment 28 QTY01:2"},
		{"lines[1].notes[0]", "rot", "segment 29 FTX04:1"},
		{"totals.line_count", "2", "segment 33 CNT01:2"},
		{"totals.amount", "1190.00", "segment 32 MOA01:2"},
	}
	for _, tt := range tests {
		if got := get(tt.path); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.path, got, tt.want)
		}
		if tt.prov != "" && prov(o, tt.path) != tt.prov {
			t.Errorf("provenance[%s] = %q, want %q", tt.path, prov(o, tt.path), tt.prov)
		}
	}
	if err := o.Validate(); err != nil {
		t.Errorf("the order does not validate: %v", err)
	}
}

func TestFromEDIFACTOrdersPurpose(t *testing.T) {
	tests := []struct {
		fn   string
		want order.Purpose
		err  bool
	}{
		{"9", order.PurposeOriginal, false}, {"", order.PurposeOriginal, false}, {"1", order.PurposeCancel, false},
		{"5", order.PurposeReplace, false}, {"4", order.PurposeChange, false}, {"3", order.PurposeChange, false},
		{"31", "", true}, {"7", "", true},
	}
	for _, tt := range tests {
		m := edifactMessages(t, []byte(strings.Replace(craftedORDERS, "BGM+220+4500012345+9'", "BGM+220+4500012345+"+tt.fn+"'", 1)))[0]
		o, err := FromEDIFACTOrders(&m.Message, "")
		if tt.err {
			var me *MappingError
			if !errors.As(err, &me) || me.Element != 3 || me.Tag != "BGM" {
				t.Errorf("1225 %q: got %v, want a MappingError on BGM element 3", tt.fn, err)
			}
			continue
		}
		if err != nil || o.Purpose != tt.want {
			t.Errorf("1225 %q: got %v %v, want %q", tt.fn, o, err, tt.want)
		}
	}
}

func TestFromEDIFACTOrdersErrors(t *testing.T) {
	tests := []struct {
		name, from, to string
		want           string
	}{
		{"no PO number", "BGM+220+4500012345+9'", "BGM+220++9'", "segment 4 (BGM) element 2: BGM has no document number (1004)"},
		{"bad date", "DTM+137:20261118:102'", "DTM+137:20261318:102'", "segment 5 (DTM) element 1 component 2: 2026-13-18 is not a calendar date"},
		{"unknown date format", "DTM+137:20261118:102'", "DTM+137:18.11.2026:999'", `segment 5 (DTM) element 1 component 2: date "18.11.2026" in format "999" is not one of 101, 102, 203, 204, 718`},
		{"bad quantity", "QTY+21:24,5:PCE'", "QTY+21:2x:PCE'", `segment 20 (QTY) element 1 component 2: "2x" is not a number`},
		{"bad price", "PRI+AAA:12,50::NTP:1:PCE'", "PRI+AAA:12,5,0::NTP:1:PCE'", `segment 24 (PRI) element 1 component 2: "12.5,0" is not a number`},
		{"no quantity", "QTY+59:6'QTY+21:100:C62'", "", "segment 25 (LIN): line 2 has no quantity (QTY)"},
		{"bad line count", "CNT+2:2'", "CNT+2:x'", `segment 33 (CNT) element 1 component 2: line count "x" is not a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(craftedORDERS, tt.from, tt.to, 1)
			if tt.name == "no quantity" {
				in = strings.Replace(in, "UNT+32", "UNT+30", 1)
			}
			m := edifactMessages(t, []byte(in), edifact.WithoutDictionary())[0]
			_, err := FromEDIFACTOrders(&m.Message, "")
			var me *MappingError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *MappingError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
	x12 := &edi.Message{Standard: edi.X12, Type: "850"}
	if _, err := FromEDIFACTOrders(x12, ""); !errors.Is(err, ErrNotAnOrder) {
		t.Errorf("X12 message: got %v, want ErrNotAnOrder", err)
	}
}

// TestParseNumberMatchesParseDecimal: the fast path reads what
// ParseDecimal reads, to the same value and scale, and fails where it
// fails.
func TestParseNumberMatchesParseDecimal(t *testing.T) {
	inputs := []string{"0", "-0", "7", "007", "12.50", "-12.50", "0.000", "1,5", "-1,5", "1.5", "5.", ".5", ",5", "5,",
		"-", "", "+5", "--5", "1.2.3", "1,2,3", "1.2,3", "12a", " 1", "123456789012345678", "1234567890123456789",
		"12345678901234567890", "0.123456789012345678", "-999999999999999999", "1e3", "-.5", "1,"}
	for _, mark := range []byte{'.', ','} {
		for _, in := range inputs {
			got, gotErr := parseNumber(in, mark)
			want, wantErr := ParseDecimal(in, mark)
			if (gotErr != nil) != (wantErr != nil) || gotErr == nil && (got != want || got.Scale() != want.Scale()) ||
				gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Errorf("parseNumber(%q, %q) = %v, %v; ParseDecimal: %v, %v", in, mark, got, gotErr, want, wantErr)
			}
		}
	}
}

// TestProvenancePaths: lines and parties within and beyond the shared
// paths get the same paths.
func TestProvenancePaths(t *testing.T) {
	seg := &edi.Segment{Tag: "QTY", Pos: edi.Position{Index: 12}}
	for _, i := range []int{0, 7, internedLines - 1, internedLines, internedLines + 3} {
		mp := ordersMapper{o: &order.Order{}, lineIdx: i}
		for f := range lineFields {
			mp.provLine(lineField(f), seg, 1, 2)
		}
		for f := range partyFields {
			mp.provParty(i%(internedParties+2), partyField(f), seg, 3, 0)
		}
		mp.flushProvenance()
		for _, f := range lineFields {
			if k := "lines[" + strconv.Itoa(i) + "]." + f; prov(mp.o, k) != "segment 12 QTY01:2" {
				t.Errorf("provenance[%q] = %q", k, prov(mp.o, k))
			}
		}
		for _, f := range partyFields {
			if k := "parties[" + strconv.Itoa(i%(internedParties+2)) + "]." + f; prov(mp.o, k) != "segment 12 QTY03" {
				t.Errorf("provenance[%q] = %q", k, prov(mp.o, k))
			}
		}
		if n := mp.o.Provenance.Len(); n != len(lineFields)+len(partyFields) {
			t.Errorf("line %d: %d provenance entries, want %d", i, n, len(lineFields)+len(partyFields))
		}
	}
}

// TestFromEDIFACTOrdersD01BQuantity: D01B makes 6060 an..35, so the
// dictionary lets a quantity in words through and the mapper rejects it
// with its position (never a panic); a D01B number still maps.
func TestFromEDIFACTOrdersD01BQuantity(t *testing.T) {
	d01b := strings.Replace(craftedORDERS, "ORDERS:D:96A:UN:EAN008", "ORDERS:D:01B:UN:EAN010", 1)
	for _, tt := range []struct {
		qty, want string
	}{
		{"QTY+21:24,5:PCE'", ""},
		{"QTY+21:vierundzwanzig:PCE'", `segment 20 (QTY) element 1 component 2: "vierundzwanzig" is not a number`},
		{"QTY+21:24 5:PCE'", `segment 20 (QTY) element 1 component 2: "24 5" is not a number`},
	} {
		msgs := edifactMessages(t, []byte(strings.Replace(d01b, "QTY+21:24,5:PCE'", tt.qty, 1)))
		if len(msgs) != 1 || !msgs[0].Accepted {
			t.Fatalf("%s: the D01B message is not accepted: %v", tt.qty, msgs[0].Errors)
		}
		o, err := FromEDIFACTOrders(&msgs[0].Message, "")
		if tt.want == "" {
			if err != nil || o.Lines[0].Quantity.String() != "24.5" || o.Source.Version != "D01B" {
				t.Errorf("%s: %v, %+v", tt.qty, err, o)
			}
			continue
		}
		var me *MappingError
		if !errors.As(err, &me) || err.Error() != tt.want {
			t.Errorf("%s: got %v, want the MappingError %s", tt.qty, err, tt.want)
		}
	}
}

// TestFromEDIFACTOrdersD01BEAN010 decodes a clean EANCOM 2002 (D01B
// EAN010) ORDERS written for this test with the D01B dictionary, maps it
// and compares with its golden order (-update rewrites it). The same
// message labelled D96A is rejected: its IMD 7008 is longer than D96A's
// an..35.
func TestFromEDIFACTOrdersD01BEAN010(t *testing.T) {
	path := filepath.Join("testdata", "edifact-crafted", "orders_d01b_ean010.edi")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msgs := edifactMessages(t, data)
	if len(msgs) != 1 || !msgs[0].Accepted || len(msgs[0].Errors) > 0 {
		t.Fatalf("%d messages; the D01B EAN010 message is not accepted cleanly: %v", len(msgs), msgs[0].Errors)
	}
	if v := msgs[0].Envelope.Version; v != "D01B" {
		t.Errorf("version %q, want D01B", v)
	}
	o, err := FromEDIFACTOrders(&msgs[0].Message, "orders_d01b_ean010.edi")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "edifact-crafted", "orders_d01b_ean010.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden (run with -update): %v", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("order differs from %s:\n%s", golden, b)
	}
	d96a := edifactMessages(t, bytes.Replace(data, []byte("ORDERS:D:01B:UN:EAN010"), []byte("ORDERS:D:96A:UN:EAN008"), 1))
	if len(d96a) != 1 || d96a[0].Accepted {
		t.Errorf("labelled D96A, the message is accepted; want IMD 7008 too long")
	}
}

// TestFromEDIFACTOrdersDateFormats reads DTM 2380 in the formats 2379
// the mapping knows, 204 (CCYYMMDDHHMMSS) among them, and rejects a time
// of day that is not one with its position.
func TestFromEDIFACTOrdersDateFormats(t *testing.T) {
	tests := []struct {
		dtm, want, err string
	}{
		{"DTM+137:20261118:102'", "2026-11-18", ""},
		{"DTM+137:202611180930:203'", "2026-11-18", ""},
		{"DTM+137:20261118093015:204'", "2026-11-18", ""},
		{"DTM+137:20261118235959:204'", "2026-11-18", ""},
		{"DTM+137:261118:101'", "2026-11-18", ""},
		{"DTM+137:20261118-20261120:718'", "2026-11-18", ""},
		{"DTM+137:2026111809301:204'", "", `segment 5 (DTM) element 1 component 2: date "2026111809301" in format "204" is not one of 101, 102, 203, 204, 718`},
		{"DTM+137:20261118246000:204'", "", `segment 5 (DTM) element 1 component 2: time "246000" of "20261118246000" (format 204) is not a time of day`},
		{"DTM+137:20261118096100:204'", "", `segment 5 (DTM) element 1 component 2: time "096100" of "20261118096100" (format 204) is not a time of day`},
		{"DTM+137:20261118093075:204'", "", `segment 5 (DTM) element 1 component 2: time "093075" of "20261118093075" (format 204) is not a time of day`},
		{"DTM+137:20261318093000:204'", "", "segment 5 (DTM) element 1 component 2: 2026-13-18 is not a calendar date"},
	}
	for _, tt := range tests {
		t.Run(tt.dtm, func(t *testing.T) {
			in := strings.Replace(craftedORDERS, "DTM+137:20261118:102'", tt.dtm, 1)
			m := edifactMessages(t, []byte(in), edifact.WithoutDictionary())[0]
			o, err := FromEDIFACTOrders(&m.Message, "")
			if tt.err != "" {
				var me *MappingError
				if !errors.As(err, &me) || err.Error() != tt.err {
					t.Errorf("got %v, want the MappingError %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := o.PODate.String(); got != tt.want || prov(o, "po_date") != "segment 5 DTM01:2" {
				t.Errorf("po_date %s (provenance %q), want %s (segment 5 DTM01:2)", got, prov(o, "po_date"), tt.want)
			}
		})
	}
}
