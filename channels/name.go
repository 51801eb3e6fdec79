package channels

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes is the longest name SanitizeName returns, the limit of
// common file systems for one path element.
const maxNameBytes = 255

// SanitizeName turns a name as a sender gave it (a remote file name, a MIME
// attachment filename) into one safe path element: invalid UTF-8, control
// characters and path separators become '_', leading and trailing spaces
// and dots are trimmed, the result is at most 255 bytes, and an empty or
// "."/".." result becomes "document". Spaces and other Unicode letters are
// kept.
func SanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || unicode.IsControl(r) || r == utf8.RuneError {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if len(name) > maxNameBytes {
		cut := maxNameBytes
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	if name == "" {
		return "document"
	}
	return name
}

// CheckName returns an error wrapping ErrInvalidName unless name is one safe
// path element: what SanitizeName would return unchanged, not a dot-file
// and not ending in ".part" or ".tmp" (names partners ignore as
// incomplete).
func CheckName(name string) error {
	switch {
	case name == "", SanitizeName(name) != name, !filepath.IsLocal(name):
	case strings.HasPrefix(name, "."):
	case strings.HasSuffix(name, ".part"), strings.HasSuffix(name, ".tmp"):
	default:
		return nil
	}
	return fmt.Errorf("%q: %w", name, ErrInvalidName)
}
