package dirdrop_test

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/channeltest"
	"github.com/ordergate/ordergate/channels/dirdrop"
)

// steppingClock moves on an hour at every call, so every file is stable
// on its second sighting without the test waiting for MinAge.
func steppingClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Hour) }
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
	if err != nil {
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
	channeltest.Run(t, func(t *testing.T) channeltest.Inbox {
		inbox, spool := t.TempDir(), t.TempDir()
		clock := steppingClock()
		return channeltest.Inbox{
			Open: func(t *testing.T) channels.Source {
				d, err := dirdrop.New(dirdrop.Config{
					Name: "dir", Path: inbox, Poll: 2 * time.Millisecond,
					SpoolDir: spool, Clock: clock,
				})
				if err != nil {
					t.Fatal(err)
				}
				return d
			},
			Put:     func(t *testing.T, name string, body []byte) { putFile(t, inbox, name, body) },
			Pending: func(t *testing.T) []string { return regularFiles(t, inbox) },
		}
	})
}

func TestOutboxConformance(t *testing.T) {
	channeltest.RunOutbound(t, func(t *testing.T) channeltest.Outbox {
		dir := t.TempDir()
		return channeltest.Outbox{
			Open: func(t *testing.T) channels.Outbound { return &dirdrop.Outbox{Dir: dir} },
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
