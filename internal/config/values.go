package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/govalues/decimal"
)

// ByteSize is a number of bytes. In YAML it is an integer or a string with
// a unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024),
// e.g. "10MiB" or "25 MiB".
type ByteSize int64

var byteUnits = []struct {
	suffix string
	factor int64
}{
	// Longest suffixes first so that "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// ParseByteSize reads a size such as "512", "64KiB" or "10 MiB".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a size: write a whole number of bytes or a number with a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. 10MiB")
	}
	if n > 0 && factor > (1<<63-1)/n {
		return 0, errors.New("size too large")
	}
	return ByteSize(n * factor), nil
}

// String prints the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.factor == 0 {
			return strconv.FormatInt(int64(b)/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// Percent is an exact percentage such as "0.5%".
type Percent struct {
	value decimal.Decimal // in percent: 0.5 for "0.5%"
	set   bool
}

// ParsePercent reads an exact percentage: a decimal number followed by %,
// between 0% and 100%.
func ParsePercent(s string) (Percent, error) {
	t, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return Percent{}, errors.New(`not a percentage: write a decimal number followed by %, e.g. "0.5%"`)
	}
	d, err := decimal.Parse(strings.TrimSpace(t))
	if err != nil {
		return Percent{}, errors.New(`not a percentage: write a decimal number followed by %, e.g. "0.5%"`)
	}
	if d.IsNeg() || d.Cmp(decimal.Hundred) > 0 {
		return Percent{}, errors.New("a percentage must be between 0% and 100%")
	}
	return Percent{value: d, set: true}, nil
}

// IsSet reports whether the percentage was given.
func (p Percent) IsSet() bool { return p.set }

// Percent returns the value in percent: 0.5 for "0.5%".
func (p Percent) Percent() decimal.Decimal { return p.value }

// Fraction returns the value as a fraction: 0.005 for "0.5%".
func (p Percent) Fraction() decimal.Decimal {
	f, err := p.value.Quo(decimal.Hundred)
	if err != nil { // cannot happen: the divisor is not zero and 0 <= value <= 100
		return decimal.Zero
	}
	return f
}

// String prints the percentage as written, e.g. "0.5%"; "" when unset.
func (p Percent) String() string {
	if !p.set {
		return ""
	}
	return p.value.String() + "%"
}

// valueError is a decoding problem whose message is fit for a Problem: it
// says what is expected and never repeats the value.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	percentType  = reflect.TypeFor[Percent]()
)

// decodeHook converts YAML scalars into durations, sizes and percentages.
// A duration must have a unit (a bare 5 would be 5ns); only 0 may go without.
func decodeHook(_, to reflect.Type, data any) (any, error) {
	switch to {
	case durationType:
		switch v := data.(type) {
		case string:
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return nil, &valueError{"not a duration: write a number with a unit, e.g. 200ms, 10s, 1m, 720h"}
			}
			return d, nil
		case int, int64, uint64, float64:
			if reflect.ValueOf(v).IsZero() {
				return time.Duration(0), nil
			}
			return nil, &valueError{"a duration needs a unit, e.g. 200ms, 10s, 1m, 720h"}
		}
	case byteSizeType:
		switch v := data.(type) {
		case string:
			b, err := ParseByteSize(v)
			if err != nil {
				return nil, &valueError{err.Error()}
			}
			return b, nil
		case float64:
			return nil, &valueError{"a size is a whole number of bytes or a number with a unit, e.g. 10MiB"}
		case int, int64, uint64:
			if reflect.ValueOf(v).Int() < 0 {
				return nil, &valueError{"a size cannot be negative"}
			}
		}
	case percentType:
		if s, ok := data.(string); ok {
			p, err := ParsePercent(s)
			if err != nil {
				return nil, &valueError{err.Error()}
			}
			return p, nil
		}
		return nil, &valueError{`write the percentage as a quoted string with %, e.g. "0.5%"`}
	}
	return data, nil
}

// kindName describes a Go type to someone writing YAML.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	}
	return fmt.Sprint(t)
}
