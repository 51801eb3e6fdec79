package order

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

// sameAsJSON fails t unless Marshal(o) is what json.Marshal(o) gives,
// error for error.
func sameAsJSON(t *testing.T, name string, o *Order) {
	t.Helper()
	want, werr := json.Marshal(o)
	got, err := Marshal(o)
	if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
		t.Fatalf("%s: Marshal error %v, json.Marshal error %v", name, err, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: Marshal =\n%s\njson.Marshal =\n%s", name, got, want)
	}
	prefix := []byte("[1,")
	app, aerr := AppendJSON(prefix, o)
	if (aerr == nil) != (werr == nil) {
		t.Fatalf("%s: AppendJSON error %v, json.Marshal error %v", name, aerr, werr)
	}
	if aerr == nil && !bytes.Equal(app, append(prefix, want...)) {
		t.Fatalf("%s: AppendJSON =\n%s\nwant the prefix and\n%s", name, app, want)
	}
	if aerr != nil && !bytes.Equal(app, prefix) {
		t.Fatalf("%s: AppendJSON changed the buffer on an error: %s", name, app)
	}
}

// TestMarshalCorpus compares Marshal with encoding/json on the orders the
// mappers make of the EDI corpus (the expected orders of normalize's
// tests), as they are and as the pipeline stores them (id, status,
// unresolved, holds).
func TestMarshalCorpus(t *testing.T) {
	var files []string
	for _, dir := range []string{"x12", "edifact"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var orders []Order
		if err := json.Unmarshal(data, &orders); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i := range orders {
			o := &orders[i]
			sameAsJSON(t, file, o)
			o.ID, o.Status, o.CustomerID = "ord_01JX", StatusHeld, "C-1 <&>"
			o.Unresolved = []string{"lines[0].sku: no item for buyer part \"X&Y\""}
			o.Holds = []Hold{{Rule: "credit", Reason: "over the limit by 12.50 <EUR>"}}
			o.Provenance.Set("customer_id", "partner account")
			sameAsJSON(t, file+" (stored)", o)
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d orders in %d files: the corpus orders are missing", n, len(files))
	}
	t.Logf("%d orders of %d files", n, len(files))
}

// TestMarshalRandom compares Marshal with encoding/json on random orders
// with every field set (nil, empty, not; strings that need escaping).
func TestMarshalRandom(t *testing.T) {
	f := randomFill{rand.New(rand.NewPCG(3, 4))}
	for range 5000 {
		var o Order
		f.value(reflect.ValueOf(&o).Elem(), 4)
		sameAsJSON(t, "random order", &o)
	}
}

func TestMarshalCases(t *testing.T) {
	dec := func(s string) *decimal.Decimal { d := decimal.MustParse(s); return &d }
	count := 3
	tests := []struct {
		name string
		o    *Order
	}{
		{"nil", nil},
		{"zero", &Order{}},
		{"empty lists", &Order{Notes: []string{}, References: []Reference{}, Parties: []Party{}, Lines: []Line{},
			Holds: []Hold{}, Unresolved: []string{}, Provenance: Provenance{}, Confidence: map[string]float64{}, Boxes: map[string]Box{}}},
		{"empty address", &Order{Parties: []Party{{Role: "buyer", Address: &Address{Lines: []string{}}}}}},
		{"escapes", &Order{PONumber: "<a href=\"x\">&amp;</a>\\ \u2028\u2029 \x00\x01\x1f\x7f \b\f\n\r\t é\U0001F600",
			Notes: []string{"a\xffb", "\xed\xa0\x80", "\xe2\x82", "\\ufffd"}}},
		{"dates", &Order{PODate: Date{2024, 2, 29}, RequestedDelivery: Date{1, 1, 1},
			Lines: []Line{{LineNo: "1", RequestedDelivery: Date{9999, 12, 31}}, {LineNo: "2", RequestedDelivery: Date{0, 0, 7}}}}},
		{"dates NewDate refuses", &Order{PODate: Date{-5, 13, 100}, RequestedDelivery: Date{12345, -1, 3}}},
		{"decimals", &Order{Lines: []Line{{LineNo: "1", Quantity: decimal.MustParse("-0.000"), UnitPrice: dec("12.50"), Amount: dec("1234567890.123456789")}},
			Totals: &Totals{LineCount: &count, QuantityHash: dec("0"), Amount: dec("-99.9")}}},
		{"empty totals", &Order{Totals: &Totals{}}},
		{"floats", &Order{Confidence: map[string]float64{"b": 1e-7, "a": 1e21, "c": 123456789.125, "d": math.Copysign(0, -1), "<&>": 1e20, "e": 5e-324, "f": math.MaxFloat64},
			Boxes: map[string]Box{"po_number": {Page: 2, X: 0.1, Y: 1e-6, W: -3e-7, H: 1e300}, "\xff": {}}}},
		{"NaN", &Order{Confidence: map[string]float64{"a": math.NaN()}}},
		{"infinity", &Order{Boxes: map[string]Box{"a": {X: math.Inf(-1)}}}},
		{"provenance duplicates", &Order{Provenance: Provenance{{"b", "1"}, {"a", "2"}, {"b", "3"}}}},
		{"source", &Order{Source: Source{Standard: "X12", Test: true, File: "f<1>.edi", RequestID: "r"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsJSON(t, tt.name, tt.o) })
	}
}

// FuzzMarshal compares Marshal with encoding/json on orders decoded from
// the fuzzer's JSON, with its string, number and decimal put into the
// fields flags picks, and lists made empty or nil.
func FuzzMarshal(f *testing.F) {
	f.Add([]byte(`{"po_number":"1","lines":[{"line_no":"1","quantity":"2.50"}]}`), "<&>\u2028", 0.5, uint64(0xffff), "12.50")
	f.Add([]byte(`{"parties":[{"role":"buyer","address":{"lines":["a"]}}],"provenance":{"b":"1","a":"2"}}`), "a\xffb", 1e-7, uint64(0x5a5a), "-0.001")
	f.Add([]byte(`{"confidence":{"a":1},"boxes":{"x":{"page":1,"x":1e21}}}`), "\x00\"\\", 1e21, uint64(1<<40-1), "0")
	f.Add([]byte(`null`), "", 0.0, uint64(0), "")
	f.Fuzz(func(t *testing.T, data []byte, s string, x float64, flags uint64, d string) {
		var o Order
		_ = json.Unmarshal(data, &o) // what it decoded, if anything
		bit := func(i int) bool { return flags&(1<<i) != 0 }
		strs := []*string{&o.ID, &o.PONumber, &o.OrderType, &o.Currency, &o.CustomerID, &o.Source.Standard, &o.Source.File}
		for i, p := range strs {
			if bit(i) {
				*p = s
			}
		}
		if bit(8) {
			o.Notes = append(o.Notes, s)
		}
		if bit(9) {
			o.Notes = []string{}
		}
		if bit(10) {
			o.Provenance.Set(s, s)
		}
		if bit(11) {
			if o.Confidence == nil {
				o.Confidence = map[string]float64{}
			}
			o.Confidence[s] = x
		}
		if bit(12) {
			if o.Boxes == nil {
				o.Boxes = map[string]Box{}
			}
			o.Boxes[s] = Box{Page: int(flags >> 32), X: x, Y: -x, W: x * 1e10, H: x / 1e10}
		}
		if bit(13) {
			o.Parties = append(o.Parties, Party{Role: s, Name: s, Address: &Address{City: s}})
		}
		if bit(14) {
			o.Holds = append(o.Holds, Hold{Rule: s, Reason: s})
		}
		if bit(15) {
			o.Lines = []Line{}
		}
		if v, err := decimal.Parse(d); err == nil {
			l := Line{LineNo: s, Quantity: v, Description: s}
			if bit(16) {
				l.UnitPrice = &v
			}
			if bit(17) {
				l.Notes = []string{}
			}
			o.Lines = append(o.Lines, l)
			if bit(18) {
				o.Totals = &Totals{Amount: &v}
			}
		}
		if bit(19) {
			o.PODate = Date{int(flags >> 20 & 0x3fff), time.Month(1 + flags>>34&0xf), int(flags >> 38 & 0x7f)}
		}
		sameAsJSON(t, "fuzzed order", &o)
	})
}
