package config

import (
	"fmt"
	"path/filepath"
	"time"
)

// Defaults that are more than a literal in one place.
const (
	DefaultMaxBodyBytes    ByteSize = 10 << 20
	DefaultMaxFileBytes    ByteSize = 256 << 20
	DefaultMaxMessageBytes ByteSize = 25 << 20
)

// setDefaults fills in every key the file did not write. A key written with
// a zero value (enabled: false, min_age: 0s) keeps it; strings and counts
// that are empty or zero get their default either way.
func (c *Config) setDefaults() {
	d := defaulter{src: c.src}

	s := &c.Store
	d.str(&s.Driver, DriverSQLite)
	if s.Driver == DriverSQLite {
		d.str(&s.DSN, "./data/ordergate.db")
	}
	d.str(&s.ArchiveDir, "./data/archive")
	d.dur("store.busy_timeout", &s.BusyTimeout, 10*time.Second)
	if s.Driver == DriverSQLite {
		// The intake transaction's commit is then the archive's only
		// fsync (about 1 ms of CPU less per document than the files).
		d.str(&s.Archive, ArchiveDatabase)
	} else {
		d.str(&s.Archive, ArchiveFiles)
	}
	d.int(&s.MaxConns, 40)
	d.dur("cluster.lease_ttl", &c.Cluster.LeaseTTL, 15*time.Second)

	h := &c.HTTP
	d.str(&h.Listen, "127.0.0.1:8080")
	d.str(&h.AdminTokenEnv, "ORDERGATE_ADMIN_TOKEN")
	d.size("http.max_body_bytes", &h.MaxBodyBytes, DefaultMaxBodyBytes)

	d.str(&c.Log.Level, "info")
	d.str(&c.Log.Format, "text")

	p := &c.Pipeline
	d.int(&p.BatchSize, 100)
	// On postgres every idle poll is a network round trip per consumer.
	poll := 5 * time.Millisecond
	if s.Driver == DriverPostgres {
		poll = 100 * time.Millisecond
	}
	d.dur("pipeline.poll_interval", &p.PollInterval, poll)
	if p.Broker.Type != "" {
		d.str(&p.Broker.Prefix, "ordergate.")
	}
	d.int(&p.Retry.MaxAttempts, 5)
	d.dur("pipeline.retry.initial_interval", &p.Retry.InitialInterval, 100*time.Millisecond)
	d.dur("pipeline.retry.max_interval", &p.Retry.MaxInterval, 10*time.Second)
	d.dur("pipeline.drain_timeout", &p.DrainTimeout, 30*time.Second)
	d.dur("pipeline.duplicate_window", &p.DuplicateWindow, 720*time.Hour)

	for i := range c.Partners {
		pa := &c.Partners[i]
		d.str(&pa.Acks.Functional, "997")
		d.str(&pa.Acks.TA1, "errors")
		d.str(&pa.Acks.CONTRL, "requested")
		d.str(&pa.Acks.OrderResponse, "none")
		d.str(&pa.Duplicates, "reject")
		d.str(&pa.X12.Element, "*")
		d.str(&pa.X12.Component, ">")
		d.str(&pa.X12.Segment, "~")
		d.str(&pa.X12.Repetition, "^")
		d.str(&pa.EDIFACT.UNA, ":+.? '")
		d.str(&pa.EDIFACT.Syntax, "UNOC:3")
	}

	for i := range c.Channels {
		c.Channels[i].setDefaults(d, fmt.Sprintf("channels[%d]", i), h.MaxBodyBytes)
	}

	for i := range c.Backends {
		b := &c.Backends[i]
		at := fmt.Sprintf("backends[%d]", i)
		if b.Type == BackendWebhook {
			d.dur(at+".timeout", &b.Timeout, 30*time.Second)
		}
		d.int(&b.MaxAttempts, 10)
		d.dur(at+".initial_backoff", &b.InitialBackoff, time.Second)
		d.dur(at+".max_backoff", &b.MaxBackoff, 5*time.Minute)
	}
}

func (ch *Channel) setDefaults(d defaulter, at string, httpMaxBody ByteSize) {
	d.bool(at+".enabled", &ch.Enabled, true)
	switch ch.Type {
	case ChannelDir:
		if ch.Path != "" {
			d.str(&ch.DoneDir, filepath.Join(ch.Path, "done"))
			d.str(&ch.ErrorDir, filepath.Join(ch.Path, "error"))
			d.str(&ch.Outbox, filepath.Join(ch.Path, "outbox"))
		}
		d.strs(&ch.Patterns, "*")
		d.dur(at+".poll", &ch.Poll, 200*time.Millisecond)
		d.dur(at+".min_age", &ch.MinAge, time.Second)
		d.size(at+".max_file_bytes", &ch.MaxFileBytes, DefaultMaxFileBytes)
	case ChannelSFTP:
		d.int(&ch.Port, 22)
		d.strs(&ch.Patterns, "*")
		d.dur(at+".poll", &ch.Poll, time.Minute)
		d.dur(at+".min_age", &ch.MinAge, 10*time.Second)
		d.int(&ch.MaxFilesPerPoll, 500)
		d.int(&ch.MaxConcurrent, 4)
		d.int(&ch.PageSize, 1000)
		d.size(at+".max_file_bytes", &ch.MaxFileBytes, DefaultMaxFileBytes)
	case ChannelSFTPServer:
		d.str(&ch.Listen, "127.0.0.1:2222")
		d.str(&ch.RootDir, "./data/sftp")
		d.size(at+".max_file_bytes", &ch.MaxFileBytes, DefaultMaxFileBytes)
	case ChannelIMAP:
		if !ch.InsecurePlaintext {
			d.str(&ch.TLS, "implicit")
		}
		if ch.TLS == "implicit" {
			d.int(&ch.Port, 993)
		} else {
			d.int(&ch.Port, 143)
		}
		d.str(&ch.Mailbox, "INBOX")
		if ch.DoneMailbox != "" {
			d.str(&ch.AfterIngest, "move")
		} else {
			d.str(&ch.AfterIngest, "flag")
		}
		d.str(&ch.Kind, "auto")
		d.size(at+".max_message_bytes", &ch.MaxMessageBytes, DefaultMaxMessageBytes)
		d.bool(at+".idle", &ch.Idle, true)
		d.bool(at+".please_resend", &ch.PleaseResend, true)
		d.dur(at+".poll", &ch.Poll, time.Minute)
	case ChannelWeb:
		d.size(at+".max_body_bytes", &ch.MaxBodyBytes, httpMaxBody)
	}
}

// defaulter sets a default where the file did not write a key.
type defaulter struct{ src *source }

func (d defaulter) str(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func (d defaulter) strs(p *[]string, v ...string) {
	if len(*p) == 0 {
		*p = v
	}
}

func (d defaulter) int(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func (d defaulter) bool(path string, p *bool, v bool) {
	if !d.src.has(path) {
		*p = v
	}
}

func (d defaulter) dur(path string, p *time.Duration, v time.Duration) {
	if !d.src.has(path) && *p == 0 {
		*p = v
	}
}

func (d defaulter) size(path string, p *ByteSize, v ByteSize) {
	if !d.src.has(path) && *p == 0 {
		*p = v
	}
}
