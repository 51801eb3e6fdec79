package x12

import (
	"fmt"
	"unicode/utf8"
)

// Delimiters are the separators of one interchange. A reader takes them
// from each ISA segment; a writer is given them per partner.
type Delimiters struct {
	Element   byte // ISA byte 3
	Component byte // ISA16
	// Repetition is ISA11 from version 00402 on; 0 when the interchange
	// has none (ISA11 is then the standards identifier "U").
	Repetition byte
	// Segment is the segment terminator: usually one byte ("~", "\n", NAK
	// 0x15), possibly a multi-byte UTF-8 character (U+2026 "…" occurs).
	Segment string
	// Suffix is written after each terminator by a Writer ("\n" or
	// "\r\n" for readability); a reader skips such white space.
	Suffix string
}

// DefaultDelimiters are the separators the gateway writes when a partner
// has no others configured: * > ^ ~ and a line break after each segment.
var DefaultDelimiters = Delimiters{Element: '*', Component: '>', Repetition: '^', Segment: "~", Suffix: "\n"}

// Validate checks that the delimiters can delimit: each present, none a
// letter or digit or space, all different.
func (d Delimiters) Validate() error {
	if d.Segment == "" {
		return fmt.Errorf("segment terminator is missing")
	}
	if r, n := utf8.DecodeRuneInString(d.Segment); n != len(d.Segment) && len(d.Segment) > 1 || r == utf8.RuneError && len(d.Segment) > 1 {
		return fmt.Errorf("segment terminator %q is not one character", d.Segment)
	}
	check := func(name string, c byte) error {
		if c == 0 {
			return fmt.Errorf("%s separator is missing", name)
		}
		if isAlnum(c) || c == ' ' {
			return fmt.Errorf("%s separator %q is a letter, digit or space", name, c)
		}
		return nil
	}
	if err := check("element", d.Element); err != nil {
		return err
	}
	if err := check("component", d.Component); err != nil {
		return err
	}
	if d.Repetition != 0 {
		if err := check("repetition", d.Repetition); err != nil {
			return err
		}
	}
	if len(d.Segment) == 1 {
		if err := check("segment", d.Segment[0]); err != nil {
			return err
		}
	}
	seps := []byte{d.Element, d.Component}
	if d.Repetition != 0 {
		seps = append(seps, d.Repetition)
	}
	if len(d.Segment) == 1 {
		seps = append(seps, d.Segment[0])
	}
	for i := range seps {
		for j := i + 1; j < len(seps); j++ {
			if seps[i] == seps[j] {
				return fmt.Errorf("separator %q is used twice", seps[i])
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isLineBreak(c byte) bool { return c == '\n' || c == '\r' }
