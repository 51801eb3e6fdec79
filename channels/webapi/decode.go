package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/govalues/decimal"
)

// Limits of the request decoding.
const (
	// MaxStringBytes is the longest string value taken.
	MaxStringBytes = 4096
	// maxProblems caps the problems of one answer.
	maxProblems = 100
)

// orderInput is the documented input subset of the canonical order: what
// a client may send. Decimals stay the strings the client wrote (checked
// by the decoder), so the order keeps the sender's scale.
type orderInput struct {
	Purpose           string      `json:"purpose,omitempty"`
	OrderType         string      `json:"order_type,omitempty"`
	PONumber          string      `json:"po_number"`
	PODate            string      `json:"po_date,omitempty"`
	Currency          string      `json:"currency,omitempty"`
	RequestedDelivery string      `json:"requested_delivery,omitempty"`
	Notes             []string    `json:"notes,omitempty"`
	References        []reference `json:"references,omitempty"`
	Parties           []party     `json:"parties,omitempty"`
	Lines             []line      `json:"lines"`
	Totals            *totals     `json:"totals,omitempty"`
}

type reference struct {
	Qualifier string `json:"qualifier"`
	Value     string `json:"value"`
}

type party struct {
	Role     string   `json:"role"`
	ID       string   `json:"id,omitempty"`
	IDScheme string   `json:"id_scheme,omitempty"`
	Name     string   `json:"name,omitempty"`
	Address  *address `json:"address,omitempty"`
}

