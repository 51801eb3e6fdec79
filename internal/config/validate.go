package config

import (
	"github.com/ordergate/ordergate/routing/rules"

	"github.com/ordergate/ordergate/routing/routetable"

	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

var (
	partnerIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	nameRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	syntaxRE    = regexp.MustCompile(`^UNO[A-Z]:[1-4]$`)
	dsnPassRE   = regexp.MustCompile(`(?i)(^|\s)password\s*=`)
)

// Keys each channel and backend type accepts, besides the common ones.
var (
	channelCommon = []string{"name", "type", "enabled"}
	channelKeys   = map[string][]string{
		ChannelDir: {"path", "done_dir", "error_dir", "outbox", "patterns", "poll", "min_age", "done_file", "partner", "max_file_bytes"},
		ChannelSFTP: {"host", "port", "user", "password_env", "password_file", "private_key_file", "private_key_passphrase_env",
			"known_hosts", "host_key_fingerprint", "inbox", "archive", "delete_after_ingest", "outbox", "patterns", "poll",
			"min_age", "done_file", "max_files_per_poll", "max_concurrent", "page_size", "partner", "max_file_bytes"},
		ChannelSFTPServer: {"listen", "host_key_file", "root_dir", "max_file_bytes", "quota_bytes", "users"},
		ChannelIMAP: {"host", "port", "tls", "insecure_plaintext", "user", "password_env", "password_file", "mailbox",
			"done_mailbox", "error_mailbox", "ca_file", "after_ingest", "kind", "fax_senders", "max_message_bytes", "idle", "poll",
			"please_resend"},
		ChannelWeb:  {"max_body_bytes"},
		ChannelDesk: {},
	}
	backendCommon = []string{"name", "type", "format", "max_attempts", "initial_backoff", "max_backoff",
		"sender_qualifier", "sender_id", "receiver_qualifier", "receiver_id"}
	backendKeys = map[string][]string{
		BackendFiledrop: {"dir"},
		BackendWebhook:  {"url", "secret_env", "secret_file", "timeout", "ca_file", "ref_header", "ref_field"},
		BackendSFTP:     {"channel", "dir"},
		BackendRabbitMQ: {"url_env", "queue", "exchange", "routing_key"},
		BackendNATS:     {"url", "subject", "stream"},
	}
	channelTypes = []string{ChannelDir, ChannelSFTP, ChannelSFTPServer, ChannelIMAP, ChannelWeb, ChannelDesk}
	backendTypes = []string{BackendFiledrop, BackendWebhook, BackendSFTP, BackendRabbitMQ, BackendNATS}
	formats      = []string{FormatJSON, FormatCSV, FormatX12850, FormatEDIFACTOrders}
)

// Validate checks the config without touching the environment or the file
// system: enums, required keys, keys that do not belong to a channel's or
// backend's type, cross references, routes, inline secrets. It returns
// every problem, joined with errors.Join; each part is a [Problem].
func (c *Config) Validate() error {
	return joinProblems(sortProblems(c.validate()))
}

type validator struct {
	src *source
	ps  []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.ps = append(v.ps, v.src.problem(path, format, args...))
}

func (v *validator) oneOf(path, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.add(path, "must be one of: %s", strings.Join(allowed, ", "))
	}
}

func (v *validator) required(path, got string) bool {
	if strings.TrimSpace(got) == "" {
		v.add(path, "is required")
		return false
	}
	return true
}

func (v *validator) env(path, name string) {
	if name != "" && !envNameRE.MatchString(name) {
		v.add(path, "must name an environment variable (letters, digits and _, not starting with a digit)")
	}
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be a positive duration")
	}
}

func (v *validator) notNegative(path string, d time.Duration) {
	if d < 0 {
		v.add(path, "must not be negative")
	}
}

func (v *validator) atLeast(path string, n, least int) {
	if n < least {
		v.add(path, "must be at least %d", least)
	}
}

func (v *validator) listen(path, addr string) {
	if !v.required(path, addr) {
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(path, "must be host:port, e.g. 127.0.0.1:8080")
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(path, "the port must be a number from 0 to 65535")
	}
}

func (v *validator) port(path string, p int) {
	if p < 1 || p > 65535 {
		v.add(path, "must be a port number from 1 to 65535")
	}
}

// url checks an absolute URL with one of the schemes and no password.
func (v *validator) url(path, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
		v.add(path, "must be an absolute URL (%s)", strings.Join(schemes, ", "))
		return
	}
	if _, ok := u.User.Password(); ok {
		v.add(path, "must not contain a password: secrets go in an environment variable or a file")
	}
}

