package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path, decodes it (unknown keys are errors),
// applies defaults and validates it. It does not look at the environment
// or at the files the config names: call [Config.Preflight] before
// serving. The error is either an I/O error or every [Problem], joined.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, ps := Parse(path, data)
	if len(ps) > 0 {
		return nil, joinProblems(ps)
	}
	return c, nil
}

// Check is `ordergate config check`: every problem of the file at path,
// sorted by line; none means the file is valid. A file that cannot be read
// is one problem.
func Check(path string) []Problem {
	data, err := os.ReadFile(path)
	if err != nil {
		return []Problem{{File: path, Msg: fmt.Sprintf("reading config: %v", err)}}
	}
	_, ps := Parse(path, data)
	return ps
}

// Parse decodes, defaults and validates a config held in memory (e.g. an
// embedded default); name is used as the file name in problems. The Config
// is nil only when the YAML itself cannot be parsed; with other problems
// it is returned as far as it could be decoded, for tools that want to
// show it, and must not be served.
func Parse(name string, data []byte) (*Config, []Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxProblems(name, err)
	}
	src := newSource(name)
	src.index("", &doc)
	if len(doc.Content) > 0 {
		if root := doc.Content[0]; root.Kind != yaml.MappingNode && !(root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
			return nil, []Problem{{File: name, Line: root.Line, Msg: "the config must be a YAML mapping (store:, http:, channels:, ...)"}}
		}
	}

	// Inline secrets first: their keys are unknown to the decoder too, but
	// the useful message is the one that says where the secret goes.
	ps := secretKeyProblems(src)
	reported := map[string]bool{}
	for _, p := range ps {
		reported[strings.ToLower(p.Path)] = true
	}

	c := &Config{}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, append(ps, Problem{File: name, Msg: fmt.Sprintf("reading YAML: %v", err)})
	}
	err := v.UnmarshalExact(c, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = decodeHook
		dc.WeaklyTypedInput = true
	})
	if err != nil {
		for _, p := range decodeProblems(src, err) {
			if !reported[strings.ToLower(p.Path)] {
				ps = append(ps, p)
				reported[strings.ToLower(p.Path)] = true
			}
		}
	}
	// The decoder does not see keys whose value is empty ({} or null);
	// every written key must still be a known one.
	for _, p := range unknownKeyProblems(src) {
		if !reported[strings.ToLower(p.Path)] {
			ps = append(ps, p)
			reported[strings.ToLower(p.Path)] = true
		}
	}
	c.src = src
	c.setDefaults()
	for _, p := range c.validate() {
		// A value that did not decode is zero now; what Validate says about
		// the zero value, or about keys under it, would only repeat the
		// decoding problem.
		if !underReported(reported, strings.ToLower(p.Path)) {
			ps = append(ps, p)
		}
	}
	return c, sortProblems(ps)
}

// underReported reports whether path or one of its ancestors already has
// a problem.
func underReported(reported map[string]bool, path string) bool {
	for p := path; p != ""; p = parent(p) {
		if reported[p] {
			return true
		}
	}
	return false
}

// decodeProblems turns the decoder's errors into positioned problems.
func decodeProblems(src *source, err error) []Problem {
	var ps []Problem
	var walk func(error)
	walk = func(e error) {
		var de *mapstructure.DecodeError
		switch u := e.(type) {
		case *mapstructure.DecodeError:
			de = u
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
			return
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x)
				return
			}
		}
		if de == nil {
			ps = append(ps, Problem{File: src.file, Msg: e.Error()})
			return
		}
		ps = append(ps, decodeErrorProblems(src, de)...)
	}
	walk(err)
	return ps
}

func decodeErrorProblems(src *source, de *mapstructure.DecodeError) []Problem {
	name, inner := de.Name(), de.Unwrap()
	if keys, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
		var ps []Problem
		for _, k := range strings.Split(keys, ", ") {
			path := join(name, k)
			msg := "unknown key"
			if s := suggest(k, keysOfType(name)); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			ps = append(ps, src.problem(path, "%s", msg))
		}
		return ps
	}
	var ve *valueError
	var pe *mapstructure.ParseError
	var ue *mapstructure.UnconvertibleTypeError
	switch {
	case errors.As(inner, &ve):
		return []Problem{src.problem(name, "%s", ve.msg)}
	case errors.As(inner, &pe):
		return []Problem{src.problem(name, "expected %s", kindName(pe.Expected.Type()))}
	case errors.As(inner, &ue):
		return []Problem{src.problem(name, "expected %s, got %s", kindName(ue.Expected.Type()), kindName(reflect.TypeOf(ue.Value)))}
	}
	msg := inner.Error()
	switch {
	case strings.HasPrefix(msg, "expected a map or struct"):
		msg = "expected a mapping (key: value)"
	case strings.HasPrefix(msg, "source data must be an array or slice"):
		msg = "expected a list"
	}
	return []Problem{src.problem(name, "%s", msg)}
}

// unknownKeyProblems reports keys written in the file that no struct of
// Config has at that place.
func unknownKeyProblems(src *source) []Problem {
	var ps []Problem
	for at, keys := range src.keys {
		known := keysOfType(at)
		if known == nil {
			continue // not a struct of Config (or under an unknown key)
		}
		for _, k := range keys {
			lk := strings.ToLower(k)
			if slices.Contains(known, lk) {
				continue
			}
			msg := "unknown key"
			if s := suggest(lk, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			ps = append(ps, src.problem(join(at, lk), "%s", msg))
		}
	}
	return ps
}

// keysOfType returns the YAML keys of the struct at path in Config.
func keysOfType(path string) []string {
	t := reflect.TypeFor[Config]()
	for _, part := range strings.Split(path, ".") {
		part, _, _ = strings.Cut(part, "[")
		if part == "" {
			continue
		}
		f, ok := fieldByKey(t, part)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Slice {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for f := range t.Fields() {
		if k := f.Tag.Get("mapstructure"); k != "" && f.IsExported() {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for f := range t.Fields() {
		if f.Tag.Get("mapstructure") == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// suggest returns the known key closest to k, if it is close enough to be
// a typo.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
