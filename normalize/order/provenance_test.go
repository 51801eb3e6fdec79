package order

import (
	"encoding/json"
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
