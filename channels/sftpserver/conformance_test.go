package sftpserver

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/channeltest"
)

func TestConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T) channeltest.Inbox {
		f := newFixture(t)
		f.cfg.Poll = 50 * time.Millisecond
		var (
			mu      sync.Mutex
			servers []*Server
		)
		return channeltest.Inbox{
			Open: func(t *testing.T) channels.Source {
				srv, err := New(f.cfg, f.log.logger())
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				servers = append(servers, srv)
				mu.Unlock()
				return srv
			},
			// Put uploads through the newest connected server, the way the
			// partner would.
			Put: func(t *testing.T, name string, body []byte) {
				t.Helper()
				mu.Lock()
				var srv *Server
				for _, s := range servers {
					if s.Addr() != nil {
						srv = s
					}
				}
				mu.Unlock()
				if srv == nil {
					t.Fatal("Put: no server connected")
				}
				c := f.client(t, srv, "nord")
				if err := putFile(c, "/in/"+name, body); err != nil {
					t.Fatalf("uploading %s: %v", name, err)
				}
			},
			Pending: func(t *testing.T) []string { return visibleFiles(t, f.dir("nord", "in")) },
		}
	})
}

func TestOutboxConformance(t *testing.T) {
	channeltest.RunOutbound(t, func(t *testing.T) channeltest.Outbox {
		f := newFixture(t)
		srv, err := New(f.cfg, f.log.logger())
		if err != nil {
			t.Fatal(err)
		}
		out := f.dir("sued", "out")
		return channeltest.Outbox{
			Open: func(t *testing.T) channels.Outbound {
				o, err := srv.Outbound("sued")
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
			Files: func(t *testing.T) map[string][]byte {
				files := map[string][]byte{}
				entries, err := os.ReadDir(out)
				if os.IsNotExist(err) {
					return files
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					b, err := os.ReadFile(filepath.Join(out, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					files[e.Name()] = b
				}
				return files
			},
		}
	})
}