func (v *validator) globs(at string, globs []string, needAt bool) {
	for i, g := range globs {
		p := fmt.Sprintf("%s[%d]", at, i)
		match := filepath.Match
		if needAt {
			match = path.Match
		}
		if _, err := match(g, ""); err != nil || strings.TrimSpace(g) == "" {
			v.add(p, "is not a valid glob pattern")
		} else if needAt && !strings.Contains(g, "@") {
			v.add(p, "must be an address pattern with an @, e.g. *@example.com")
		} else if !needAt && strings.ContainsAny(g, `/\`) {
			v.add(p, "matches file names only and must not contain a path separator")
		}
	}
}

// keysFor reports keys written at path that the type does not accept.
func (v *validator) keysFor(at, kind, typ string, common []string, byType map[string][]string) {
	allowed, ok := byType[typ]
	if !ok {
		return // the type itself is reported
	}
	for _, k := range v.src.keysOf(at) {
		lk := strings.ToLower(k)
		if slices.Contains(common, lk) || slices.Contains(allowed, lk) || !isKnownKey(lk, byType) {
			continue // unknown keys are reported by the decoder
		}
		keys := append(slices.Clone(common), allowed...)
		v.add(join(at, lk), "a %s %s has no key %s (its keys: %s)", typ, kind, lk, strings.Join(keys, ", "))
	}
}

func isKnownKey(k string, byType map[string][]string) bool {
	for _, keys := range byType {
		if slices.Contains(keys, k) {
			return true
		}
	}
	return false
}

// unique reports a name that is used twice in a list.
func (v *validator) unique(seen map[string]string, at, key, name, what string) {
	if name == "" {
		return
	}
	if first, ok := seen[name]; ok {
		v.add(join(at, key), "duplicate %s %q (first at %s)", what, name, first)
		return
	}
	seen[name] = at
}

func (c *Config) validate() []Problem {
	v := &validator{src: c.src}
	c.validateStore(v)
	c.validateHTTP(v)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	c.validatePipeline(v)

	channels := map[string]Channel{}
	seen := map[string]string{}
	for i, ch := range c.Channels {
		at := fmt.Sprintf("channels[%d]", i)
		v.unique(seen, at, "name", ch.Name, "channel name")
		if ch.Name != "" {
			if _, dup := channels[ch.Name]; !dup {
				channels[ch.Name] = ch
			}
		}
	}
	partners := map[string]bool{}
	seen = map[string]string{}
	for i, p := range c.Partners {
		v.unique(seen, fmt.Sprintf("partners[%d]", i), "id", p.ID, "partner id")
		partners[p.ID] = true
	}
	for i, ch := range c.Channels {
		c.validateChannel(v, fmt.Sprintf("channels[%d]", i), ch, partners)
	}
	c.validatePartners(v, channels)
	c.validateRules(v)
	c.validateMail(v)
	if t := c.Capture.Threshold; t < 0 || t > 1 {
		v.add("capture.threshold", "must be between 0 and 1, e.g. 0.9")
	}
	backends := c.validateBackends(v, channels)
	c.validateRoutes(v, backends)
	for i, m := range c.Masterdata.Load {
		at := fmt.Sprintf("masterdata.load[%d]", i)
		v.oneOf(at+".kind", m.Kind, "customers", "products", "prices", "xrefs", "rates")
		v.required(at+".file", m.File)
	}
	return v.ps
}

func (c *Config) validateStore(v *validator) {
	s := c.Store
	v.oneOf("store.driver", s.Driver, DriverSQLite, DriverPostgres)
	v.env("store.dsn_env", s.DSNEnv)
	switch s.Driver {
	case DriverSQLite:
		if s.DSNEnv != "" {
			v.add("store.dsn_env", "is for postgres; a sqlite dsn is a file path: set dsn")
		}
		v.required("store.dsn", s.DSN)
	case DriverPostgres:
		switch {
		case s.DSN != "" && s.DSNEnv != "":
			v.add("store.dsn", "set dsn or dsn_env, not both")
		case s.DSN == "" && s.DSNEnv == "":
			v.add("store.dsn_env", "postgres needs a DSN: put it in an environment variable and name it in dsn_env")
		case s.DSN != "" && dsnHasPassword(s.DSN):
			v.add("store.dsn", "this postgres DSN contains a password: put the whole DSN in an environment variable and use dsn_env")
		}
	}
	v.oneOf("store.archive", s.Archive, ArchiveFiles, ArchiveDatabase)
	if s.Archive == ArchiveFiles {
		v.required("store.archive_dir", s.ArchiveDir)
	}
	v.positive("store.busy_timeout", s.BusyTimeout)
	v.atLeast("store.max_conns", s.MaxConns, 4)
	if b := c.Pipeline.IntakeBacklog; b < -1 {
		v.add("pipeline.intake_backlog", "must be -1 (no limit), 0 (the default, 256) or more")
	}
	n := c.Pipeline.Consumers
	if n < 0 || n > 64 {
		v.add("pipeline.consumers", "must be 0 (automatic) to 64")
	}
	if n == 0 {
		n = 4 // the postgres default
	}
	if s.Driver == DriverPostgres && 4*n+8 > s.MaxConns {
		v.add("store.max_conns", "%d connections cannot serve 4 stages x %d consumers and the workers: make it at least %d", s.MaxConns, n, 4*n+8)
	}

	if b := c.Pipeline.Broker; b.Type != "" || b.URLEnv != "" {
		v.oneOf("pipeline.broker.type", b.Type, BrokerRabbitMQ, BrokerNATS)
		if v.required("pipeline.broker.url_env", b.URLEnv) {
			v.env("pipeline.broker.url_env", b.URLEnv)
		}
	}
	if c.Cluster.LeaseTTL < time.Second {
		v.add("cluster.lease_ttl", "must be at least 1s")
	}
}

func dsnHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	if u, err := url.Parse(dsn); err == nil && u.Query().Has("password") {
		return true
	}
	return dsnPassRE.MatchString(dsn)
}

func (c *Config) validateHTTP(v *validator) {
	h := c.HTTP
	v.listen("http.listen", h.Listen)
	v.env("http.admin_token_env", h.AdminTokenEnv)
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		v.add("http.tls_cert_file", "set both tls_cert_file and tls_key_file, or neither")
	}
	if h.MaxBodyBytes <= 0 {
		v.add("http.max_body_bytes", "must be a positive size")
	}
	if h.PublicURL != "" {
		v.url("http.public_url", h.PublicURL, "http", "https")
	}
}

func (c *Config) validatePipeline(v *validator) {
	p := c.Pipeline
	v.atLeast("pipeline.batch_size", p.BatchSize, 1)
	v.positive("pipeline.poll_interval", p.PollInterval)
	v.atLeast("pipeline.retry.max_attempts", p.Retry.MaxAttempts, 1)
	v.positive("pipeline.retry.initial_interval", p.Retry.InitialInterval)
	v.positive("pipeline.retry.max_interval", p.Retry.MaxInterval)
	if p.Retry.MaxInterval < p.Retry.InitialInterval {
		v.add("pipeline.retry.max_interval", "must not be shorter than initial_interval")
	}
	v.positive("pipeline.drain_timeout", p.DrainTimeout)
	v.positive("pipeline.duplicate_window", p.DuplicateWindow)
}

func (c *Config) validatePartners(v *validator, channels map[string]Channel) {
	x12IDs, edifactIDs, chanOwner := map[string]string{}, map[string]string{}, map[string]string{}
	for i, p := range c.Partners {
		at := fmt.Sprintf("partners[%d]", i)
		if v.required(at+".id", p.ID) && !partnerIDRE.MatchString(p.ID) {
			v.add(at+".id", "must be lower-case letters, digits and -, e.g. baumarkt-nord")
		}
		for j, id := range p.Match.X12 {
			jat := fmt.Sprintf("%s.match.x12[%d]", at, j)
			if v.required(jat+".id", id.ID) && len(id.ID) > 15 {
				v.add(jat+".id", "an X12 interchange id (ISA06) has at most 15 characters")
			}
			if len(id.Qualifier) > 2 {
				v.add(jat+".qualifier", "an X12 id qualifier (ISA05) has at most 2 characters")
			}
			v.unique(x12IDs, jat, "id", id.Qualifier+":"+id.ID, "X12 sender (another partner matches it)")
		}
		for j, id := range p.Match.EDIFACT {
			jat := fmt.Sprintf("%s.match.edifact[%d]", at, j)
			if v.required(jat+".id", id.ID) && len(id.ID) > 35 {
				v.add(jat+".id", "an EDIFACT sender id (UNB 0004) has at most 35 characters")
			}
			if len(id.Qualifier) > 4 {
				v.add(jat+".qualifier", "an EDIFACT id code qualifier (UNB 0007) has at most 4 characters")
			}
			v.unique(edifactIDs, jat, "id", id.Qualifier+":"+id.ID, "EDIFACT sender (another partner matches it)")
		}
		v.globs(at+".match.email_from", p.Match.EmailFrom, true)
		for j, name := range p.Match.Channels {
			jat := fmt.Sprintf("%s.match.channels[%d]", at, j)
			if _, ok := channels[name]; !ok {
				v.add(jat, "unknown channel %q", name)
				continue
			}
			v.unique(chanOwner, jat, "", name, "channel (it already belongs to another partner)")
		}
		a := p.Acks
		v.oneOf(at+".acks.functional", a.Functional, "997", "999", "none")
		v.oneOf(at+".acks.ta1", a.TA1, "requested", "errors", "always", "never")
		v.oneOf(at+".acks.contrl", a.CONTRL, "requested", "always", "never")
		v.oneOf(at+".acks.order_response", a.OrderResponse, "855", "ordrsp", "email", "none")
		if a.Via != "" {
			ch, ok := channels[a.Via]
			switch {
			case !ok:
				v.add(at+".acks.via", "unknown channel %q", a.Via)
			case !slices.Contains([]string{ChannelDir, ChannelSFTP, ChannelSFTPServer}, ch.Type):
				v.add(at+".acks.via", "channel %q is a %s channel and cannot send files: use a dir, sftp or sftpserver channel", a.Via, ch.Type)
			case ch.Type == ChannelSFTP && ch.Outbox == "":
				v.add(at+".acks.via", "the sftp channel %q has no outbox to send to", a.Via)
			}
		}
		v.oneOf(at+".duplicates", p.Duplicates, "reject", "ack-and-drop", "hold", "change")
		if p.PricePolicy != "" {
			v.oneOf(at+".price_policy", p.PricePolicy, "hold", "note", "correct")
		}
		if p.ItemPolicy != "" {
			v.oneOf(at+".item_policy", p.ItemPolicy, "hold", "adjust", "reject")
		}
		validateSeparators(v, at+".x12", p.X12)
		if p.X12.OurQualifier != "" && len(p.X12.OurQualifier) != 2 {
			v.add(at+".x12.our_qualifier", "an X12 id qualifier has 2 characters, e.g. ZZ")
		}
		if len(p.X12.OurID) > 15 {
			v.add(at+".x12.our_id", "an X12 interchange id has at most 15 characters")
		}
		if utf8.RuneCountInString(p.EDIFACT.UNA) != 6 {
			v.add(at+".edifact.una", "the service string advice has exactly 6 characters, e.g. \":+.? '\"")
		}
		if !syntaxRE.MatchString(p.EDIFACT.Syntax) {
			v.add(at+".edifact.syntax", "must be a syntax identifier and version, e.g. UNOC:3")
		}
		if len(p.EDIFACT.OurQualifier) > 4 {
			v.add(at+".edifact.our_qualifier", "an EDIFACT id code qualifier has at most 4 characters")
		}
		if len(p.EDIFACT.OurID) > 35 {
			v.add(at+".edifact.our_id", "an EDIFACT id has at most 35 characters")
		}
	}
}

func validateSeparators(v *validator, at string, x X12Settings) {
	seps := map[string]string{"element": x.Element, "component": x.Component, "segment": x.Segment, "repetition": x.Repetition}
	seen := map[string]string{}
	for _, k := range []string{"element", "component", "segment", "repetition"} {
		s := seps[k]
		r, n := utf8.DecodeRuneInString(s)
		if n != len(s) || len(s) == 0 || r > 127 || strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", r) {
			v.add(join(at, k), "a separator is one ASCII character that is not a letter, digit or space")
			continue
		}
		if other, ok := seen[s]; ok {
			v.add(join(at, k), "is the same character as the %s separator", other)
		}
		seen[s] = k
	}
}

func (c *Config) validateChannel(v *validator, at string, ch Channel, partners map[string]bool) {
	if v.required(at+".name", ch.Name) && !nameRE.MatchString(ch.Name) {
		v.add(at+".name", "must be letters, digits, ., _ and -, e.g. nord-sftp")
	}
	if !v.required(at+".type", ch.Type) {
		return
	}
	v.oneOf(at+".type", ch.Type, channelTypes...)
	v.keysFor(at, "channel", ch.Type, channelCommon, channelKeys)
	if ch.Partner != "" && !partners[ch.Partner] {
		v.add(at+".partner", "unknown partner %q", ch.Partner)
	}
	switch ch.Type {
	case ChannelDir:
		v.required(at+".path", ch.Path)
		v.globs(at+".patterns", ch.Patterns, false)
		v.positive(at+".poll", ch.Poll)
		v.notNegative(at+".min_age", ch.MinAge)
		doneFile(v, at, ch.DoneFile)
		if ch.MaxFileBytes <= 0 {
			v.add(at+".max_file_bytes", "must be a positive size")
		}
	case ChannelSFTP:
		validateSFTP(v, at, ch)
	case ChannelSFTPServer:
		validateSFTPServer(v, at, ch, partners)
	case ChannelIMAP:
		validateIMAP(v, at, ch)
	case ChannelWeb:
		if ch.MaxBodyBytes <= 0 {
			v.add(at+".max_body_bytes", "must be a positive size")
		}
	}
}

func doneFile(v *validator, at, suffix string) {
	if suffix != "" && (strings.ContainsAny(suffix, `/\*?[`) || strings.TrimSpace(suffix) != suffix) {
		v.add(at+".done_file", "is a file name suffix such as .done or .ok, without path separators or glob characters")
	}
}

var fingerprintRE = regexp.MustCompile(`^SHA256:([A-Za-z0-9+/]{43})=?$`)

func validateSFTP(v *validator, at string, ch Channel) {
	v.required(at+".host", ch.Host)
	v.port(at+".port", ch.Port)
	v.required(at+".user", ch.User)
	v.env(at+".password_env", ch.PasswordEnv)
	v.env(at+".private_key_passphrase_env", ch.PrivateKeyPassphraseEnv)
	switch {
	case ch.PasswordEnv != "" && ch.PasswordFile != "":
		v.add(at+".password_env", "set password_env or password_file, not both")
	case ch.PasswordEnv == "" && ch.PasswordFile == "" && ch.PrivateKeyFile == "":
		v.add(at+".private_key_file", "the sftp channel %q has no credentials: set private_key_file, password_env or password_file", ch.Name)
	}
	if ch.PrivateKeyPassphraseEnv != "" && ch.PrivateKeyFile == "" {
		v.add(at+".private_key_passphrase_env", "needs private_key_file")
	}
	host := ch.Host
	if host == "" {
		host = "HOST"
	}
	switch {
	case ch.KnownHosts == "" && ch.HostKeyFingerprint == "":
		v.add(at+".known_hosts", "the sftp channel %q has no pinned host key: set known_hosts (ssh-keyscan -p %d %s > known_hosts) or host_key_fingerprint (SHA256:..., from ssh-keyscan -p %d %s | ssh-keygen -lf -); never connect without one",
			ch.Name, ch.Port, host, ch.Port, host)
	case ch.KnownHosts != "" && ch.HostKeyFingerprint != "":
		v.add(at+".host_key_fingerprint", "set known_hosts or host_key_fingerprint, not both")
	case ch.HostKeyFingerprint != "":
		m := fingerprintRE.FindStringSubmatch(ch.HostKeyFingerprint)
		if m == nil {
			v.add(at+".host_key_fingerprint", "must be an OpenSSH SHA256 fingerprint: SHA256: and 43 base64 characters (ssh-keygen -lf)")
		} else if b, err := base64.RawStdEncoding.DecodeString(m[1]); err != nil || len(b) != 32 {
			v.add(at+".host_key_fingerprint", "must be an OpenSSH SHA256 fingerprint: SHA256: and 43 base64 characters (ssh-keygen -lf)")
		}
	}
	v.required(at+".inbox", ch.Inbox)
	switch {
	case ch.Archive != "" && ch.DeleteAfterIngest:
		v.add(at+".archive", "set archive or delete_after_ingest: true, not both")
	case ch.Archive == "" && !ch.DeleteAfterIngest:
		v.add(at+".archive", "say what happens to a file after ingest: archive (a remote folder) or delete_after_ingest: true")
	}
	v.globs(at+".patterns", ch.Patterns, false)
	v.positive(at+".poll", ch.Poll)
	v.notNegative(at+".min_age", ch.MinAge)
	doneFile(v, at, ch.DoneFile)
	v.atLeast(at+".max_files_per_poll", ch.MaxFilesPerPoll, 1)
	v.atLeast(at+".max_concurrent", ch.MaxConcurrent, 1)
	v.atLeast(at+".page_size", ch.PageSize, 1)
	if ch.MaxFileBytes <= 0 {
		v.add(at+".max_file_bytes", "must be a positive size")
	}
}

func validateSFTPServer(v *validator, at string, ch Channel, partners map[string]bool) {
	v.listen(at+".listen", ch.Listen)
	v.required(at+".host_key_file", ch.HostKeyFile)
	v.required(at+".root_dir", ch.RootDir)
	if ch.MaxFileBytes <= 0 {
		v.add(at+".max_file_bytes", "must be a positive size")
	}
	if ch.QuotaBytes < 0 {
		v.add(at+".quota_bytes", "must not be negative (0 is no quota)")
	}
	if len(ch.Users) == 0 {
		v.add(at+".users", "an sftpserver channel needs at least one user")
	}
	seen := map[string]string{}
	for i, u := range ch.Users {
		uat := fmt.Sprintf("%s.users[%d]", at, i)
		if v.required(uat+".name", u.Name) && !nameRE.MatchString(u.Name) {
			v.add(uat+".name", "must be letters, digits, ., _ and -")
		}
		v.unique(seen, uat, "name", u.Name, "user name")
		if v.required(uat+".partner", u.Partner) && !partners[u.Partner] {
			v.add(uat+".partner", "unknown partner %q", u.Partner)
		}
		switch {
		case u.AuthorizedKeysFile != "" && len(u.PublicKeys) > 0:
			v.add(uat+".public_keys", "set authorized_keys_file or public_keys, not both")
		case u.AuthorizedKeysFile == "" && len(u.PublicKeys) == 0:
			v.add(uat+".public_keys", "user %q has no key: set public_keys (authorized_keys lines) or authorized_keys_file", u.Name)
		}
		for j, k := range u.PublicKeys {
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil {
				v.add(fmt.Sprintf("%s.public_keys[%d]", uat, j), "is not an authorized_keys line (e.g. ssh-ed25519 AAAA... comment)")
			}
		}
	}
}

func validateIMAP(v *validator, at string, ch Channel) {
	v.required(at+".host", ch.Host)
	v.port(at+".port", ch.Port)
	v.required(at+".user", ch.User)
	v.env(at+".password_env", ch.PasswordEnv)
	switch {
	case ch.PasswordEnv != "" && ch.PasswordFile != "":
		v.add(at+".password_env", "set password_env or password_file, not both")
	case ch.PasswordEnv == "" && ch.PasswordFile == "":
		v.add(at+".password_env", "the imap channel %q has no password: set password_env or password_file", ch.Name)
	}
	if ch.InsecurePlaintext {
		if v.src.has(at + ".tls") {
			v.add(at+".tls", "insecure_plaintext: true connects without TLS; remove tls or insecure_plaintext")
		}
	} else {
		v.oneOf(at+".tls", ch.TLS, "implicit", "starttls")
	}
	v.required(at+".mailbox", ch.Mailbox)
	v.oneOf(at+".after_ingest", ch.AfterIngest, "move", "flag")
	if ch.AfterIngest == "move" && ch.DoneMailbox == "" {
		v.add(at+".done_mailbox", "after_ingest: move needs done_mailbox (where processed mails go)")
	}
	v.oneOf(at+".kind", ch.Kind, "auto", "fax", "email")
	v.globs(at+".fax_senders", ch.FaxSenders, true)
	if ch.MaxMessageBytes <= 0 {
		v.add(at+".max_message_bytes", "must be a positive size")
	}
	v.positive(at+".poll", ch.Poll)
}

func (c *Config) validateMail(v *validator) {
	m := c.Mail
	if m.Confirmations.PendingResponse && !m.Confirmations.Enabled {
		v.add("mail.confirmations.pending_response", "needs mail.confirmations.enabled: true")
	}
	if !m.Enabled() {
		if m.Confirmations.Enabled {
			v.add("mail.confirmations", "needs mail.smtp.host: there is no server to send them")
		}
		return
	}
	v.required("mail.from", m.From)
	if m.SMTP.TLS != "" {
		v.oneOf("mail.smtp.tls", m.SMTP.TLS, "starttls", "implicit", "none")
	}
	if m.SMTP.TLS == "none" && !m.SMTP.InsecurePlaintext {
		v.add("mail.smtp.tls", "none sends the password in clear: set insecure_plaintext: true to allow it (loopback only)")
	}
	v.env("mail.smtp.password_env", m.SMTP.PasswordEnv)
	if m.SMTP.PasswordEnv != "" && m.SMTP.PasswordFile != "" {
		v.add("mail.smtp.password_env", "set password_env or password_file, not both")
	}
	if m.SMTP.User != "" && m.SMTP.PasswordEnv == "" && m.SMTP.PasswordFile == "" {
		v.add("mail.smtp.user", "a user needs password_env or password_file")
	}
}

func (c *Config) validateRules(v *validator) {
	seen := map[string]string{}
	for i, a := range c.Rules.Approvals {
		at := fmt.Sprintf("rules.approvals[%d]", i)
		v.required(at+".name", a.Name)
		v.unique(seen, at, "name", a.Name, "approval name")
		v.required(at+".when", a.When)
		switch {
		case a.Role != "" && len(a.Levels) > 0:
			v.add(at+".levels", "set role (one approver) or levels (a chain of roles), not both")
		case a.Role == "" && len(a.Levels) == 0:
			v.add(at+".role", "who approves? set role or levels")
		}
		for j, l := range a.Levels {
			v.required(fmt.Sprintf("%s.levels[%d]", at, j), l)
		}
		if a.When != "" {
			if _, err := rules.Compile(rules.Config{Approvals: []rules.Approval{{Name: "x", When: a.When, Role: "x"}}}); err != nil {
				msg := err.Error()
				if i := strings.Index(msg, ": compiling when"); i >= 0 {
					msg = msg[i+2:]
				}
				v.add(at+".when", "does not compile: %s", strings.ReplaceAll(msg, "\n", " | "))
			}
		}
	}
	if c.Rules.PricePolicy != "" {
		v.oneOf("rules.price_policy", c.Rules.PricePolicy, "hold", "note", "correct")
	}
	if c.Rules.Items.Policy != "" {
		v.oneOf("rules.items.policy", c.Rules.Items.Policy, "hold", "adjust", "reject")
	}
	for rule, role := range c.Rules.HoldRoles {
		v.oneOf("rules.hold_roles."+rule, rule, rules.RuleCreditLimit, rules.RulePrice, rules.RuleItem, rules.RuleCustomer, rules.RuleDuplicate, rules.RuleNotes)
		v.required("rules.hold_roles."+rule, role)
	}
}

// RulesFor is the rule set for a partner's orders: the rules section with
// the partner's policies ("" for orders of no known partner).
func (c *Config) RulesFor(partnerID string) rules.Config {
	r := c.Rules
	rc := rules.Config{
		CreditLimit:     r.CreditLimit.Enabled,
		PricePolicy:     rules.PricePolicy(r.PricePolicy),
		ItemPolicy:      rules.ItemPolicy(r.Items.Policy),
		DuplicatePolicy: rules.DuplicateReject,
		Notes:           rules.NotesConfig{Enabled: r.NotesToSalesRep.Enabled, Wait: r.NotesToSalesRep.Wait},
		HoldRoles:       r.HoldRoles,
		NoCustomerCheck: !r.Customers.Enabled,
		NoItemCheck:     !r.Items.Enabled,
	}
	if r.PriceTolerance.IsSet() {
		t := r.PriceTolerance.Percent()
		rc.PriceTolerance = &t
	}
	for _, a := range r.Approvals {
		rc.Approvals = append(rc.Approvals, rules.Approval{Name: a.Name, When: a.When, Role: a.Role, Levels: a.Levels})
	}
	if p, ok := c.Partner(partnerID); ok {
		if p.Duplicates != "" {
			rc.DuplicatePolicy = rules.DuplicatePolicy(p.Duplicates)
		}
		if p.PricePolicy != "" {
			rc.PricePolicy = rules.PricePolicy(p.PricePolicy)
		}
		if p.ItemPolicy != "" {
			rc.ItemPolicy = rules.ItemPolicy(p.ItemPolicy)
		}
	}
	return rc
}

func (c *Config) validateBackends(v *validator, channels map[string]Channel) map[string]bool {
	names := map[string]bool{}
	seen := map[string]string{}
	for i, b := range c.Backends {
		at := fmt.Sprintf("backends[%d]", i)
		if v.required(at+".name", b.Name) && !nameRE.MatchString(b.Name) {
			v.add(at+".name", "must be letters, digits, ., _ and -, e.g. erp")
		}
		v.unique(seen, at, "name", b.Name, "backend name")
		names[b.Name] = true
		if !v.required(at+".type", b.Type) {
			continue
		}
		v.oneOf(at+".type", b.Type, backendTypes...)
		v.keysFor(at, "backend", b.Type, backendCommon, backendKeys)
		if b.Format != "" {
			v.oneOf(at+".format", b.Format, formats...)
		}
		v.atLeast(at+".max_attempts", b.MaxAttempts, 1)
		v.positive(at+".initial_backoff", b.InitialBackoff)
		if b.MaxBackoff < b.InitialBackoff {
			v.add(at+".max_backoff", "must not be shorter than initial_backoff")
		}
		switch b.Type {
		case BackendFiledrop:
			v.required(at+".dir", b.Dir)
		case BackendWebhook:
			if v.required(at+".url", b.URL) {
				v.url(at+".url", b.URL, "http", "https")
			}
			v.env(at+".secret_env", b.SecretEnv)
			if b.SecretEnv != "" && b.SecretFile != "" {
				v.add(at+".secret_env", "set secret_env or secret_file, not both")
			}
			v.positive(at+".timeout", b.Timeout)
		case BackendSFTP:
			if v.required(at+".channel", b.Channel) {
				ch, ok := channels[b.Channel]
				switch {
				case !ok:
					v.add(at+".channel", "unknown channel %q", b.Channel)
				case ch.Type != ChannelSFTP:
					v.add(at+".channel", "channel %q is a %s channel; an sftp backend needs an sftp channel (its host, user and pinned host key)", b.Channel, ch.Type)
				}
			}
		case BackendRabbitMQ:
			if v.required(at+".url_env", b.URLEnv) {
				v.env(at+".url_env", b.URLEnv)
			}
			if b.Queue == "" && b.Exchange == "" {
				v.add(at+".queue", "set queue or exchange")
			}
		case BackendNATS:
			if v.required(at+".url", b.URL) {
				v.url(at+".url", b.URL, "nats", "tls", "ws", "wss")
			}
			v.required(at+".subject", b.Subject)
		}
	}
	return names
}

func (c *Config) validateRoutes(v *validator, backends map[string]bool) {
	seen := map[string]string{}
	catchAll := ""
	hasDefault := false
	for i, r := range c.Routes {
		at := fmt.Sprintf("routes[%d]", i)
		v.required(at+".name", r.Name)
		v.unique(seen, at, "name", r.Name, "route name")
		if catchAll != "" {
			v.add(at, "route %q is unreachable: route %q before it takes every order (give it a when, or continue: true)", r.Name, catchAll)
		}
		if v.src.has(at+".when") && strings.TrimSpace(r.When) == "" {
			v.add(at+".when", "is empty; leave when out for the default route")
		} else if r.When != "" {
			if _, err := routetable.Compile(r.When); err != nil {
				v.add(at+".when", "does not compile: %s", strings.ReplaceAll(err.Error(), "\n", " | "))
			}
		}
		if r.When == "" || routetable.AlwaysTrue(r.When) {
			hasDefault = true
			if !r.Continue && catchAll == "" {
				catchAll = r.Name
				if catchAll == "" {
					catchAll = "#" + strconv.Itoa(i)
				}
			}
		}
		if len(r.To) == 0 {
			v.add(at+".to", "is required: one backend name or a list")
		}
		for j, b := range r.To {
			if !backends[b] {
				p := at + ".to"
				if v.src.has(fmt.Sprintf("%s[%d]", p, j)) {
					p = fmt.Sprintf("%s[%d]", p, j)
				}
				v.add(p, "unknown backend %q", b)
			}
		}
		if r.Format != "" {
			v.oneOf(at+".format", r.Format, formats...)
		}
	}
	if len(c.Routes) > 0 && !hasDefault {
		v.add("routes", "no default route: add a last route without when, e.g. {name: default, to: <backend>}, so no accepted order stays undelivered")
	}
}

// secretKeyProblems reports keys that hold a secret inline, anywhere in
// the file. The message says which key to use instead and never shows the
// value.
func secretKeyProblems(src *source) []Problem {
	var ps []Problem
	for at, keys := range src.keys {
		for _, k := range keys {
			lk := strings.ToLower(k)
			if hint, ok := secretHint(at, lk); ok {
				ps = append(ps, src.problem(join(at, lk), "secrets are not allowed in the config file: %s", hint))
			}
		}
	}
	return ps
}

var secretWords = []string{"password", "passwd", "secret", "token", "passphrase", "api_key", "apikey", "private_key", "credential"}

func secretHint(at, k string) (string, bool) {
	if strings.HasSuffix(k, "_env") || strings.HasSuffix(k, "_file") || strings.HasSuffix(k, "_from") {
		return "", false
	}
	if !slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(k, w) }) {
		return "", false
	}
	switch {
	case k == "private_key":
		return "the key goes in a file: use private_key_file", true
	case strings.Contains(k, "passphrase"):
		return "put it in an environment variable and use private_key_passphrase_env", true
	case k == "password" || k == "secret":
		return fmt.Sprintf("put it in an environment variable and use %s_env (or %s_file)", k, k), true
	case strings.Contains(k, "token") && at == "http":
		return "put it in an environment variable and use admin_token_env", true
	case strings.HasPrefix(k, "api_key") || strings.HasPrefix(k, "apikey"):
		return "API keys live hashed in the store: make them with `ordergate apikey create CUSTOMER`", true
	}
	return fmt.Sprintf("put it in an environment variable and use %s_env", k), true
}
