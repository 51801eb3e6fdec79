package order

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

func TestProvenanceJSON(t *testing.T) {
	var p Provenance
	p.Set("po_number", "segment 4 BEG03")
	p.Set("lines[0].quantity", "segment 12 PO102")
	p.Set("customer_id", "partner a")
	p.Set("customer_id", "partner <b> & \"c\"\n\u2028\xff")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(p.Map())
	if string(b) != string(want) {
		t.Errorf("Marshal =\n%s\nwant (encoding/json of the map)\n%s", b, want)
	}
	if got, _ := p.Get("customer_id"); got != "partner <b> & \"c\"\n\u2028\xff" {
		t.Errorf("Get(customer_id) = %q: the last entry must win", got)
	}
	if _, ok := p.Get("nope"); ok {
		t.Errorf("Get of a missing path is ok")
	}
	if p.Len() != 3 {
		t.Errorf("Len = %d, want 3", p.Len())
	}
	var back Provenance
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	want2, _ := json.Marshal(back.Map())
	if string(b2) != string(want2) || back.Len() != 3 {
		t.Errorf("round trip: %s, want %s", b2, want2)
	}
	if err := json.Unmarshal([]byte(`["x"]`), &back); err == nil {
		t.Errorf("an array was accepted as provenance")
	}
	var empty Provenance
	if b, _ := json.Marshal(struct {
		P Provenance `json:"p,omitempty"`
	}{empty}); string(b) != `{}` {
		t.Errorf("empty provenance not omitted: %s", b)
	}
}

func FuzzProvenanceString(f *testing.F) {
	f.Add("segment 4 BEG03", "lines[0].x")
	f.Add("\x00<>&\u2028\xff\"\\", "é")
	f.Fuzz(func(t *testing.T, path, where string) {
		var p Provenance
		p.Set(path, where)
		got, _ := json.Marshal(p)
		want, _ := json.Marshal(p.Map())
		if string(got) != string(want) {
			t.Errorf("Marshal(%q: %q) = %s, want %s", path, where, got, want)
		}
	})
}

func TestProvenanceUnmarshalEscapes(t *testing.T) {
	e := func(path, where string) ProvenanceEntry { return ProvenanceEntry{path, where} }
	tests := []struct {
		name string
		in   string
		want Provenance
	}{
		{"null", `null`, nil},
		{"null with spaces", " \t\r\nnull\n", nil},
		{"empty", `{}`, Provenance{}},
		{"empty with spaces", ` { } `, Provenance{}},
		{"plain", `{"a":"x","b":"y"}`, Provenance{e("a", "x"), e("b", "y")}},
		{"spaces", " {\n\t\"a\" : \"x\" ,\r\n \"b\":\"y\"\n}\t", Provenance{e("a", "x"), e("b", "y")}},
		{"unsorted", `{"b":"y","a":"x"}`, Provenance{e("a", "x"), e("b", "y")}},
		{"duplicate: last wins", `{"b":"1","a":"x","b":"2"}`, Provenance{e("a", "x"), e("b", "2")}},
		{"short escapes", `{"k":"\"\\\/\b\f\n\r\t"}`, Provenance{e("k", "\"\\/\b\f\n\r\t")}},
		{"escaped key", `{"lines[0].\u0073ku":"v"}`, Provenance{e("lines[0].sku", "v")}},
		{"u escapes", `{"k":"\u003c\u003E\u0026\u00e9\u2028\u0000"}`, Provenance{e("k", "<>&é\u2028\x00")}},
		{"surrogate pair", `{"k":"\ud83d\ude00!"}`, Provenance{e("k", "😀!")}},
		{"upper-case surrogate pair", `{"k":"\uD83D\uDE00"}`, Provenance{e("k", "😀")}},
		{"lone high surrogate", `{"k":"\ud83dx"}`, Provenance{e("k", "\ufffdx")}},
		{"high surrogate then escape", `{"k":"\ud83d\u0041"}`, Provenance{e("k", "\ufffdA")}},
		{"high surrogate then newline", `{"k":"\ud83d\n"}`, Provenance{e("k", "\ufffd\n")}},
		{"two high surrogates", `{"k":"\ud83d\ud83d\ude00"}`, Provenance{e("k", "\ufffd😀")}},
		{"lone low surrogate", `{"k":"\ude00\ud83d"}`, Provenance{e("k", "\ufffd\ufffd")}},
		{"raw UTF-8", `{"k":"é😀"}`, Provenance{e("k", "é😀")}},
		{"invalid UTF-8", "{\"k\":\"a\xffb\xe2\x82\"}", Provenance{e("k", "a\ufffdb\ufffd\ufffd")}},
		{"UTF-8 surrogate", "{\"k\":\"\xed\xa0\x80\"}", Provenance{e("k", "\ufffd\ufffd\ufffd")}},
		{"null value", `{"a":null,"b":"y"}`, Provenance{e("a", ""), e("b", "y")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Provenance
			if err := got.UnmarshalJSON([]byte(tt.in)); err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UnmarshalJSON(%s) = %#v, want %#v", tt.in, got, tt.want)
			}
			var old Provenance
			if err := old.unmarshalMap([]byte(tt.in)); err != nil || !reflect.DeepEqual(old, got) {
				t.Errorf("by way of a map: %#v (%v), want %#v", old, err, got)
			}
		})
	}
}

