package webapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeOrder checks the request decoding on any input: it never
// panics, refuses every body that is not valid JSON, points only with
// well-formed JSON pointers, and an accepted order's canonical form
// decodes again to the same canonical form (so the idempotency hash is
// stable).
func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(orderDoc))
	f.Add([]byte(`{"po_number": "1", "lines": [{"line_no": "1", "quantity": "1", "sku": "X"}]}`))
	f.Add([]byte(`{"lines": [{"quantity": 1}], "x": {"y": [[[]]]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, problems := decodeOrder(body)
		for _, p := range problems {
			if !validPointer(p.Pointer) || p.Detail == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if len(problems) > maxProblems+1 {
			t.Fatalf("%d problems, more than the cap", len(problems))
		}
		if len(problems) > 0 {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		canon, err := json.Marshal(&in)
		if err != nil {
			t.Fatal(err)
		}
		again, problems := decodeOrder(canon)
		if len(problems) > 0 {
			t.Fatalf("canonical form %s refused: %v", canon, problems)
		}
		canon2, _ := json.Marshal(&again)
		if !bytes.Equal(canon, canon2) {
			t.Fatalf("canonical form not stable:\n%s\n%s", canon, canon2)
		}
	})
}

// validPointer reports whether p is an RFC 6901 JSON pointer.
func validPointer(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != '/' {
		return false
	}
	for i := strings.IndexByte(p, '~'); i >= 0; i = strings.IndexByte(p, '~') {
		if i+1 >= len(p) || (p[i+1] != '0' && p[i+1] != '1') {
			return false
		}
		p = p[i+2:]
	}
	return true
}
