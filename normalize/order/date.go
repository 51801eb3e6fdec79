package order

import (
	"fmt"
	"time"
)

// Date is a calendar date without time zone. The zero Date is "no date" and
// is omitted from JSON by the omitzero option.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, checking that it exists in the calendar.
func NewDate(year int, month time.Month, day int) (Date, error) {
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if t.Year() != year || t.Month() != month || t.Day() != day || year < 1 || year > 9999 {
		return Date{}, fmt.Errorf("%04d-%02d-%02d is not a calendar date", year, int(month), day)
	}
	return Date{year, month, day}, nil
}

// ParseDate reads a date written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	y, ok1 := atoi(s[0:4])
	m, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return NewDate(y, time.Month(m), d)
}

// ParseCompactDate reads CCYYMMDD, or YYMMDD with the century chosen so
// that the year falls within 50 years before and after pivot's year (the
// X12 rule for 6-digit dates).
func ParseCompactDate(s string, pivot time.Time) (Date, error) {
	switch len(s) {
	case 8:
		y, ok1 := atoi(s[0:4])
		m, ok2 := atoi(s[4:6])
		d, ok3 := atoi(s[6:8])
		if ok1 && ok2 && ok3 {
			return NewDate(y, time.Month(m), d)
		}
	case 6:
		yy, ok1 := atoi(s[0:2])
		m, ok2 := atoi(s[2:4])
		d, ok3 := atoi(s[4:6])
		if ok1 && ok2 && ok3 {
			century := pivot.Year() / 100 * 100
			y := century + yy
			if y > pivot.Year()+50 {
				y -= 100
			} else if y <= pivot.Year()-50 {
				y += 100
			}
			return NewDate(y, time.Month(m), d)
		}
	}
	return Date{}, fmt.Errorf("date %q is not CCYYMMDD or YYMMDD", s)
}

func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// String returns YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		*d = Date{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("date %s is not a JSON string", s)
	}
	v, err := ParseDate(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	*d = v
	return nil
}
