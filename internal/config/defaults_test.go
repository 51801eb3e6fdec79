package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, ps := Parse("config.yaml", []byte(`
partners:
  - id: nord
channels:
  - {name: in, type: dir, path: ./in}
  - {name: off, type: web, enabled: false}
  - {name: zero, type: dir, path: ./z, min_age: 0s}
  - {name: s, type: sftp, host: h, user: u, private_key_file: k, known_hosts: kh, inbox: /o, delete_after_ingest: true}
  - {name: m, type: imap, host: h, user: u, password_env: P}
  - {name: m2, type: imap, host: h, user: u, password_env: P, idle: false, done_mailbox: Done, insecure_plaintext: true, please_resend: false}
  - {name: srv, type: sftpserver, host_key_file: hk, users: [{name: u, partner: nord, public_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMKBV/U38VhwnZsVfzaN5lP0pMDecbsJkMShauzc3c+S x"]}]}
backends:
  - {name: w, type: webhook, url: "https://x.example/"}
`))
	if len(ps) != 0 {
		t.Fatalf("got problems:\n%s", listProblems(ps))
	}
	in, off, zero, s, m, m2, srv := c.Channels[0], c.Channels[1], c.Channels[2], c.Channels[3], c.Channels[4], c.Channels[5], c.Channels[6]
	p, w := c.Partners[0], c.Backends[0]
	tests := []struct {
		name      string
		got, want any
	}{
		{"store.driver", c.Store.Driver, "sqlite"},
		{"store.dsn", c.Store.DSN, "./data/ordergate.db"},
		{"store.archive_dir", c.Store.ArchiveDir, "./data/archive"},
		{"store.archive", c.Store.Archive, "database"},
		{"store.busy_timeout", c.Store.BusyTimeout, 10 * time.Second},
		{"http.listen", c.HTTP.Listen, "127.0.0.1:8080"},
		{"http.admin_token_env", c.HTTP.AdminTokenEnv, "ORDERGATE_ADMIN_TOKEN"},
		{"http.max_body_bytes", c.HTTP.MaxBodyBytes, ByteSize(10 << 20)},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"pipeline.batch_size", c.Pipeline.BatchSize, 100},
		{"pipeline.poll_interval", c.Pipeline.PollInterval, 5 * time.Millisecond},
		{"pipeline.retry.max_attempts", c.Pipeline.Retry.MaxAttempts, 5},
		{"pipeline.retry.initial_interval", c.Pipeline.Retry.InitialInterval, 100 * time.Millisecond},
		{"pipeline.retry.max_interval", c.Pipeline.Retry.MaxInterval, 10 * time.Second},
		{"pipeline.drain_timeout", c.Pipeline.DrainTimeout, 30 * time.Second},
		{"pipeline.duplicate_window", c.Pipeline.DuplicateWindow, 720 * time.Hour},
		{"partner acks.functional", p.Acks.Functional, "997"},
		{"partner acks.ta1", p.Acks.TA1, "errors"},
		{"partner acks.contrl", p.Acks.CONTRL, "requested"},
		{"partner acks.order_response", p.Acks.OrderResponse, "none"},
		{"partner duplicates", p.Duplicates, "reject"},
		{"partner x12.segment", p.X12.Segment, "~"},
		{"partner edifact.una", p.EDIFACT.UNA, ":+.? '"},
		{"partner edifact.syntax", p.EDIFACT.Syntax, "UNOC:3"},
		{"dir enabled", in.Enabled, true},
		{"dir done_dir", in.DoneDir, "in/done"},
		{"dir error_dir", in.ErrorDir, "in/error"},
		{"dir outbox", in.Outbox, "in/outbox"},
		{"dir patterns", len(in.Patterns) == 1 && in.Patterns[0] == "*", true},
		{"dir poll", in.Poll, 200 * time.Millisecond},
		{"dir min_age", in.MinAge, time.Second},
		{"dir max_file_bytes", in.MaxFileBytes, ByteSize(256 << 20)},
		{"enabled: false kept", off.Enabled, false},
		{"web max_body_bytes from http", off.MaxBodyBytes, ByteSize(10 << 20)},
		{"min_age: 0s kept", zero.MinAge, time.Duration(0)},
		{"sftp port", s.Port, 22},
		{"sftp poll", s.Poll, time.Minute},
		{"sftp min_age", s.MinAge, 10 * time.Second},
		{"sftp max_files_per_poll", s.MaxFilesPerPoll, 500},
		{"sftp max_concurrent", s.MaxConcurrent, 4},
		{"sftp page_size", s.PageSize, 1000},
		{"imap tls", m.TLS, "implicit"},
		{"imap port", m.Port, 993},
		{"imap mailbox", m.Mailbox, "INBOX"},
		{"imap after_ingest without done_mailbox", m.AfterIngest, "flag"},
		{"imap kind", m.Kind, "auto"},
		{"imap idle", m.Idle, true},
		{"imap poll", m.Poll, time.Minute},
		{"imap max_message_bytes", m.MaxMessageBytes, ByteSize(25 << 20)},
		{"imap plaintext port", m2.Port, 143},
		{"imap plaintext tls", m2.TLS, ""},
		{"imap idle: false kept", m2.Idle, false},
		{"imap please_resend", m.PleaseResend, true},
		{"imap please_resend: false kept", m2.PleaseResend, false},
		{"imap after_ingest with done_mailbox", m2.AfterIngest, "move"},
		{"sftpserver listen", srv.Listen, "127.0.0.1:2222"},
		{"sftpserver root_dir", srv.RootDir, "./data/sftp"},
		{"webhook timeout", w.Timeout, 30 * time.Second},
		{"backend max_attempts", w.MaxAttempts, 10},
		{"backend initial_backoff", w.InitialBackoff, time.Second},
		{"backend max_backoff", w.MaxBackoff, 5 * time.Minute},
		{"price_tolerance unset", c.Rules.PriceTolerance.IsSet(), false},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// TestArchiveDefault: the raw archive defaults to the database on
