package lease_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/lease"
)

// TestLocal: the single node leads at once, tokens increase per name,
// Check succeeds, Held lists what runs, and two Leads of one name in the
// process take turns.
func TestLocal(t *testing.T) {
	el := lease.Local("solo")
	if el.Node() != "solo" {
		t.Errorf("Node() = %q", el.Node())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	start := time.Now()
	started := make(chan lease.Lease, 4)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- el.Lead(lctx, "sftp:acme", func(ctx context.Context, l lease.Lease) error {
			started <- l
			if l.Token() == 1 {
				return nil // returns on its own: led again
			}
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	first := <-started
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("first lead after %v, want at once", d)
	}
	second := <-started
	if first.Token() != 1 || second.Token() != 2 || second.Name() != "sftp:acme" {
		t.Errorf("tokens %d, %d of %q, want 1, 2 of sftp:acme", first.Token(), second.Token(), second.Name())
	}
	if err := second.Check(ctx); err != nil {
		t.Errorf("Check = %v", err)
	}
	if h := el.Held(); len(h) != 1 || h[0].Name != "sftp:acme" || h[0].Token != 2 || h[0].Since.IsZero() {
		t.Errorf("Held() = %+v", h)
	}

	// A second Lead of the same name waits for its turn.
	var mu sync.Mutex
	var order []string
	other := make(chan error, 1)
	octx, ostop := context.WithCancel(ctx)
	go func() {
		other <- el.Lead(octx, "sftp:acme", func(ctx context.Context, l lease.Lease) error {
			mu.Lock()
			order = append(order, "second")
			mu.Unlock()
			if l.Token() != 3 {
				t.Errorf("token of the second Lead = %d, want 3", l.Token())
			}
			<-ctx.Done()
			return nil
		})
	}()
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	if len(order) != 0 {
		t.Error("a second Lead of a held name ran at once")
	}
	mu.Unlock()
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Lead = %v, want context.Canceled", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		n := len(order)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second Lead did not take its turn")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ostop()
	if err := <-other; !errors.Is(err, context.Canceled) {
		t.Errorf("second Lead = %v", err)
	}
	if h := el.Held(); len(h) != 0 {
		t.Errorf("Held() after the end = %+v", h)
	}
	if err := el.Lead(ctx, "", nil); !errors.Is(err, lease.ErrConfig) {
		t.Errorf("Lead with an empty name = %v", err)
	}
}
