package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const canary = "canary-s3cr3t-value"

func TestSecretRefValue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("  "+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OG_TEST_SECRET", canary)
	t.Setenv("OG_TEST_EMPTY", "")

	tests := []struct {
		name    string
		ref     SecretRef
		want    string
		wantErr string
	}{
		{"env", SecretRef{Key: "password", Env: "OG_TEST_SECRET"}, canary, ""},
		{"file trimmed", SecretRef{Key: "password", File: file}, canary, ""},
		{"env wins over file", SecretRef{Key: "password", Env: "OG_TEST_SECRET", File: empty}, canary, ""},
		{"missing env", SecretRef{Key: "password", Env: "OG_TEST_MISSING"}, "", "environment variable OG_TEST_MISSING is not set"},
		{"empty env", SecretRef{Key: "password", Env: "OG_TEST_EMPTY"}, "", "environment variable OG_TEST_EMPTY is empty"},
		{"missing file", SecretRef{Key: "password", File: filepath.Join(dir, "nope")}, "", "no such file"},
		{"empty file", SecretRef{Key: "password", File: empty}, "", "is empty"},
		{"nothing", SecretRef{Key: "password"}, "", "no secret configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.ref.Value()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got := s.Reveal(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := (SecretRef{Key: "password"}).Value(); !errors.Is(err, ErrNoSecret) {
		t.Errorf("got %v, want ErrNoSecret", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Setenv("OG_TEST_SECRET", canary)
	s, err := SecretRef{Key: "password", Env: "OG_TEST_SECRET"}.Value()
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		Name     string
		Password Secret
		Ptr      *Secret
	}{"fax", s, &s}
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	logger.Info("connecting", "password", s, "holder", holder)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("connecting", "password", s)
	js, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{
		"String": s.String(),
		"%v":     fmt.Sprintf("%v", s),
		"%+v":    fmt.Sprintf("%+v", holder),
		"%#v":    fmt.Sprintf("%#v", holder),
		"%s":     fmt.Sprintf("%s", s),
		"%q":     fmt.Sprintf("%q", s),
		"%x":     fmt.Sprintf("%x", s),
		"JSON":   string(js),
		"slog":   logBuf.String(),
	}
	for name, got := range forms {
		if strings.Contains(got, canary) {
			t.Errorf("%s: got %q, which shows the secret", name, got)
		}
		if !strings.Contains(got, "redacted") {
			t.Errorf("%s: got %q, want [redacted]", name, got)
		}
	}
	ref := SecretRef{Key: "password", Env: "OG_TEST_SECRET"}
	if got, want := ref.String(), "env:OG_TEST_SECRET"; got != want {
		t.Errorf("SecretRef.String: got %q, want %q", got, want)
	}
}

func TestLoadedConfigHasNoSecretValues(t *testing.T) {
	t.Setenv("FAX_PASSWORD", canary)
	path := writeConfig(t, "channels:\n  - {name: fax, type: imap, host: mail, user: u, password_env: FAX_PASSWORD, done_mailbox: Done}\n")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Preflight(); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"%+v": fmt.Sprintf("%+v", c), "JSON": string(js)} {
		if strings.Contains(got, canary) {
			t.Errorf("%s of the config shows the secret", name)
		}
	}
	s, err := c.Channels[0].Password().Value()
	if err != nil || s.Reveal() != canary {
		t.Errorf("Password().Value(): got %v, want the env value", err)
	}
}
