package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreflight(t *testing.T) {
	dir := t.TempDir()
	emptyKH := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(emptyKH, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OG_SET", "x")
	yaml := `channels:
  - name: nord
    type: sftp
    host: sftp.example.com
    user: u
    private_key_file: ` + filepath.Join(dir, "id_missing") + `
    private_key_passphrase_env: OG_UNSET_PASSPHRASE
    known_hosts: ` + emptyKH + `
    inbox: /out
    delete_after_ingest: true
  - name: off
    type: imap
    enabled: false
    host: mail
    user: u
    password_env: OG_UNSET_OFF
  - name: fax
    type: imap
    host: mail
    user: u
    password_file: ` + filepath.Join(dir, "pw_missing") + `
backends:
  - {name: wms, type: webhook, url: "https://wms.example/", secret_env: OG_UNSET_HMAC}
  - {name: unused, type: webhook, url: "https://x.example/", secret_env: OG_UNSET_UNUSED}
  - {name: mq, type: rabbitmq, url_env: OG_SET, queue: q}
routes:
  - {name: default, to: [wms, mq]}
masterdata:
  load:
    - {kind: customers, file: ` + filepath.Join(dir, "customers.csv") + `}
`
	path := writeConfig(t, yaml)
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	err = c.Preflight()
	if err == nil {
		t.Fatal("Preflight: got no error")
	}
	got := err.Error()
	wants := []string{
		path + ":6: channels[0].private_key_file: file " + filepath.Join(dir, "id_missing") + " does not exist",
		path + ":7: channels[0].private_key_passphrase_env: environment variable OG_UNSET_PASSPHRASE is not set",
		path + ":8: channels[0].known_hosts: file " + emptyKH + " has no host key entry (ssh-keyscan -p 22 sftp.example.com",
		path + ":21: channels[2].password_file: file " + filepath.Join(dir, "pw_missing") + " does not exist",
		path + ":23: backends[0].secret_env: environment variable OG_UNSET_HMAC is not set",
		path + ":30: masterdata.load[0].file: file " + filepath.Join(dir, "customers.csv") + " does not exist",
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("got:\n%s\nwant a line containing %q", got, w)
		}
	}
	for _, notWant := range []string{"OG_UNSET_OFF", "OG_UNSET_UNUSED", "OG_SET "} {
		if strings.Contains(got, notWant) {
			t.Errorf("got:\n%s\nwant nothing about %s", got, notWant)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != len(wants) {
		t.Errorf("got %d problems, want %d:\n%s", n, len(wants), got)
	}
}

func TestPreflightExample(t *testing.T) {
	// The example's relative paths are relative to the repository root,
	// where the README runs it.
	abs, err := filepath.Abs(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(abs))
	c, err := Load(abs)
	if err != nil {
		t.Fatal(err)
	}
	// The newcomer's default must start with nothing set up.
	if err := c.Preflight(); err != nil {
		t.Errorf("Preflight of the example: %v", err)
	}
}
