package order

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

// randomFill sets every exported field of v, recursively, to random
// values: lists and maps nil, empty or not, strings with the characters
// JSON escapes or replaces. It fills the fields an order gains later too,
// so that Decoded's test covers them.
type randomFill struct {
	r *rand.Rand
}

var (
	fillStrings  = []string{"", "a", "PO-4711", "lines[0].sku", "<b> & \"c\"", "é", "\u2028", "\ufffd", "x\ny", "\x00"}
	fillRare     = []string{"\\ufffd", "a\xffb", "\xed\xa0\x80", "\xe2\x82"}
	fillDecimals = []string{"0", "1", "12.50", "-3.000", "1234567.891", "0.00", "99999.9999"}
	fillFloats   = []float64{0, 0.5, -1.25, 1e-7, 123456.789, 0.1}
	decimalType  = reflect.TypeFor[decimal.Decimal]()
	dateType     = reflect.TypeFor[Date]()
)

func (f randomFill) value(v reflect.Value, depth int) {
	switch v.Type() {
	case decimalType:
		v.Set(reflect.ValueOf(decimal.MustParse(fillDecimals[f.r.IntN(len(fillDecimals))])))
		return
	case dateType:
		if f.r.IntN(3) > 0 {
			v.Set(reflect.ValueOf(Date{2000 + f.r.IntN(30), time.Month(1 + f.r.IntN(12)), 1 + f.r.IntN(28)}))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := fillStrings[f.r.IntN(len(fillStrings))]
		if f.r.IntN(3000) == 0 {
			s = fillRare[f.r.IntN(len(fillRare))]
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(f.r.IntN(100)))
	case reflect.Float64:
		v.SetFloat(fillFloats[f.r.IntN(len(fillFloats))])
	case reflect.Pointer:
		if depth > 0 && f.r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			f.value(p.Elem(), depth-1)
			v.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.value(v.Field(i), depth)
			}
		}
	case reflect.Slice:
		switch k := f.r.IntN(600); {
		case k < 200 || depth == 0:
		case k == 200:
			v.Set(reflect.MakeSlice(v.Type(), 0, 1))
		default:
			s := reflect.MakeSlice(v.Type(), 1+f.r.IntN(4), 4)
			for i := range s.Len() {
				f.value(s.Index(i), depth-1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch k := f.r.IntN(600); {
		case k < 200 || depth == 0:
		case k == 200:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + f.r.IntN(3) {
				key, elem := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				f.value(key, depth-1)
				f.value(elem, depth-1)
				m.SetMapIndex(key, elem)
			}
			v.Set(m)
		}
	default:
		panic("randomFill: no values for " + v.Type().String())
	}
}

// checkDecoding runs decode on n random orders with every field set
// (nil, empty, not; now and then with a bad byte when badBytes) and
// checks it against decoding their JSON, and that it leaves the order's
// provenance as it was; it returns how many orders took decode's copying
// path (no empty list, no bad byte).
func checkDecoding(t *testing.T, seed uint64, n int, badBytes bool, decode func(o *Order, data []byte) (*Order, error)) (copied int) {
	t.Helper()
	f := randomFill{rand.New(rand.NewPCG(seed, seed+1))}
	for i := range n {
		var o Order
		f.value(reflect.ValueOf(&o).Elem(), 4)
		if badBytes && i%50 == 0 {
			o.PONumber = "PO\xff"
		}
		data, err := json.Marshal(&o)
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		var want Order
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("order %d: %v\n%s", i, err, data)
		}
		prov := slices.Clone(o.Provenance)
		got, err := decode(&o, data)
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("order %d: decoded\n%#v\nwant (json.Unmarshal)\n%#v\nJSON %s", i, got, &want, data)
		}
		if !reflect.DeepEqual(o.Provenance, prov) {
			t.Fatalf("order %d: decoding changed the order's provenance", i)
		}
		if !o.omitsEmpty() && !bytes.Contains(data, []byte(`\ufffd`)) {
			copied++
		}
	}
	return copied
}

// TestDecoded checks Decoded against decoding the JSON.
func TestDecoded(t *testing.T) {
	const n = 3000
	copied := checkDecoding(t, 1, n, false, Decoded)
	if copied < n/10 {
		t.Errorf("%d of %d orders took the copying path; the test does not exercise it", copied, n)
	}
	t.Logf("%d of %d orders copied, the others decoded", copied, n)
}

// TestDecodedCopy checks DecodedCopy, which gets no JSON, the same way.
func TestDecodedCopy(t *testing.T) {
	const n = 3000
	copied := checkDecoding(t, 3, n, true, func(o *Order, _ []byte) (*Order, error) { return DecodedCopy(o) })
	if copied < n/10 {
		t.Errorf("%d of %d orders took the copying path; the test does not exercise it", copied, n)
	}
}

// slotFill fills every field of v, recursively: a list or map with one
// element, every pointer set, and each string "x" but the string numbered
// bad (in the order the fill meets them), which gets a byte that is not
// UTF-8. It returns how many strings it met.
func slotFill(v reflect.Value, bad int, seen *int) {
	switch v.Type() {
	case decimalType:
		v.Set(reflect.ValueOf(decimal.MustParse("1.5")))
		return
	case dateType:
		v.Set(reflect.ValueOf(Date{2026, time.March, 4}))
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := "x"
		if *seen == bad {
			s = "a\xffb"
		}
		*seen++
		v.SetString(s)
	case reflect.Bool, reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		slotFill(p.Elem(), bad, seen)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				slotFill(v.Field(i), bad, seen)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		slotFill(s.Index(0), bad, seen)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		key, elem := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		slotFill(key, bad, seen)
		slotFill(elem, bad, seen)
		m.SetMapIndex(key, elem)
		v.Set(m)
	default:
		panic("slotFill: no values for " + v.Type().String())
	}
}

// TestValidUTF8EveryString sets each string of an order (fields, list
// elements, map keys), one at a time, to a bad byte: validUTF8 must see
// it, as the JSON does.
func TestValidUTF8EveryString(t *testing.T) {
	var good Order
	n := 0
	slotFill(reflect.ValueOf(&good).Elem(), -1, &n)
	if !good.validUTF8() {
		t.Fatal("validUTF8 = false for an order of valid strings")
	}
	if n < 50 {
		t.Fatalf("the fill met %d strings; the order has more", n)
	}
	for bad := range n {
		var o Order
		seen := 0
		slotFill(reflect.ValueOf(&o).Elem(), bad, &seen)
		data, err := Marshal(&o)
		if err != nil {
			t.Fatalf("string %d: %v", bad, err)
		}
		if !bytes.Contains(data, []byte(`\ufffd`)) {
			t.Fatalf("string %d: the JSON has no U+FFFD for the bad byte: %s", bad, data)
		}
		if o.validUTF8() {
			t.Errorf("string %d: validUTF8 = true; the JSON replaced a bad byte there: %s", bad, data)
		}
	}
}
