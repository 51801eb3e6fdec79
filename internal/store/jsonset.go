package store

import (
	"encoding/json"
	"errors"
	"strings"
)

// errNotObject: the stored document is not a JSON object.
var errNotObject = errors.New("not a JSON object")

// jsonSetTop returns doc, a JSON object, with the value of its top-level
// key replaced by the JSON string value, the way SQLite's
// json_set(doc, '$.key', value) does: the rest of the text is kept byte
// for byte (PostgreSQL's jsonb_set would reorder the keys), and a missing
// key is appended (a repeated key is set everywhere). Keys of nested
// objects are not touched. doc must be
// valid JSON (the store wrote it).
func jsonSetTop(doc, key, value string) (string, error) {
	enc, err := json.Marshal(value)
	if err != nil {
		return "", err
	}
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return "", errNotObject
	}
	i++
	found := false
	for {
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return "", errNotObject
		}
		if doc[i] == '}' && found {
			return doc, nil
		}
		if doc[i] == '}' { // the key is missing: append it
			sep := ","
			if strings.TrimSpace(doc[:i]) == "{" {
				sep = ""
			}
			k, _ := json.Marshal(key)
			return doc[:i] + sep + string(k) + ":" + string(enc) + doc[i:], nil
		}
		if doc[i] != '"' {
			return "", errNotObject
		}
		kEnd := endOfString(doc, i)
		var k string
		if err := json.Unmarshal([]byte(doc[i:kEnd]), &k); err != nil {
			return "", err
		}
		i = skipSpace(doc, kEnd)
		if i >= len(doc) || doc[i] != ':' {
			return "", errNotObject
		}
		vStart := skipSpace(doc, i+1)
		vEnd := endOfValue(doc, vStart)
		if k == key { // every occurrence, should the key be repeated
			doc = doc[:vStart] + string(enc) + doc[vEnd:]
			vEnd, found = vStart+len(enc), true
		}
		i = skipSpace(doc, vEnd)
		if i < len(doc) && doc[i] == ',' {
			i++
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index after the string starting at s[i] == '"'.
func endOfString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// endOfValue returns the index after the value starting at s[i].
func endOfValue(s string, i int) int {
	if i < len(s) && s[i] == '"' {
		return endOfString(s, i)
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"':
			j = endOfString(s, j) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j
			}
		}
	}
	return len(s)
}
