package config

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Preflight checks what [Config.Validate] cannot see from the file alone,
// for `ordergate serve`: the environment variables named by *_env keys are
// set and not empty, and the files named by *_file keys, TLS certificates,
// known_hosts, host keys, authorized keys, API key files and master data
// exist and can be read (known_hosts and authorized_keys must also parse).
// Disabled channels and backends no route uses are skipped: they are not
// started. It returns every problem joined; secret
// values are read only to be checked and never appear in a message.
func (c *Config) Preflight() error {
	v := &validator{src: c.src}
	if c.Store.Driver == DriverPostgres && c.Store.DSNEnv != "" {
		v.secret("store.dsn_env", c.Store.DSNRef())
	}
	if c.Pipeline.Broker.Type != "" {
		v.secret("pipeline.broker.url_env", c.Pipeline.Broker.URLRef())
	}
	v.readable("http.tls_cert_file", c.HTTP.TLSCertFile)
	v.readable("http.tls_key_file", c.HTTP.TLSKeyFile)
	for i, ch := range c.Channels {
		if !ch.Enabled {
			continue
		}
		at := fmt.Sprintf("channels[%d]", i)
		switch ch.Type {
		case ChannelSFTP:
			v.secretOf(at, "password", ch.Password())
			v.readable(at+".private_key_file", ch.PrivateKeyFile)
			if ch.PrivateKeyPassphraseEnv != "" {
				v.secret(at+".private_key_passphrase_env", ch.PrivateKeyPassphrase())
			}
			if data, ok := v.readable(at+".known_hosts", ch.KnownHosts); ok && !knownHostsHasEntry(data) {
				v.add(at+".known_hosts", "file %s has no host key entry (ssh-keyscan -p %d %s > %s)", ch.KnownHosts, ch.Port, ch.Host, ch.KnownHosts)
			}
		case ChannelIMAP:
			v.secretOf(at, "password", ch.Password())
		case ChannelSFTPServer:
			// A missing host key is generated on the first start; its
			// folder must exist.
			if _, err := os.Stat(ch.HostKeyFile); err == nil {
				v.readable(at+".host_key_file", ch.HostKeyFile)
			} else if st, err := os.Stat(filepath.Dir(ch.HostKeyFile)); err != nil || !st.IsDir() {
				v.add(at+".host_key_file", "folder %s does not exist: the host key is generated there on the first start", filepath.Dir(ch.HostKeyFile))
			}
			for j, u := range ch.Users {
				uat := fmt.Sprintf("%s.users[%d].authorized_keys_file", at, j)
				if data, ok := v.readable(uat, u.AuthorizedKeysFile); ok && !authorizedKeysValid(data) {
					v.add(uat, "file %s has a line that is not an authorized_keys entry, or no entry at all", u.AuthorizedKeysFile)
				}
			}
		}
	}
	for i, ch := range c.Channels {
		if ch.Enabled && ch.Type == ChannelIMAP && ch.CAFile != "" {
			v.readable(fmt.Sprintf("channels[%d].ca_file", i), ch.CAFile)
		}
	}
	if c.Capture.Profiles != "" {
		v.readable("capture.profiles", c.Capture.Profiles)
	}
	if c.Mail.Enabled() && !c.Mail.SMTP.Password().IsZero() {
		v.secretOf("mail.smtp", "password", c.Mail.SMTP.Password())
	}
	if c.Mail.Enabled() && c.Mail.SMTP.CAFile != "" {
		v.readable("mail.smtp.ca_file", c.Mail.SMTP.CAFile)
	}
	routed := map[string]bool{}
	for _, r := range c.Routes {
		for _, b := range r.To {
			routed[b] = true
		}
	}
	for i, b := range c.Backends {
		if !routed[b.Name] {
			continue // not started, so its secrets are not needed
		}
		at := fmt.Sprintf("backends[%d]", i)
		switch b.Type {
		case BackendWebhook:
			if !b.Secret().IsZero() {
				v.secretOf(at, "secret", b.Secret())
			}
		case BackendRabbitMQ:
			v.secret(at+".url_env", b.URLRef())
		}
	}
	for i, m := range c.Masterdata.Load {
		v.readable(fmt.Sprintf("masterdata.load[%d].file", i), m.File)
	}
	return joinProblems(sortProblems(v.ps))
}

// secretOf checks a secret given as <key>_env or <key>_file at channel or
// backend path at.
func (v *validator) secretOf(at, key string, r SecretRef) {
	p := at + "." + key + "_env"
	if r.Env == "" {
		p = at + "." + key + "_file"
	}
	v.secret(p, r)
}

func (v *validator) secret(at string, r SecretRef) {
	switch {
	case r.Env != "":
		val, ok := os.LookupEnv(r.Env)
		if !ok {
			v.add(at, "environment variable %s is not set", r.Env)
		} else if strings.TrimSpace(val) == "" {
			v.add(at, "environment variable %s is empty", r.Env)
		}
	case r.File != "":
		if data, ok := v.readable(at, r.File); ok && len(bytes.TrimSpace(data)) == 0 {
			v.add(at, "file %s is empty", r.File)
		}
	}
}

// readable reads a file named in the config; "" is not checked.
func (v *validator) readable(at, file string) ([]byte, bool) {
	if file == "" {
		return nil, false
	}
	data, err := os.ReadFile(file)
	if err != nil {
		v.add(at, "%s", fileMsg(file, err))
		return nil, false
	}
	return data, true
}

func fileMsg(file string, err error) string {
	switch {
	case os.IsNotExist(err):
		return fmt.Sprintf("file %s does not exist", file)
	case os.IsPermission(err):
		return fmt.Sprintf("file %s cannot be read (permission denied)", file)
	}
	if strings.Contains(err.Error(), "is a directory") {
		return fmt.Sprintf("%s is a directory, not a file", file)
	}
	return fmt.Sprintf("file %s cannot be read", file)
}

func knownHostsHasEntry(data []byte) bool {
	_, _, _, _, _, err := ssh.ParseKnownHosts(data)
	return err == nil
}

func authorizedKeysValid(data []byte) bool {
	n := 0
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey(line); err != nil {
			return false
		}
		n++
	}
	return n > 0
}

// NewLogger builds the process logger the log section describes, writing
// to w.
func (l Log) NewLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
