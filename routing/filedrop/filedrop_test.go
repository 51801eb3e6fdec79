package filedrop_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/filedrop"
	"github.com/ordergate/ordergate/routing/routingtest"
)

func newBackend(t *testing.T, dir string) *filedrop.Backend {
	t.Helper()
	b, err := filedrop.New(filedrop.Config{Name: "erp-files", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	routingtest.Run(t, func(t *testing.T) routingtest.Destination {
		dir := t.TempDir()
		return routingtest.Destination{
			Open: func(t *testing.T) routing.Backend { return newBackend(t, dir) },
			Artifacts: func(t *testing.T) []routingtest.Artifact {
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				var arts []routingtest.Artifact
				for _, e := range entries {
					b, err := os.ReadFile(filepath.Join(dir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					// The suite's order ids are safe, so the key is the
					// file name without its extension.
					arts = append(arts, routingtest.Artifact{Key: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), Body: b})
				}
				return arts
			},
			Dedupes: true,
		}
	})
}

func TestFileName(t *testing.T) {
	tests := []struct {
		id     string
		rev    int
		format routing.Format
		want   string
	}{
		{"ord_01J9ABC", 1, routing.FormatJSON, "ord_01J9ABC.r1.json"},
		{"ord_01J9ABC", 12, routing.FormatEDIFACTOrders, "ord_01J9ABC.r12.edi"},
		{"ord-7", 2, routing.FormatX12850, "ord-7.r2.x12"},
		{"../../etc/passwd", 1, routing.FormatCSV, "______etc_passwd-"},
		{"a/b", 1, routing.FormatJSON, "a_b-"},
		{"a_b", 1, routing.FormatJSON, "a_b.r1.json"},
		{"Bestellung März", 1, "xml", "Bestellung_M_rz-"},
		{".hidden", 1, routing.FormatJSON, "_hidden-"},
		{strings.Repeat("x", 150), 1, routing.FormatJSON, strings.Repeat("x", 100) + "-"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		d := routing.Delivery{OrderID: tt.id, Revision: tt.rev, Payload: routing.Payload{Format: tt.format}}
		got := filedrop.FileName(d)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("FileName(%q, %d, %s) = %q, want prefix %q", tt.id, tt.rev, tt.format, got, tt.want)
		}
		for _, r := range got {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", r) {
				t.Errorf("FileName(%q) = %q has unsafe character %q", tt.id, got, r)
			}
		}
		if strings.HasPrefix(got, ".") || strings.Contains(got, "..") || len(got) > 255 {
			t.Errorf("FileName(%q) = %q is not a plain file name", tt.id, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("FileName(%q) = FileName(%q) = %q", tt.id, other, got)
		}
		seen[got] = tt.id
		if again := filedrop.FileName(d); again != got {
			t.Errorf("FileName(%q) not stable: %q then %q", tt.id, got, again)
		}
	}
}

func TestRedeliveryWithOtherBytesKeepsFirst(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir)
	d := routingtest.Delivery(t, 1, 1)
	if _, err := b.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	first := append([]byte(nil), d.Payload.Body...)
	d.Payload.Body = []byte(`{"re-rendered":true}`)
	r, err := b.Deliver(context.Background(), d)
	if err != nil {
		t.Fatalf("redelivery with other bytes: %v", err)
	}
	if !r.Duplicate || !strings.Contains(r.Detail, "other content") {
		t.Errorf("receipt = %+v, want Duplicate with a detail about other content", r)
	}
	got, err := os.ReadFile(filepath.Join(dir, filedrop.FileName(d)))
	if err != nil || string(got) != string(first) {
		t.Errorf("file = %q, %v; want the first bytes kept", got, err)
	}
}

func TestReceiptUsesClock(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	b, err := filedrop.New(filedrop.Config{Name: "f", Dir: t.TempDir(), Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	d := routingtest.Delivery(t, 1, 1)
	r, err := b.Deliver(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !r.At.Equal(at) || r.ExternalRef != filedrop.FileName(d) || r.Duplicate {
		t.Errorf("receipt = %+v, want At %v, ExternalRef %q, not Duplicate", r, at, filedrop.FileName(d))
	}
}

func TestDiskErrorIsRetryable(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	_, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
	if err == nil {
		t.Fatal("Deliver into a removed folder succeeded")
	}
	if errors.Is(err, routing.ErrPermanent) {
		t.Errorf("Deliver = %v: a file system error must be retryable, not permanent", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  filedrop.Config
		want []string
	}{
		{filedrop.Config{Name: "a", Dir: "/x"}, nil},
		{filedrop.Config{}, []string{"name is required", "dir is required"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == nil) {
			t.Fatalf("Validate(%+v) = %v, want errors %q", tt.cfg, err, tt.want)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate = %q, want it to contain %q", err, w)
			}
		}
	}
}
