package store

import (
	"encoding/json"
	"testing"
)

func TestJSONSetTop(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"replaced, order kept", `{"id":"o1","status":"received","lines":[{"status":"x"}]}`,
			`{"id":"o1","status":"held","lines":[{"status":"x"}]}`},
		{"after nested values and escapes", `{"lines":[{"a":"}]\"status\":"},{"b":[1,2,{"c":null}]}],"po_number":"P\"O","status":"routed","z":true}`,
			`{"lines":[{"a":"}]\"status\":"},{"b":[1,2,{"c":null}]}],"po_number":"P\"O","status":"held","z":true}`},
		{"nested status only: appended at the top", `{"parties":[{"status":"old"}],"n":1}`,
			`{"parties":[{"status":"old"}],"n":1,"status":"held"}`},
		{"empty object", `{}`, `{"status":"held"}`},
		{"spaces", "{ \"a\" : 1 , \"status\" : \"received\" }", "{ \"a\" : 1 , \"status\" : \"held\" }"},
		{"escaped key", `{"st\u0061tus":"received"}`, `{"st\u0061tus":"held"}`},
		{"last scalar", `{"a":{"b":[]},"status":null}`, `{"a":{"b":[]},"status":"held"}`},
		{"repeated key", `{"status":1,"x":2,"status":3}`, `{"status":"held","x":2,"status":"held"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonSetTop(tt.doc, "status", "held")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("result is not valid JSON: %s", got)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `"status"`, `{"a" 1}`} {
		if _, err := jsonSetTop(bad, "status", "held"); err == nil {
			t.Errorf("jsonSetTop(%q) succeeded, want an error", bad)
		}
	}
}

// FuzzJSONSetTop: on any JSON object the result is valid JSON that
// decodes to the object with the top-level status set, nothing else.
func FuzzJSONSetTop(f *testing.F) {
	for _, s := range []string{`{}`, `{"status":"a"}`, `{"a":[{"status":1}],"b":"\"}"}`, `{ "x" : { "status" : [ ] } , "status" : true }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var want map[string]any
		if err := json.Unmarshal([]byte(doc), &want); err != nil || want == nil {
			return
		}
		got, err := jsonSetTop(doc, "status", "held")
		if err != nil {
			t.Fatalf("jsonSetTop(%q): %v", doc, err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(got), &m); err != nil {
			t.Fatalf("jsonSetTop(%q) = %q: not JSON: %v", doc, got, err)
		}
		want["status"] = "held"
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(m)
		if string(wb) != string(gb) {
			t.Fatalf("jsonSetTop(%q) = %q, want the object with status held", doc, got)
		}
	})
}