func TestProvenanceUnmarshalInvalid(t *testing.T) {
	for _, in := range []string{
		``, ` `, `nul`, `nullx`, `null null`, `[]`, `["x"]`, `"x"`, `1`, `true`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":"x",}`,
		`{"a":"x"`, `{"a":"x"}}`, `{"a":"x"} x`, `{"a":"x" "b":"y"}`, `{"a" "x"}`, `{a:"x"}`, `{"a":1}`, `{"a":true}`,
		`{"a":{}}`, `{"a":["x"]}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, "{\"a\":\"\n\"}", "{\"a\":\"\x00\"}",
		`{"a":"x\`, `{"a":"x`, `{"a":"\`,
	} {
		var p Provenance
		err := p.UnmarshalJSON([]byte(in))
		if err == nil {
			t.Errorf("UnmarshalJSON(%q) = %#v, want an error", in, p)
			continue
		}
		var old Provenance
		if werr := old.unmarshalMap([]byte(in)); werr == nil || werr.Error() != err.Error() {
			t.Errorf("UnmarshalJSON(%q): error %q, by way of a map %v", in, err, werr)
		}
	}
}

// FuzzProvenanceUnmarshalJSON checks the scanning UnmarshalJSON against
// the decoding into a map it replaces: the same entries (nil and empty
// told apart), the same error.
func FuzzProvenanceUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`null`, `{}`, `{"po_number":"segment 4 BEG03","lines[0].quantity":"segment 12 PO102"}`,
		`{"b":"1","a":"\u00e9\ud83d\ude00\ud83d\n","b":"\"\\\/\b\f\n\r\t"}`, "{\"k\":\"a\xffb\"}", `{"a":null}`, `{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want Provenance
		err := got.UnmarshalJSON(data)
		werr := want.unmarshalMap(data)
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("UnmarshalJSON(%q): error %v, by way of a map %v", data, err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("UnmarshalJSON(%q) = %#v, by way of a map %#v", data, got, want)
		}
		if err != nil {
			return
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back Provenance
		if err := back.UnmarshalJSON(b); err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("round trip of %s: %#v (%v), want %#v", b, back, err, got)
		}
	})
}

func BenchmarkProvenanceUnmarshalJSON(b *testing.B) {
	var p Provenance
	for i := range 90 {
		p.Set(LinePath(i/3, []string{"quantity", "unit", "unit_price"}[i%3]), fmt.Sprintf("segment %d PO10%d", 10+i, i%3+2))
	}
	p.Set("po_number", "segment 4 BEG03 <a&b>")
	data, err := json.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q Provenance
			if err := q.UnmarshalJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q Provenance
			if err := q.unmarshalMap(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestProvenanceSorted: Sorted gives what the JSON brings back (sorted,
// the last entry of a path), the same slice when it is so already, and
// leaves the provenance it sorts as it was.
func TestProvenanceSorted(t *testing.T) {
	var p Provenance
	p.Set("po_number", "segment 4 BEG03")
	p.Set("lines[0].quantity", "segment 12 PO102")
	p.Set("customer_id", "partner a")
	p.Set("customer_id", "partner b")
	before := fmt.Sprint(p)
	s := p.Sorted()
	want := Provenance{{"customer_id", "partner b"}, {"lines[0].quantity", "segment 12 PO102"}, {"po_number", "segment 4 BEG03"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Sorted = %v, want %v", s, want)
	}
	if fmt.Sprint(p) != before {
		t.Errorf("Sorted changed its input: %v, was %s", p, before)
	}
	data, _ := json.Marshal(p)
	var back Provenance
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("decoded %v (%v), Sorted %v", back, err, s)
	}
	if again := s.Sorted(); &again[0] != &s[0] {
		t.Errorf("Sorted copied a sorted provenance")
	}
	if Provenance(nil).Sorted() != nil {
		t.Errorf("Sorted of nil is not nil")
	}
}
