package config

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a config file, at a YAML path such as
// "channels[1].known_hosts". Line is 0 when it is not known (a Config built
// in Go, or a key that is missing from a mapping that is itself missing).
type Problem struct {
	File string
	Line int
	Path string
	Msg  string
}

// String formats the problem as "file:line: path: msg".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error makes a Problem an error; it is the same text as String.
func (p Problem) Error() string { return p.String() }

// joinProblems returns the problems as one error (nil for none); each part
// is a Problem, so errors.As finds the first and Unwrap() []error all.
func joinProblems(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// source knows where each key of a file is and which keys were written.
type source struct {
	file string
	// lines maps a lower-case path ("channels[1].host", "partners[0]") to
	// the line of its key, or of the item for list elements.
	lines map[string]int
	// keys maps the path of a mapping to its keys in file order, with
	// their original spelling.
	keys map[string][]string
}

func newSource(file string) *source {
	return &source{file: file, lines: map[string]int{}, keys: map[string][]string{}}
}

// index records every key and list item under n, which is at path.
func (s *source) index(path string, n *yaml.Node) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			s.index(path, c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // merge key: the merged keys belong here
				s.index(path, v)
				continue
			}
			p := join(path, strings.ToLower(k.Value))
			if _, seen := s.lines[p]; !seen {
				s.lines[p] = k.Line
				s.keys[path] = append(s.keys[path], k.Value)
			}
			s.index(p, v)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if _, seen := s.lines[p]; !seen {
				s.lines[p] = c.Line
			}
			s.index(p, c)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// has reports whether the key at path was written in the file. With no
// source (a Config built in Go) nothing counts as written.
func (s *source) has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.lines[strings.ToLower(path)]
	return ok
}

// line returns the line of path, or of its closest ancestor in the file.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	p := strings.ToLower(path)
	for p != "" {
		if l, ok := s.lines[p]; ok {
			return l
		}
		p = parent(p)
	}
	return 0
}

// keysOf returns the keys written in the mapping at path, in file order.
func (s *source) keysOf(path string) []string {
	if s == nil {
		return nil
	}
	return s.keys[strings.ToLower(path)]
}

// parent strips the last ".key" or "[i]" from path.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// problem builds a Problem at path with the line from s.
func (s *source) problem(path, format string, args ...any) Problem {
	p := Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
	if s != nil {
		p.File, p.Line = s.file, s.line(path)
	}
	return p
}

// yamlLineRE finds the line in go.yaml.in/yaml/v3 syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblems turns a YAML parse error into positioned problems.
func syntaxProblems(file string, err error) []Problem {
	var ps []Problem
	for _, msg := range strings.Split(err.Error(), "\n") {
		msg = strings.TrimSpace(msg)
		if msg == "" || msg == "yaml: unmarshal errors:" {
			continue
		}
		p := Problem{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
		} else if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, after, ok := strings.Cut(rest, ": "); ok {
				p.Line, _ = strconv.Atoi(n)
				p.Msg = after
			}
		}
		p.Msg = "invalid YAML: " + p.Msg
		ps = append(ps, p)
	}
	return ps
}

// sortProblems orders problems by line and path, and drops repeats.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
	})
	return slices.Compact(ps)
}