type address struct {
	Lines      []string `json:"lines,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
}

type line struct {
	LineNo            string   `json:"line_no"`
	Quantity          string   `json:"quantity,omitempty"` // missing: order.Validate says so
	Unit              string   `json:"unit,omitempty"`
	UnitPrice         string   `json:"unit_price,omitempty"`
	PriceBasis        string   `json:"price_basis,omitempty"`
	Amount            string   `json:"amount,omitempty"`
	GTIN              string   `json:"gtin,omitempty"`
	BuyerPart         string   `json:"buyer_part,omitempty"`
	SupplierPart      string   `json:"supplier_part,omitempty"`
	ManufacturerPart  string   `json:"manufacturer_part,omitempty"`
	Description       string   `json:"description,omitempty"`
	SKU               string   `json:"sku,omitempty"`
	RequestedDelivery string   `json:"requested_delivery,omitempty"`
	Notes             []string `json:"notes,omitempty"`
}

type totals struct {
	LineCount    *int   `json:"line_count,omitempty"`
	QuantityHash string `json:"quantity_hash,omitempty"`
	Amount       string `json:"amount,omitempty"`
}

// kind is the JSON shape a schema node accepts.
type kind uint8

const (
	kString  kind = iota + 1
	kDecimal      // a string holding a decimal number
	kDate         // a string holding YYYY-MM-DD
	kCount        // a non-negative whole number
	kObject
	kArray
)

// node is the schema of one value of the input.
type node struct {
	kind   kind
	fields map[string]*node // kObject
	elem   *node            // kArray
}

func obj(fields map[string]*node) *node { return &node{kind: kObject, fields: fields} }
func arr(elem *node) *node              { return &node{kind: kArray, elem: elem} }

var (
	str  = &node{kind: kString}
	dec  = &node{kind: kDecimal}
	date = &node{kind: kDate}
	cnt  = &node{kind: kCount}
)

// inputSchema mirrors orderInput: the decoder accepts exactly these
// members, so a client learns of a misspelt field instead of losing it.
var inputSchema = obj(map[string]*node{
	"purpose":            str,
	"order_type":         str,
	"po_number":          str,
	"po_date":            date,
	"currency":           str,
	"requested_delivery": date,
	"notes":              arr(str),
	"references":         arr(obj(map[string]*node{"qualifier": str, "value": str})),
	"parties": arr(obj(map[string]*node{
		"role": str, "id": str, "id_scheme": str, "name": str,
		"address": obj(map[string]*node{
			"lines": arr(str), "city": str, "region": str, "postal_code": str, "country": str,
		}),
	})),
	"lines": arr(obj(map[string]*node{
		"line_no": str, "quantity": dec, "unit": str, "unit_price": dec, "price_basis": str,
		"amount": dec, "gtin": str, "buyer_part": str, "supplier_part": str, "manufacturer_part": str,
		"description": str, "sku": str, "requested_delivery": date, "notes": arr(str),
	})),
	"totals": obj(map[string]*node{"line_count": cnt, "quantity_hash": dec, "amount": dec}),
})

// assignedFields are members of the canonical order the gateway sets; a
// client that sends one is told so rather than "unknown member".
var assignedFields = map[string]bool{
	"id": true, "channel": true, "source": true, "customer_id": true, "status": true, "holds": true,
	"unresolved": true, "provenance": true, "confidence": true, "boxes": true,
}

// InputFields lists the members the request body may have, as JSON
// pointer templates ("/lines/*/quantity", "*" standing for any array
// index), each with its JSON type (string, integer, object, array).
// Decimal and date members are strings. The OpenAPI document's test
// compares its OrderInput schema against it.
func InputFields() map[string]string {
	out := map[string]string{}
	var walk func(prefix string, n *node)
	walk = func(prefix string, n *node) {
		switch n.kind {
		case kObject:
			out[prefix] = "object"
			for name, c := range n.fields {
				walk(prefix+"/"+escapeToken(name), c)
			}
		case kArray:
			out[prefix] = "array"
			walk(prefix+"/*", n.elem)
		case kCount:
			out[prefix] = "integer"
		default:
			out[prefix] = "string"
		}
	}
	walk("", inputSchema)
	delete(out, "")
	return out
}

// decodeOrder reads a request body into the input subset. It reports
// every shape problem it finds (unknown members, wrong types, bad
// decimals and dates, duplicate members) with its JSON pointer; on a
// syntax error it stops there. problems is empty exactly when in is
// usable.
func decodeOrder(body []byte) (in orderInput, problems []FieldProblem) {
	if !utf8.Valid(body) {
		return in, []FieldProblem{{Pointer: "", Detail: "the body is not valid UTF-8"}}
	}
	w := walker{dec: json.NewDecoder(bytes.NewReader(body))}
	w.dec.UseNumber()
	tok, err := w.dec.Token()
	if err != nil {
		w.syntax(err)
		return in, w.problems
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return in, []FieldProblem{{Pointer: "", Detail: "the body must be a JSON object (the order)"}}
	}
	if err := w.object(inputSchema, true); err != nil {
		w.syntax(err)
		return in, w.problems
	}
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		w.add("", "unexpected data after the order object")
	}
	if len(w.problems) > 0 {
		return in, w.problems
	}
	if err := json.Unmarshal(body, &in); err != nil {
		// The walker accepted the body, so this is a bug of the decoder.
		return in, []FieldProblem{{Pointer: "", Detail: "the body could not be decoded: " + err.Error()}}
	}
	return in, nil
}

// walker checks a token stream against a schema, tracking the JSON pointer
// of the value at hand.
type walker struct {
	dec      *json.Decoder
	path     []string
	problems []FieldProblem
	full     bool
}

func (w *walker) pointer() string {
	if len(w.path) == 0 {
		return ""
	}
	return "/" + strings.Join(w.path, "/")
}

func (w *walker) add(ptr, detail string) {
	if w.full {
		return
	}
	if len(w.problems) == maxProblems {
		w.problems = append(w.problems, FieldProblem{Detail: "more problems follow; fix these first"})
		w.full = true
		return
	}
	w.problems = append(w.problems, FieldProblem{Pointer: ptr, Detail: detail})
}

// syntax records a fatal syntax error at the current pointer.
func (w *walker) syntax(err error) {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		w.add(w.pointer(), fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: ")))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		w.add(w.pointer(), "the body ends before the JSON value is complete")
	default:
		w.add(w.pointer(), "invalid JSON: "+err.Error())
	}
}

// object walks the members of an object whose '{' was read, up to and
// including its '}'. Only top is the order itself.
func (w *walker) object(n *node, top bool) error {
	seen := make(map[string]bool, len(n.fields))
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object member name is not a string")
		}
		w.path = append(w.path, escapeToken(name))
		ptr := w.pointer()
		child, known := n.fields[name]
		switch {
		case seen[name]:
			w.add(ptr, "member appears more than once")
			err = w.skip()
		case !known && top && assignedFields[name]:
			w.add(ptr, "is set by the gateway; leave it out")
			err = w.skip()
		case !known:
			w.add(ptr, "unknown member")
			err = w.skip()
		default:
			err = w.value(child)
		}
		if err != nil {
			return err
		}
		seen[name] = true
		w.path = w.path[:len(w.path)-1]
	}
	_, err := w.dec.Token() // '}'
	return err
}

// value walks one value against n. It returns only syntax errors; shape
// problems are recorded.
func (w *walker) value(n *node) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null: absent
	}
	ptr := w.pointer()
	switch n.kind {
	case kObject:
		if d, ok := tok.(json.Delim); ok && d == '{' {
			return w.object(n, false)
		}
		w.add(ptr, "must be an object")
	case kArray:
		if d, ok := tok.(json.Delim); ok && d == '[' {
			for i := 0; w.dec.More(); i++ {
				w.path = append(w.path, strconv.Itoa(i))
				if err := w.value(n.elem); err != nil {
					return err
				}
				w.path = w.path[:len(w.path)-1]
			}
			_, err := w.dec.Token() // ']'
			return err
		}
		w.add(ptr, "must be an array")
	case kString, kDecimal, kDate:
		s, ok := tok.(string)
		if !ok {
			switch {
			case n.kind == kDecimal && isNumber(tok):
				w.add(ptr, fmt.Sprintf("must be a decimal string such as \"12.50\", not the JSON number %v", tok))
			case n.kind == kDecimal:
				w.add(ptr, "must be a decimal string such as \"12.50\"")
			case n.kind == kDate:
				w.add(ptr, "must be a date string YYYY-MM-DD")
			default:
				w.add(ptr, "must be a string")
			}
			break
		}
		if len(s) > MaxStringBytes {
			w.add(ptr, fmt.Sprintf("is longer than %d bytes", MaxStringBytes))
			break
		}
		switch n.kind {
		case kDecimal:
			if _, err := decimal.Parse(s); err != nil || !plainDecimal(s) {
				w.add(ptr, fmt.Sprintf("%q is not a decimal number written as digits with an optional '-' and '.' (at most 19 digits before the point)", s))
			}
		case kDate:
			if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != len(time.DateOnly) {
				w.add(ptr, fmt.Sprintf("%q is not a calendar date YYYY-MM-DD", s))
			}
		}
	case kCount:
		num, ok := tok.(json.Number)
		if !ok {
			w.add(ptr, "must be a whole number")
			break
		}
		if v, err := strconv.ParseInt(string(num), 10, 32); err != nil || v < 0 {
			w.add(ptr, fmt.Sprintf("%s is not a whole number from 0 to %d", num, int32(^uint32(0)>>1)))
		}
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return w.skipRest()
	}
	return nil
}

// plainDecimal reports whether s is written as -?[0-9]+(\.[0-9]+)?: no
// exponent, no '+', no bare point, the form the contract writes.
func plainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasPoint := strings.Cut(s, ".")
	return digits(intPart) && (!hasPoint || digits(frac))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isNumber(tok json.Token) bool { _, ok := tok.(json.Number); return ok }

// skip consumes one whole value.
func (w *walker) skip() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return w.skipRest()
	}
	return nil
}

// skipRest consumes the rest of an object or array whose opening
// delimiter was read, iteratively (no recursion on hostile nesting).
func (w *walker) skipRest() error {
	for depth := 1; depth > 0; {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
	}
	return nil
}

// escapeToken escapes one JSON pointer reference token (RFC 6901).
func escapeToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Pointer turns a field path of the canonical order's validation
// ("lines[2].quantity", "parties[0].address.country") into a JSON pointer
// ("/lines/2/quantity"). The empty path is the whole document, "".
func Pointer(path string) string {
	if path == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(path) + 4)
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			b.WriteByte('/')
			b.WriteString(escapeToken(name))
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				b.WriteByte('/')
				b.WriteString(escapeToken(rest))
				break
			}
			b.WriteByte('/')
			b.WriteString(escapeToken(idx))
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return b.String()
}
