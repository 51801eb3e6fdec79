package edifact

import (
	"fmt"
)

// Separators are the service characters of an interchange, as a UNA
// service string advice declares them. Release and Repetition are 0 when
// the interchange has none (a space in the UNA).
type Separators struct {
	Component  byte // default ':'
	Element    byte // default '+'
	Decimal    byte // decimal mark, '.' or ','
	Release    byte // default '?'; 0 for none
	Repetition byte // syntax 4 only, '*' by default there; 0 for none
	Terminator byte // default '\''
}

// DefaultSeparators are the level A service characters that apply without
// a UNA in syntax versions 1 to 3 ("UNA:+.? '"). Syntax version 4 adds the
// repetition separator '*'.
var DefaultSeparators = Separators{Component: ':', Element: '+', Decimal: '.', Release: '?', Repetition: 0, Terminator: '\''}

// defaultsFor returns the separators that apply without a UNA in the given
// syntax version ("1".."4").
func defaultsFor(version string) Separators {
	s := DefaultSeparators
	if version == "4" {
		s.Repetition = '*'
	}
	return s
}

// ParseUNA reads a service string advice: "UNA" followed by exactly six
// characters (component, element, decimal mark, release, repetition or
// space, terminator).
func ParseUNA(una []byte) (Separators, error) {
	if len(una) != 9 || string(una[:3]) != "UNA" {
		return Separators{}, fmt.Errorf("service string advice %q is not UNA and six characters", una)
	}
	s := Separators{Component: una[3], Element: una[4], Decimal: una[5], Release: una[6], Repetition: una[7], Terminator: una[8]}
	if s.Release == ' ' {
		s.Release = 0
	}
	if s.Repetition == ' ' {
		s.Repetition = 0
	}
	if err := s.Validate(); err != nil {
		return Separators{}, err
	}
	return s, nil
}

// Validate checks that the separators can delimit an interchange: present,
// distinct, neither letters, digits nor space, and a decimal mark of '.' or
// ','.
func (s Separators) Validate() error {
	if s.Decimal != '.' && s.Decimal != ',' {
		return fmt.Errorf("decimal mark %q is neither '.' nor ','", s.Decimal)
	}
	used := []struct {
		name string
		c    byte
	}{{"component separator", s.Component}, {"element separator", s.Element}, {"release character", s.Release},
		{"repetition separator", s.Repetition}, {"segment terminator", s.Terminator}}
	for i, u := range used {
		if u.c == 0 && (u.name == "release character" || u.name == "repetition separator") {
			continue
		}
		if u.c == 0 || u.c == ' ' || isAlnum(u.c) || u.c >= 0x80 {
			return fmt.Errorf("%s %q cannot be a service character", u.name, u.c)
		}
		for _, v := range used[i+1:] {
			if v.c == u.c {
				return fmt.Errorf("%s and %s are both %q", u.name, v.name, u.c)
			}
		}
	}
	return nil
}

// UNA renders the service string advice, e.g. "UNA:+.? '".
func (s Separators) UNA() string {
	rel, rep := s.Release, s.Repetition
	if rel == 0 {
		rel = ' '
	}
	if rep == 0 {
		rep = ' '
	}
	return string([]byte{'U', 'N', 'A', s.Component, s.Element, s.Decimal, rel, rep, s.Terminator})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
