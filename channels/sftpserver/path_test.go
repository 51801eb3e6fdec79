package sftpserver

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		in      string
		wantRel string
		wantErr error
	}{
		{"/", ".", nil},
		{"", ".", nil},
		{".", ".", nil},
		{"//", ".", nil},
		{"/in", "in", nil},
		{"in", "in", nil},
		{"/out/", "out", nil},
		{"/in/po.edi", "in/po.edi", nil},
		{"in/./po.edi", "in/po.edi", nil},
		{"/out//997 März.x12", "out/997 März.x12", nil},
		{"/in/../out/x", "", errDenied},
		{"../other/in/x", "", errDenied},
		{"/in/..", "", errDenied},
		{"..", "", errDenied},
		{"/in/po\x00.edi", "", errDenied},
		{"/" + strings.Repeat("a", maxPathBytes), "", errDenied},
		{"/etc/passwd", "", errNoSuchFile},
		{"/other/in/x", "", errNoSuchFile},
		{"/in/.upload-ABC", "", errNoSuchFile},
		{"/in/.error", "", errNoSuchFile},
		{"/in/.error/x", "", errNoSuchFile},
		{"/in/sub/x", "", errNoSuchFile},
		{"/in/a\\..\\..\\x", "", errNoSuchFile},
		{"/IN/x", "", errNoSuchFile},
	}
	for _, tt := range tests {
		v, err := resolve(tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("resolve(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && v.rel() != tt.wantRel {
			t.Errorf("resolve(%q) = %q, want %q", tt.in, v.rel(), tt.wantRel)
		}
	}
}

// FuzzResolve checks that no request path resolves outside the user's
// folder, nor to anything but the tree's two folders and the visible files
// directly in them.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{"/", "/in/po.edi", "../x", "/in/../../etc/passwd", "in//.upload-x", "/out/a\x00b", "\\..\\x", "/out/.."} {
		f.Add(seed)
	}
	jail := filepath.FromSlash("/srv/sftp/nord")
	f.Fuzz(func(t *testing.T, p string) {
		v, err := resolve(p)
		if err != nil {
			if v != (vpath{}) {
				t.Fatalf("resolve(%q) = %+v with error %v", p, v, err)
			}
			return
		}
		rel := v.rel()
		if !filepath.IsLocal(rel) {
			t.Fatalf("resolve(%q) = %q, not local", p, rel)
		}
		full := filepath.Join(jail, rel)
		if full != jail && !strings.HasPrefix(full, jail+string(filepath.Separator)) {
			t.Fatalf("resolve(%q) = %q, outside the jail", p, full)
		}
		switch {
		case v.dir == "" && v.name == "":
		case (v.dir == dirIn || v.dir == dirOut) && v.name == "":
		case v.dir == dirIn || v.dir == dirOut:
			if strings.ContainsAny(v.name, "/\\\x00") || strings.HasPrefix(v.name, ".") || v.name == "" {
				t.Fatalf("resolve(%q) = file %q, not one visible path element", p, v.name)
			}
			if rel != v.dir+"/"+v.name {
				t.Fatalf("resolve(%q) rel %q does not match %+v", p, rel, v)
			}
		default:
			t.Fatalf("resolve(%q) = %+v, not in the tree", p, v)
		}
		if strings.Contains(p, "\x00") || (utf8.ValidString(p) && strings.Contains("/"+p+"/", "/../")) {
			t.Fatalf("resolve(%q) accepted a NUL or .. path", p)
		}
	})
}
