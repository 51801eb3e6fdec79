package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes yaml to config.yaml in a fresh temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const sftpChannel = `channels:
  - name: nord-sftp
    type: sftp
    host: sftp.example.com
    port: 2022
    user: tools
    private_key_file: /etc/og/id
    inbox: /out
    archive: /out/done
`

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		path string
		msg  string // a part of the message
	}{
		{"unknown top-level key", "stor:\n  driver: sqlite\n",
			1, "stor", "unknown key (did you mean store?)"},
		{"unknown nested key", "store:\n  driver: sqlite\n  drivr: sqlite\n",
			3, "store.drivr", "unknown key (did you mean driver?)"},
		{"unknown key in a list item", "channels:\n  - name: in\n    type: dir\n    path: ./in\n    colour: red\n",
			5, "channels[0].colour", "unknown key"},
		{"inline password", "channels:\n  - name: fax\n    type: imap\n    host: mail.example.com\n    user: fax\n    password: hunter2\n",
			6, "channels[0].password", "secrets are not allowed in the config file: put it in an environment variable and use password_env"},
		{"inline webhook secret", "backends:\n  - name: wms\n    type: webhook\n    url: https://wms.example.com/\n    secret: hunter2\n",
			5, "backends[0].secret", "use secret_env (or secret_file)"},
		{"inline private key", "channels:\n  - name: s\n    type: sftp\n    private_key: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n",
			4, "channels[0].private_key", "use private_key_file"},
		{"inline admin token", "http:\n  admin_token: hunter2\n",
			2, "http.admin_token", "use admin_token_env"},
		{"postgres dsn with password", "store:\n  driver: postgres\n  dsn: postgres://og:hunter2@db/og\n",
			3, "store.dsn", "contains a password: put the whole DSN in an environment variable and use dsn_env"},
		{"postgres without dsn", "store:\n  driver: postgres\n",
			1, "store.dsn_env", "postgres needs a DSN"},
		{"unknown archive", "store:\n  archive: s3\n",
			2, "store.archive", ""},
		{"tiny pool", "store:\n  driver: postgres\n  dsn_env: OG_DSN\n  max_conns: 2\n",
			4, "store.max_conns", ""},
		{"short lease", "cluster:\n  lease_ttl: 100ms\n",
			2, "cluster.lease_ttl", "at least 1s"},
		{"negative backlog", "pipeline:\n  intake_backlog: -5\n",
			2, "pipeline.intake_backlog", "must be -1 (no limit), 0 (the default, 256) or more"},
		{"broker without url", "pipeline:\n  broker: {type: rabbitmq}\n",
			2, "pipeline.broker.url_env", ""},
		{"unknown broker", "pipeline:\n  broker: {type: kafka, url_env: OG_BROKER}\n",
			2, "pipeline.broker.type", ""},
		{"sftp without pinned host key", sftpChannel,
			2, "channels[0].known_hosts", `the sftp channel "nord-sftp" has no pinned host key: set known_hosts (ssh-keyscan -p 2022 sftp.example.com > known_hosts) or host_key_fingerprint (SHA256:`},
		{"sftp bad fingerprint", sftpChannel + "    host_key_fingerprint: MD5:aa:bb\n",
			10, "channels[0].host_key_fingerprint", "must be an OpenSSH SHA256 fingerprint"},
		{"sftp archive and delete", sftpChannel + "    known_hosts: kh\n    delete_after_ingest: true\n",
			9, "channels[0].archive", "set archive or delete_after_ingest: true, not both"},
		{"duplicate channel name", "channels:\n  - {name: in, type: web}\n  - {name: in, type: desk}\n",
			3, "channels[1].name", `duplicate channel name "in" (first at channels[0])`},
		{"key of another channel type", "channels:\n  - name: in\n    type: dir\n    path: ./in\n    known_hosts: ./kh\n",
			5, "channels[0].known_hosts", "a dir channel has no key known_hosts (its keys: name, type, enabled, path,"},
		{"bad channel type", "channels:\n  - {name: in, type: ftp}\n",
			2, "channels[0].type", "must be one of: dir, sftp, sftpserver, imap, web, desk"},
		{"unknown backend in route", "backends:\n  - {name: out, type: filedrop, dir: ./out}\nroutes:\n  - name: default\n    to: [out, erp]\n",
			5, "routes[0].to[1]", `unknown backend "erp"`},
		{"unknown backend in route (single name)", "routes:\n  - name: default\n    to: erp\n",
			3, "routes[0].to", `unknown backend "erp"`},
		{"unreachable route", "backends:\n  - {name: out, type: filedrop, dir: ./out}\nroutes:\n  - {name: all, to: out}\n  - {name: eu, when: \"order.currency == 'EUR'\", to: out}\n",
			5, "routes[1]", `route "eu" is unreachable: route "all" before it takes every order`},
		{"no default route", "backends:\n  - {name: out, type: filedrop, dir: ./out}\nroutes:\n  - {name: eu, when: \"order.test\", to: out}\n",
			3, "routes", "no default route"},
		{"route after when true", "backends:\n  - {name: out, type: filedrop, dir: ./out}\nroutes:\n  - {name: all, when: \"true\", to: out}\n  - {name: default, to: out}\n",
			5, "routes[1]", `route "default" is unreachable: route "all" before it takes every order`},
		{"when does not compile", "backends:\n  - {name: out, type: filedrop, dir: ./out}\nroutes:\n  - {name: eu, when: \"order.colour == 'red'\", to: out}\n  - {name: default, to: out}\n",
			4, "routes[0].when", "does not compile"},
		{"empty when", "backends:\n  - {name: out, type: filedrop, dir: ./out}\nroutes:\n  - {name: eu, when: \"\", to: out}\n",
			4, "routes[0].when", "is empty"},
		{"bad duration", "channels:\n  - name: in\n    type: dir\n    path: ./in\n    poll: 10x\n",
			5, "channels[0].poll", "not a duration: write a number with a unit"},
		{"duration without unit", "pipeline:\n  drain_timeout: 30\n",
			2, "pipeline.drain_timeout", "a duration needs a unit"},
		{"negative duration", "pipeline:\n  poll_interval: -5ms\n",
			2, "pipeline.poll_interval", "must be a positive duration"},
		{"bad enum", "log:\n  level: verbose\n",
			2, "log.level", "must be one of: debug, info, warn, error"},
		{"bad price_tolerance without %", "rules:\n  price_tolerance: \"0.5\"\n",
			2, "rules.price_tolerance", `not a percentage: write a decimal number followed by %, e.g. "0.5%"`},
		{"bad price_tolerance number", "rules:\n  price_tolerance: \"0,5%\"\n",
			2, "rules.price_tolerance", "not a percentage"},
		{"price_tolerance unquoted", "rules:\n  price_tolerance: 0.5\n",
			2, "rules.price_tolerance", "write the percentage as a quoted string"},
		{"unknown channel in acks.via", "partners:\n  - id: nord\n    acks:\n      via: nord-sftp\n",
			4, "partners[0].acks.via", `unknown channel "nord-sftp"`},
		{"acks.via a web channel", "channels:\n  - {name: shop, type: web}\npartners:\n  - id: nord\n    acks: {via: shop}\n",
			5, "partners[0].acks.via", `channel "shop" is a web channel and cannot send files`},
		{"unknown channel in match.channels", "partners:\n  - id: nord\n    match:\n      channels: [fax]\n",
			4, "partners[0].match.channels[0]", `unknown channel "fax"`},
		{"sftp backend on a dir channel", "channels:\n  - {name: in, type: dir, path: ./in}\nbackends:\n  - name: erp\n    type: sftp\n    channel: in\n",
			6, "backends[0].channel", `channel "in" is a dir channel; an sftp backend needs an sftp channel`},
		{"bad partner id", "partners:\n  - id: Baumarkt_Nord\n",
			2, "partners[0].id", "must be lower-case letters, digits and -"},
		{"duplicate partner id", "partners:\n  - id: nord\n  - id: nord\n",
			3, "partners[1].id", `duplicate partner id "nord"`},
		{"same X12 sender for two partners", "partners:\n  - id: a\n    match: {x12: {qualifier: ZZ, id: X}}\n  - id: b\n    match:\n      x12: [{qualifier: ZZ, id: X}]\n",
			6, "partners[1].match.x12[0].id", "X12 sender (another partner matches it)"},
		{"bad env var name", "channels:\n  - name: fax\n    type: imap\n    host: mail\n    user: fax\n    password_env: 1BAD-NAME\n",
			6, "channels[0].password_env", "must name an environment variable"},
		{"imap tls with insecure_plaintext", "channels:\n  - name: fax\n    type: imap\n    host: mail\n    user: fax\n    password_env: P\n    insecure_plaintext: true\n    tls: starttls\n",
			8, "channels[0].tls", "insecure_plaintext: true connects without TLS"},
		{"imap move without done_mailbox", "channels:\n  - name: fax\n    type: imap\n    host: mail\n    user: fax\n    password_env: P\n    after_ingest: move\n",
			2, "channels[0].done_mailbox", "after_ingest: move needs done_mailbox"},
		{"sftpserver bad public key", "partners: [{id: nord}]\nchannels:\n  - name: drop\n    type: sftpserver\n    host_key_file: hk\n    users:\n      - name: nord\n        partner: nord\n        public_keys: [\"ssh-ed25519 notbase64\"]\n",
			9, "channels[0].users[0].public_keys[0]", "is not an authorized_keys line"},
		{"pending mail without confirmations", "mail:\n  confirmations:\n    pending_response: true\n",
			3, "mail.confirmations.pending_response", "needs mail.confirmations.enabled: true"},
		{"bad size", "http:\n  max_body_bytes: ten\n",
			2, "http.max_body_bytes", "not a size"},
		{"wrong type", "pipeline:\n  batch_size: many\n",
			2, "pipeline.batch_size", "expected a whole number"},
		{"webhook url with password", "backends:\n  - name: wms\n    type: webhook\n    url: https://u:hunter2@wms.example.com/\n",
			4, "backends[0].url", "must not contain a password"},
		{"same x12 separators", "partners:\n  - id: nord\n    x12: {element: \"*\", component: \"*\"}\n",
			3, "partners[0].x12.component", "is the same character as the element separator"},
		{"approval without role", "rules:\n  approvals:\n    - name: big\n      when: order.total > 1\n",
			3, "rules.approvals[0].role", "set role or levels"},
		{"inline api key", "channels:\n  - name: shop\n    type: web\n    api_key: k-123\n",
			4, "channels[0].api_key", "ordergate apikey create"},
		{"YAML syntax error", "store:\n  driver: sqlite\n   dsn: x\n",
			3, "", "invalid YAML"},
		{"list item not a mapping", "channels:\n  - inbox\n",
			2, "channels[0]", "expected a mapping"},
		{"section given as a list", "store: [sqlite]\n",
			1, "store", "expected a mapping"},
		{"bad masterdata kind", "masterdata:\n  load:\n    - {kind: orders, file: x.csv}\n",
			3, "masterdata.load[0].kind", "must be one of: customers, products, prices, xrefs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.yaml)
			ps := Check(path)
			want := fmt.Sprintf("%s:%d: ", path, tc.line)
			if tc.path != "" {
				want += tc.path + ": "
			}
			found := false
			for _, p := range ps {
				s := p.String()
				if strings.HasPrefix(s, want) && strings.Contains(s, tc.msg) {
					found = true
				}
				if strings.Contains(s, "hunter2") {
					t.Errorf("problem shows the secret: %s", s)
				}
			}
			if !found {
				t.Errorf("got problems:\n%s\nwant one starting with %q containing %q", listProblems(ps), want, tc.msg)
			}
			if _, err := Load(path); err == nil {
				t.Errorf("Load: got no error, want the problems")
			}
		})
	}
}

func listProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestAllProblemsReported(t *testing.T) {
	path := writeConfig(t, `log:
  level: loud
  format: xml
stor: {}
channels:
  - {name: a, type: web}
  - {name: a, type: web}
`)
	_, err := Load(path)
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	want := []string{
		path + ":2: log.level: must be one of",
		path + ":3: log.format: must be one of",
		path + ":4: stor: unknown key",
		path + ":7: channels[1].name: duplicate channel name",
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d problems:\n%v\nwant %d", len(parts), err, len(want))
	}
	for i, w := range want {
		var p Problem
		if !errors.As(parts[i], &p) {
			t.Errorf("part %d: got %T, want a Problem", i, parts[i])
			continue
		}
		if !strings.HasPrefix(p.String(), w) {
			t.Errorf("part %d: got %q, want prefix %q", i, p.String(), w)
		}
	}
}

func TestValidConfigs(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"empty file", ""},
		{"only comments", "# nothing\n"},
		{"sftp with fingerprint", sftpChannel + "    host_key_fingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n"},
		{"postgres by env", "store: {driver: postgres, dsn_env: OG_DSN}\n"},
		{"postgres socket dsn without password", "store: {driver: postgres, dsn: host=/run/postgresql dbname=og}\n"},
		{"nats broker", "pipeline:\n  broker: {type: nats, url_env: OG_NATS_URL}\n"},
		{"sqlite, archive in the database", "store: {archive: database}\n"},
		{"sqlite, archive in the database, no archive_dir to read from", "store: {archive: database, archive_dir: \"\"}\n"},
		{"postgres cluster, archive in the database", "store: {driver: postgres, dsn_env: OG_DSN, archive: database, max_conns: 40}\ncluster: {node: gw-1, lease_ttl: 10s}\n"},
		{"default route with continue then more", "backends: [{name: a, type: filedrop, dir: d}]\nroutes:\n  - {name: copy, to: a, continue: true}\n  - {name: default, to: a}\n"},
		{"imap plaintext", "channels:\n  - {name: m, type: imap, host: localhost, user: u, password_file: p, insecure_plaintext: true}\n"},
		{"anchors and merge keys", "channels:\n  - &dir {type: dir, poll: 1s, name: a, path: ./a}\n  - {<<: *dir, name: b, path: ./b}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ps := Check(writeConfig(t, tc.yaml)); len(ps) != 0 {
				t.Errorf("got problems:\n%s\nwant none", listProblems(ps))
			}
		})
	}
}
