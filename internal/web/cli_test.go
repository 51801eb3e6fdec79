package web_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/web"
)

func TestUserCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := web.UserCommand(ctx, e.st, args, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"add", "a long enough secret\n", []string{"add", "fritz", "--role", "approver"}, 0, "user fritz added with role approver"},
		{"add with flag first", "another long secret\n", []string{"add", "--role=desk", "gerda"}, 0, "user gerda added"},
		{"duplicate", "a long enough secret\n", []string{"add", "FRITZ", "--role", "desk"}, 1, ""},
		{"bad role", "a long enough secret\n", []string{"add", "hans", "--role", "root"}, 2, ""},
		{"short password", "short\n", []string{"add", "hans", "--role", "desk"}, 1, ""},
		{"no password", "", []string{"add", "hans", "--role", "desk"}, 1, ""},
		{"bad name", "a long enough secret\n", []string{"add", "bad name", "--role", "desk"}, 2, ""},
		{"add with approval roles", "a long enough secret\n", []string{"add", "ilse", "--role", "approver", "--approval-roles", "finance, sales-manager"}, 0,
			"user ilse added with role approver, approval roles finance, sales-manager"},
		{"roles", "", []string{"roles", "fritz", "--approval-roles", "approver,sales-rep,approver"}, 0, "user fritz now decides in the approval roles: approver, sales-rep"},
		{"bad approval role", "", []string{"roles", "fritz", "--approval-roles", "no such role"}, 1, ""},
		{"roles unknown user", "", []string{"roles", "nobody", "--approval-roles", "finance"}, 1, ""},
		{"passwd", "a new long secret!\n", []string{"passwd", "fritz"}, 0, "password of fritz changed"},
		{"passwd unknown", "a new long secret!\n", []string{"passwd", "nobody"}, 1, ""},
		{"disable", "", []string{"disable", "gerda"}, 0, "user gerda disabled"},
		{"list", "", []string{"list"}, 0, "fritz"},
		{"unknown", "", []string{"frobnicate"}, 2, ""},
		{"no args", "", nil, 2, ""},
	} {
		code, out, errOut := run(tc.stdin, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.name, code, out, errOut, tc.code, tc.out)
		}
		if strings.Contains(out+errOut, "long enough secret") || strings.Contains(out+errOut, "new long secret") {
			t.Errorf("%s: the password was echoed", tc.name)
		}
	}
	// The new password works for a login, the old one no longer.
	if s, _ := e.login("fritz", "a new long secret!", nil); s != 303 {
		t.Errorf("login with the new password: %d", s)
	}
	if s, _ := e.login("fritz", "a long enough secret", nil); s != 401 {
		t.Errorf("login with the old password: %d", s)
	}
	if s, _ := e.login("gerda", "another long secret", nil); s != 401 {
		t.Errorf("login of a disabled user: %d", s)
	}
	_, out, _ := run("", "list", "--json")
	if !strings.Contains(out, `"name":"gerda","role":"desk","disabled":true`) || !strings.Contains(out, `"approval_roles":["approver","sales-rep"]`) ||
		!strings.Contains(out, `"approval_roles":["finance","sales-manager"]`) {
		t.Errorf("list --json: %s", out)
	}
	got := e.auditActions(t)
	for _, want := range []string{"cli user.create fritz", "cli user.passwd fritz", "cli user.disable gerda", "cli user.roles fritz"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("audit log lacks %q", want)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := web.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := web.HashPassword("correct horse battery")
	if h == h2 {
		t.Errorf("two hashes of one password are equal: no per-hash salt")
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	for _, tc := range []struct {
		hash, pw string
		ok       bool
		err      bool
	}{
		{h, "correct horse battery", true, false},
		{h, "correct horse batterY", false, false},
		{h, "", false, false},
		{"$2a$10$abcdefghijklmnopqrstuv", "x", false, true},
		{strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery", false, true},
		{"", "x", false, true},
	} {
		ok, err := web.VerifyPassword(tc.hash, tc.pw)
		if ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("VerifyPassword(%.20q, %q) = %v, %v; want %v, error %v", tc.hash, tc.pw, ok, err, tc.ok, tc.err)
		}
	}
	// A hash made with the production cost verifies too (the cost is read
	// from the hash).
	const prod = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	if _, err := web.VerifyPassword(prod+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"); err != nil {
		t.Errorf("production-cost hash: %v", err)
	}
}