// sqlite (one fsync per intake batch) and to files on postgres; a
// written value wins.
func TestArchiveDefault(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"sqlite", "", ArchiveDatabase},
		{"sqlite, files written", "store: {archive: files}\n", ArchiveFiles},
		{"postgres", "store: {driver: postgres, dsn_env: OG_DSN}\n", ArchiveFiles},
		{"postgres, database written", "store: {driver: postgres, dsn_env: OG_DSN, archive: database}\n", ArchiveDatabase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ps := Parse("config.yaml", []byte(tc.yaml))
			if len(ps) != 0 {
				t.Fatalf("got problems:\n%s", listProblems(ps))
			}
			if got := c.Store.Archive; got != tc.want {
				t.Errorf("store.archive = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeliveryFormat(t *testing.T) {
	c := &Config{Backends: []Backend{{Name: "erp", Format: FormatEDIFACTOrders}, {Name: "wms"}}}
	tests := []struct {
		route   Route
		backend string
		want    string
	}{
		{Route{Format: FormatCSV}, "erp", FormatCSV},
		{Route{}, "erp", FormatEDIFACTOrders},
		{Route{}, "wms", FormatJSON},
	}
	for _, tc := range tests {
		if got := c.DeliveryFormat(tc.route, tc.backend); got != tc.want {
			t.Errorf("DeliveryFormat(%+v, %s): got %s, want %s", tc.route, tc.backend, got, tc.want)
		}
	}
}

func TestLogNewLogger(t *testing.T) {
	tests := []struct {
		log       Log
		wantDebug bool
		wantJSON  bool
	}{
		{Log{Level: "debug", Format: "json"}, true, true},
		{Log{Level: "info", Format: "text"}, false, false},
		{Log{Level: "warn", Format: "json"}, false, true},
	}
	for _, tc := range tests {
		var buf strings.Builder
		l := tc.log.NewLogger(&buf)
		l.Debug("d-msg")
		l.Warn("w-msg")
		out := buf.String()
		if got := strings.Contains(out, "d-msg"); got != tc.wantDebug {
			t.Errorf("%+v: debug logged: got %v, want %v", tc.log, got, tc.wantDebug)
		}
		if got := strings.HasPrefix(out, "{"); got != tc.wantJSON {
			t.Errorf("%+v: JSON: got %v, want %v (%q)", tc.log, got, tc.wantJSON, out)
		}
	}
}
