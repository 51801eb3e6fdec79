package capture

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// Locale is how a sender writes numbers: "de" (1.260,00), "en"
// (1,260.00) or "" (guess from the number, then from the document).
type Locale string

// The locales the parser knows.
const (
	LocaleAuto Locale = ""
	LocaleDE   Locale = "de"
	LocaleEN   Locale = "en"
)

// DateOrder is the order of day, month and year in numeric dates with
// slashes or dots: "DMY" (01.02.2025 is 1 February), "MDY", "YMD".
type DateOrder string

// The date orders.
const (
	DMY DateOrder = "DMY"
	MDY DateOrder = "MDY"
	YMD DateOrder = "YMD"
)

// slips maps characters OCR commonly reads instead of digits.
var slips = map[rune]rune{'O': '0', 'o': '0', 'D': '0', 'Q': '0', 'l': '1', 'I': '1', 'i': '1', '|': '1', '!': '1',
	'S': '5', 's': '5', 'B': '8', 'Z': '2', 'z': '2', 'G': '6', 'g': '9', 'q': '9', 'T': '7'}

// digitsRepaired replaces OCR slips in a token that should be numeric and
// says how many characters it changed. Tokens with more letters than
// digits are returned unchanged (they are words, not misread numbers).
func digitsRepaired(s string) (string, int) {
	letters, digits := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case unicode.IsLetter(r) || r == '|' || r == '!':
			letters++
		}
	}
	if letters == 0 || letters > digits {
		return s, 0
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if d, ok := slips[r]; ok {
			b.WriteRune(d)
			n++
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), n
}

// Number is a parsed amount or quantity.
type Number struct {
	Value decimal.Decimal
	// Ambiguous: the separators allowed two readings (1.260 in an unknown
	// locale) and Locale decided.
	Ambiguous bool
	// Repaired counts characters replaced as OCR slips.
	Repaired int
}

// ParseNumber reads a number written in locale: "1.260,00", "1,260.00",
// "12,50", "12.5", "1 260,00", "€ 12,50", "12,-". Currency signs and codes
// are ignored. In LocaleAuto a single separator followed by exactly three
// digits is read as a thousands separator and reported Ambiguous.
func ParseNumber(s string, loc Locale) (Number, bool) {
	s = strings.TrimSpace(s)
	for _, c := range []string{"EUR", "USD", "GBP", "CHF", "€", "$", "£"} {
		s = strings.ReplaceAll(s, c, "")
	}
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ",-")
	s = strings.TrimSuffix(s, ".-")
	s = strings.TrimSuffix(s, "-")
	if s == "" {
		return Number{}, false
	}
	var rep int
	s, rep = digitsRepaired(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	s = strings.ReplaceAll(s, " ", "")
	s = strings.ReplaceAll(s, "'", "")
	s = strings.ReplaceAll(s, "\u00a0", "")
	if s == "" {
		return Number{}, false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || r == ',') {
			return Number{}, false
		}
	}
	if s[0] < '0' || s[0] > '9' || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return Number{}, false
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	var dec byte // the decimal mark, 0 for none
	ambiguous := false
	switch {
	case lastDot >= 0 && lastComma >= 0:
		if lastDot > lastComma {
			dec = '.'
		} else {
			dec = ','
		}
	case lastDot >= 0 || lastComma >= 0:
		sep := byte('.')
		at := lastDot
		if lastComma >= 0 {
			sep, at = ',', lastComma
		}
		many := strings.Count(s, string(sep)) > 1
		after := len(s) - at - 1
		switch {
		case many:
			dec = 0 // 1.260.000: thousands only
		case after != 3:
			dec = sep
		default:
			switch loc {
			case LocaleDE:
				if sep == ',' {
					dec = ','
				}
			case LocaleEN:
				if sep == '.' {
					dec = '.'
				}
			default:
				ambiguous = true
			}
		}
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == dec:
			b.WriteByte('.')
		}
	}
	// Thousands groups must have three digits.
	if dec != 0 {
		intPart := s[:strings.LastIndexByte(s, dec)]
		if !groupsOK(intPart, dec) {
			return Number{}, false
		}
	} else if !groupsOK(s, 0) {
		return Number{}, false
	}
	v, err := decimal.Parse(b.String())
	if err != nil {
		return Number{}, false
	}
	return Number{Value: v, Ambiguous: ambiguous, Repaired: rep}, true
}

