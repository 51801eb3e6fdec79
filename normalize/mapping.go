package normalize

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/normalize/order"
)

// ErrNotAnOrder is returned for a message that is not a purchase order
// (an 810 invoice, an INVOIC): it is valid EDI, but not ours to map.
var ErrNotAnOrder = errors.New("not a purchase order")

// MappingError is a value the mapper could not use, with its position.
// Its message has the same shape as the engines' syntax errors:
// "segment N (TAG) element M: message".
type MappingError struct {
	Pos       edi.Position
	Tag       string
	Element   int // 1-based data element; 0 for the segment as a whole
	Component int // 1-based component; 0 for the element as a whole
	Err       error
}

func (e *MappingError) Error() string {
	return edi.Where(e.Pos.Index, e.Tag, e.Element, e.Component) + ": " + e.Err.Error()
}

func (e *MappingError) Unwrap() error { return e.Err }

// Message maps any supported purchase order message to the canonical
// order: X12 850 and EDIFACT ORDERS. Other message types give
// ErrNotAnOrder. file is recorded as source.file.
func Message(m *edi.Message, file string) (*order.Order, error) {
	switch {
	case m.Standard == edi.X12 && m.Type == "850":
		return FromX12850(m, file)
	case m.Standard == edi.EDIFACT && m.Type == "ORDERS":
		return FromEDIFACTOrders(m, file)
	default:
		return nil, fmt.Errorf("%s %s: %w", m.Standard, m.Type, ErrNotAnOrder)
	}
}

// ParseDecimal reads a numeric EDI value with the sender's decimal mark
// ('.' or ','), a leading sign and no thousands separators, exactly. A
// value that starts or ends with the mark ("5." or ".5") is read as X12
// and EDIFACT allow it.
func ParseDecimal(s string, mark byte) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, errors.New("empty number")
	}
	if mark != '.' {
		if strings.IndexByte(s, '.') >= 0 {
			return decimal.Decimal{}, fmt.Errorf("%q uses '.' where the decimal mark is %q", s, mark)
		}
		s = strings.Replace(s, string(mark), ".", 1)
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || strings.Trim(body, "0123456789.") != "" || strings.Count(body, ".") > 1 {
		return decimal.Decimal{}, fmt.Errorf("%q is not a number", s)
	}
	if strings.HasPrefix(body, ".") {
		s = s[:len(s)-len(body)] + "0" + body
	}
	s = strings.TrimSuffix(s, ".")
	d, err := decimal.Parse(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a number", s)
	}
	return d, nil
}

// parseDecimal is ParseDecimal with a fast path for the common case: an
// optional minus sign and at most 18 digits with at most one decimal
// mark between digits. Anything else goes to ParseDecimal, so results and
// errors are the same.
func parseDecimal(s string, mark byte) (decimal.Decimal, error) {
	body := s
	neg := false
	if len(body) > 0 && body[0] == '-' {
		neg, body = true, body[1:]
	}
	if mark != '.' && mark != ',' || len(body) == 0 || len(body) > 19 || body[0] == mark || body[len(body)-1] == mark {
		return ParseDecimal(s, mark)
	}
	var coef int64
	digits, scale, marks := 0, 0, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
			if marks > 0 {
				scale++
			}
		case c == mark && marks == 0:
			marks++
		default:
			return ParseDecimal(s, mark)
		}
	}
	if digits > 18 || neg && coef == 0 {
		return ParseDecimal(s, mark)
	}
	if neg {
		coef = -coef
	}
	d, err := decimal.New(coef, scale)
	if err != nil {
		return ParseDecimal(s, mark)
	}
	return d, nil
}

// ImpliedDecimal reads an X12 Nn value: an integer with n implied decimal
// places ("1250" as N2 is 12.50).
func ImpliedDecimal(s string, places int) (decimal.Decimal, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not an integer with %d implied decimals", s, places)
	}
	d, err := decimal.New(v, places)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q with %d implied decimals: %w", s, places, err)
	}
	return d, nil
}

// indexText appends segment indexes in decimal. It keeps the text of the
// last one, so that the next (index+1, the usual case: a mapper formats
// each segment's index once, in order) is a textual increment instead of
// a conversion.
type indexText struct {
	ok  bool // buf[lo:] is the text of n
	n   int
	lo  int
	buf [20]byte
}

func (t *indexText) append(b []byte, n int) []byte {
	if t.ok && n == t.n+1 && n > 0 {
		i := len(t.buf) - 1
		for i >= t.lo && t.buf[i] == '9' {
			t.buf[i] = '0'
			i--
		}
		if i < t.lo {
			t.lo--
			t.buf[t.lo] = '1'
		} else {
			t.buf[i]++
		}
		t.n = n
		return append(b, t.buf[t.lo:]...)
	}
	if n < 0 {
		t.ok = false
		return strconv.AppendInt(b, int64(n), 10)
	}
	i := len(t.buf)
	for v := n; ; {
		q := v / 10
		i--
		t.buf[i] = byte('0' + v - q*10)
		if v = q; v == 0 {
			break
		}
	}
	t.ok, t.n, t.lo = true, n, i
	return append(b, t.buf[i:]...)
}

// trimSpace is strings.TrimSpace with a check first: a value that starts
// and ends with a printable ASCII byte other than space, as most do, is
// returned as it is.
func trimSpace(v string) string {
	if v == "" || v[0] > ' ' && v[0] < 0x7F && v[len(v)-1] > ' ' && v[len(v)-1] < 0x7F {
		return v
	}
	return strings.TrimSpace(v)
}
