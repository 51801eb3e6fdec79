package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
)

// ErrNoSecret is returned by [SecretRef.Value] when the reference names
// neither an environment variable nor a file.
var ErrNoSecret = errors.New("no secret configured")

// envNameRE is what a portable environment variable name looks like.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// SecretRef says where a secret lives: an environment variable (Env) or a
// file (File), never the value itself. Key names the secret for messages,
// e.g. "password".
type SecretRef struct {
	Key  string
	Env  string
	File string
}

// IsZero reports whether the reference names nothing.
func (r SecretRef) IsZero() bool { return r.Env == "" && r.File == "" }

// String says where the secret is read from, e.g. "env:FAX_PASSWORD".
func (r SecretRef) String() string {
	switch {
	case r.Env != "":
		return "env:" + r.Env
	case r.File != "":
		return "file:" + r.File
	}
	return "none"
}

// Value reads the secret: the environment variable if Env is set (it must
// be set and not empty), else the file (its content with surrounding
// white space trimmed, which must not be empty). Errors name the variable
// or the file, never the value.
func (r SecretRef) Value() (Secret, error) {
	switch {
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok {
			return Secret{}, fmt.Errorf("reading %s: environment variable %s is not set", r.Key, r.Env)
		}
		if strings.TrimSpace(v) == "" {
			return Secret{}, fmt.Errorf("reading %s: environment variable %s is empty", r.Key, r.Env)
		}
		return Secret{value: v}, nil
	case r.File != "":
		b, err := os.ReadFile(r.File)
		if err != nil {
			return Secret{}, fmt.Errorf("reading %s: %w", r.Key, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return Secret{}, fmt.Errorf("reading %s: file %s is empty", r.Key, r.File)
		}
		return Secret{value: v}, nil
	}
	return Secret{}, fmt.Errorf("reading %s: %w", r.Key, ErrNoSecret)
}

// Secret holds a secret value read through a [SecretRef]. Every way of
// printing it (String, fmt verbs, JSON, text, slog) shows "[redacted]";
// only Reveal returns the value.
type Secret struct {
	value string
}

const redacted = "[redacted]"

// Reveal returns the secret value. Hand it to the client library that needs
// it; never log it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, %+v and %#v included.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", redacted)
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// MarshalJSON returns "[redacted]" as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue returns "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
