package sftpdrop_test

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/channeltest"
	"github.com/ordergate/ordergate/channels/sftpdrop"
	"github.com/ordergate/ordergate/channels/sftpdrop/sftptest"
)

// steppingClock moves on an hour at every call, so every file is stable
// on its second sighting without the test waiting for MinAge.
func steppingClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Hour) }
}

func endpoint(s *sftptest.Server) sftpdrop.Endpoint {
	return sftpdrop.Endpoint{
		Host: sftptest.Host, User: s.User, PrivateKeyFile: s.ClientKeyFile,
		KnownHostsFile: s.KnownHostsFile, DialContext: s.Dial,
	}
}

func testConfig(s *sftptest.Server) sftpdrop.Config {
	return sftpdrop.Config{
		Name: "partner-sftp", Server: endpoint(s),
		Inbox: "inbox", Archive: "archive", Outbox: "outbox",
		Poll: 2 * time.Millisecond, Clock: steppingClock(),
		ReconnectMin: 5 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
	}
}

func newChannel(t *testing.T, cfg sftpdrop.Config) *sftpdrop.Channel {
	t.Helper()
	ch, err := sftpdrop.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func putFile(t *testing.T, dir, name string, body []byte) {
	t.Helper()
	part := filepath.Join(dir, name+".part")
	if err := os.WriteFile(part, body, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(part, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults sftptest.Faults
	}{
		{"plain", sftptest.Faults{}},
		// Short reads are legal: the channel asks again and the bytes
		// still come whole.
		{"short reads", sftptest.Faults{ShortReads: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			channeltest.Run(t, func(t *testing.T) channeltest.Inbox {
				srv := sftptest.Start(t)
				srv.SetFaults(tt.faults)
				inbox := filepath.Join(srv.Dir, "inbox")
				if err := os.Mkdir(inbox, 0o750); err != nil {
					t.Fatal(err)
				}
				cfg := testConfig(srv)
				return channeltest.Inbox{
					Open:    func(t *testing.T) channels.Source { return newChannel(t, cfg) },
					Put:     func(t *testing.T, name string, body []byte) { putFile(t, inbox, name, body) },
					Pending: func(t *testing.T) []string { return regularFiles(t, inbox) },
				}
			})
		})
	}
}

func TestOutboxConformance(t *testing.T) {
	channeltest.RunOutbound(t, func(t *testing.T) channeltest.Outbox {
		srv := sftptest.Start(t)
		cfg := testConfig(srv)
		dir := filepath.Join(srv.Dir, "outbox")
		return channeltest.Outbox{
			Open: func(t *testing.T) channels.Outbound {
				ch := newChannel(t, cfg)
				t.Cleanup(func() { ch.Close(t.Context()) })
				return ch
			},
			Files: func(t *testing.T) map[string][]byte {
				files := map[string][]byte{}
				for _, name := range regularFiles(t, dir) {
					b, err := os.ReadFile(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					files[name] = b
				}
				return files
			},
		}
	})
}
