package sftp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels/sftpdrop"
	"github.com/ordergate/ordergate/channels/sftpdrop/sftptest"
	"github.com/ordergate/ordergate/internal/testenv/sshd"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/routingtest"
	sftpbackend "github.com/ordergate/ordergate/routing/sftp"
)

func open(t *testing.T, cfg sftpbackend.Config) *sftpbackend.Backend {
	t.Helper()
	b, err := sftpbackend.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// artifacts reads a local folder the way routingtest wants it: every file,
// leftovers (.part) included, keyed by its name without extensions.
func artifacts(t *testing.T, dir string) []routingtest.Artifact {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var arts []routingtest.Artifact
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		// The suite's order ids are safe: the key is the name without
		// ".part" and the format's extension.
		key := strings.TrimSuffix(e.Name(), ".part")
		key = strings.TrimSuffix(key, filepath.Ext(key))
		arts = append(arts, routingtest.Artifact{Key: key, Body: b})
	}
	return arts
}

func inProcessConfig(srv *sftptest.Server) sftpbackend.Config {
	return sftpbackend.Config{
		Name: "erp",
		Server: sftpdrop.Endpoint{Host: sftptest.Host, User: srv.User, PrivateKeyFile: srv.ClientKeyFile,
			KnownHostsFile: srv.KnownHostsFile, DialContext: srv.Dial},
		Dir: "orders",
	}
}

func TestConformance(t *testing.T) {
	routingtest.Run(t, func(t *testing.T) routingtest.Destination {
		srv := sftptest.Start(t)
		cfg := inProcessConfig(srv)
		return routingtest.Destination{
			Open:      func(t *testing.T) routing.Backend { return open(t, cfg) },
			Artifacts: func(t *testing.T) []routingtest.Artifact { return artifacts(t, filepath.Join(srv.Dir, "orders")) },
			Dedupes:   true,
		}
	})
}

func TestConformanceOpenSSH(t *testing.T) {
	srv := sshd.Start(t)
	n := 0
	routingtest.Run(t, func(t *testing.T) routingtest.Destination {
		n++
		dir := "/data/erp" + string(rune('a'+n))
		srv.MkdirAll(dir)
		cfg := sftpbackend.Config{
			Name: "erp",
			Server: sftpdrop.Endpoint{Host: srv.Host, Port: srv.Port, User: srv.User,
				PrivateKeyFile: srv.ClientKeyFile, HostKeyFingerprint: srv.HostKeyFingerprint},
			Dir: dir,
		}
		return routingtest.Destination{
			Open:      func(t *testing.T) routing.Backend { return open(t, cfg) },
			Artifacts: func(t *testing.T) []routingtest.Artifact { return artifacts(t, srv.Path(dir)) },
			Dedupes:   true,
		}
	})
}

func TestRedeliveryWithOtherBytesKeepsFirst(t *testing.T) {
	srv := sftptest.Start(t)
	b := open(t, inProcessConfig(srv))
	defer b.Close(context.Background())
	d := routingtest.Delivery(t, 1, 1)
	first := string(d.Payload.Body)
	if r, err := b.Deliver(t.Context(), d); err != nil || r.Duplicate || r.ExternalRef != "orders/ord_test_0001.r1.json" {
		t.Fatalf("Deliver = %+v, %v", r, err)
	}
	d.Payload.Body = []byte(`{"re-rendered":true}`)
	r, err := b.Deliver(t.Context(), d)
	if err != nil || !r.Duplicate || !strings.Contains(r.Detail, "other content") {
		t.Fatalf("redelivery with other bytes = %+v, %v; want Duplicate about other content", r, err)
	}
	got, err := os.ReadFile(filepath.Join(srv.Dir, "orders", "ord_test_0001.r1.json"))
	if err != nil || string(got) != first {
		t.Errorf("file = %q, %v; want the first bytes kept", got, err)
	}
}

func TestReconnectsAfterDrop(t *testing.T) {
	srv := sftptest.Start(t)
	cfg := inProcessConfig(srv)
	cfg.Clock = func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }
	b := open(t, cfg)
	defer b.Close(context.Background())
	if _, err := b.Deliver(t.Context(), routingtest.Delivery(t, 1, 1)); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	// The first attempt after the drop may fail (retryable); the next
	// dials again.
	d := routingtest.Delivery(t, 2, 1)
	var err error
	for range 3 {
		var r routing.Receipt
		if r, err = b.Deliver(t.Context(), d); err == nil {
			if !r.At.Equal(cfg.Clock()) {
				t.Errorf("receipt time %v, want the clock's", r.At)
			}
			break
		}
		if errors.Is(err, routing.ErrPermanent) {
			t.Fatalf("connection loss reported as permanent: %v", err)
		}
	}
	if err != nil {
		t.Fatalf("Deliver after a drop: %v", err)
	}
	if srv.Dials() < 2 {
		t.Errorf("dials = %d, want a reconnect", srv.Dials())
	}
}

func TestNewRefusesWithoutPin(t *testing.T) {
	srv := sftptest.Start(t)
	cfg := inProcessConfig(srv)
	cfg.Server.KnownHostsFile = ""
	if _, err := sftpbackend.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "host key") {
		t.Errorf("New without a pin = %v, want a refusal naming the host key", err)
	}
	cfg = inProcessConfig(srv)
	cfg.Dir = ""
	if _, err := sftpbackend.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "dir is required") {
		t.Errorf("New without dir = %v", err)
	}
}