// groupsOK checks that every thousands group after the first has three
// digits.
func groupsOK(s string, dec byte) bool {
	seps := func(r rune) bool { return (r == '.' || r == ',') && byte(r) != dec }
	parts := strings.FieldsFunc(s, seps)
	if len(parts) <= 1 {
		return !strings.ContainsAny(s, ".,") || len(parts) == 1 && len(s) == len(parts[0])
	}
	for i, p := range parts {
		if i == 0 && (len(p) < 1 || len(p) > 3) || i > 0 && len(p) != 3 {
			return false
		}
	}
	return true
}

var monthNames = map[string]time.Month{
	"jan": 1, "januar": 1, "january": 1, "jän": 1, "feb": 2, "februar": 2, "february": 2, "mar": 3, "mär": 3, "märz": 3, "maerz": 3, "march": 3,
	"apr": 4, "april": 4, "mai": 5, "may": 5, "jun": 6, "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7,
	"aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10, "oct": 10, "oktober": 10, "october": 10,
	"nov": 11, "november": 11, "dez": 12, "dec": 12, "dezember": 12, "december": 12,
}

// DateValue is a parsed date.
type DateValue struct {
	Date      order.Date
	Ambiguous bool // day and month could be swapped and the order decided
	Repaired  int
}

// ParseDate reads a date: 01.02.2025, 1.2.25, 2025-02-01, 01/02/2025 (in
// the given order, DMY when empty), 1. Februar 2025, February 1, 2025,
// 1 Feb 2025.
func ParseDate(s string, ord DateOrder) (DateValue, bool) {
	s = strings.TrimSpace(strings.TrimRight(s, ".,;"))
	if s == "" {
		return DateValue{}, false
	}
	if v, ok := parseNamedMonth(s); ok {
		return v, true
	}
	t, rep := digitsRepaired(strings.ReplaceAll(s, " ", ""))
	var sep byte
	for _, c := range []byte{'.', '/', '-'} {
		if strings.Count(t, string(c)) == 2 {
			sep = c
			break
		}
	}
	if sep == 0 {
		return DateValue{}, false
	}
	parts := strings.Split(t, string(sep))
	nums := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || p == "" || len(p) > 4 {
			return DateValue{}, false
		}
		nums[i] = n
	}
	var y, m, d int
	amb := false
	switch {
	case len(parts[0]) == 4:
		y, m, d = nums[0], nums[1], nums[2]
	case len(parts[2]) == 4 || len(parts[2]) == 2:
		y = nums[2]
		if len(parts[2]) == 2 {
			y += 2000
		}
		a, b := nums[0], nums[1]
		o := ord
		if sep == '.' || o == "" || o == YMD {
			o = DMY
		}
		switch {
		case a > 12 && b <= 12:
			d, m = a, b
		case b > 12 && a <= 12:
			m, d = a, b
		case o == MDY:
			m, d = a, b
		default:
			d, m = a, b
			// Slashes without a profile: 03/04 is March in America.
			amb = a != b && sep == '/' && ord == ""
		}
	default:
		return DateValue{}, false
	}
	dt, err := order.NewDate(y, time.Month(m), d)
	if err != nil {
		return DateValue{}, false
	}
	return DateValue{Date: dt, Ambiguous: amb, Repaired: rep}, true
}

func parseNamedMonth(s string) (DateValue, bool) {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == ',' || r == '.' })
	if len(f) != 3 {
		return DateValue{}, false
	}
	var d, y int
	var m time.Month
	if mm, ok := monthNames[f[1]]; ok { // 1. Februar 2025, 1 Feb 2025
		m = mm
		d, _ = strconv.Atoi(f[0])
		y, _ = strconv.Atoi(f[2])
	} else if mm, ok := monthNames[f[0]]; ok { // February 1, 2025
		m = mm
		d, _ = strconv.Atoi(f[1])
		y, _ = strconv.Atoi(f[2])
	} else {
		return DateValue{}, false
	}
	dt, err := order.NewDate(y, m, d)
	if err != nil {
		return DateValue{}, false
	}
	return DateValue{Date: dt}, true
}
