package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/routing"
	"github.com/sony/gobreaker/v2"
)

func TestBreakers(t *testing.T) {
	ctx := context.Background()
	var changes []gobreaker.State
	b := newBreakers(20*time.Millisecond, func(_ string, _, to gobreaker.State) { changes = append(changes, to) })
	down := func(context.Context) (routing.Receipt, error) { return routing.Receipt{}, errors.New("503") }
	refused := func(context.Context) (routing.Receipt, error) {
		return routing.Receipt{}, routing.Permanent(errors.New("400 bad order"))
	}
	up := func(context.Context) (routing.Receipt, error) { return routing.Receipt{ExternalRef: "x"}, nil }

	// Permanent failures are the order's fault: they never trip.
	for range 2 * breakerTrip {
		b.call(ctx, "erp", refused)
	}
	if got := b.admit("erp"); got != -1 {
		t.Fatalf("admit after permanent failures = %d, want -1 (closed)", got)
	}
	for i := range breakerTrip {
		if got := b.admit("erp"); got != -1 {
			t.Fatalf("admit after %d transient failures = %d, want -1", i, got)
		}
		b.call(ctx, "erp", down)
	}
	if got := b.admit("erp"); got != 0 {
		t.Fatalf("admit after %d failures in a row = %d, want 0 (open)", breakerTrip, got)
	}
	if got := b.admit("wms"); got != -1 {
		t.Errorf("another backend's admit = %d, want -1: breakers are per backend", got)
	}
	// The deliveries of an open backend are not leased; the others are.
	p := &Pipeline{breakers: b}
	due := []store.Delivery{{ID: "1", Backend: "erp"}, {ID: "2", Backend: "wms"}, {ID: "3", Backend: "erp"}}
	if got := p.admitted(due); len(got) != 1 || got[0].ID != "2" {
		t.Errorf("admitted = %+v, want only the wms delivery", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.admit("erp") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the breaker did not half-open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	due = []store.Delivery{{ID: "1", Backend: "erp"}, {ID: "2", Backend: "erp"}}
	if got := p.admitted(due); len(got) != 1 {
		t.Errorf("half-open admitted %d deliveries, want 1", len(got))
	}
	if _, err := b.call(ctx, "erp", up); err != nil {
		t.Fatal(err)
	}
	if got := b.admit("erp"); got != -1 {
		t.Errorf("admit after a success in half-open = %d, want -1 (closed)", got)
	}
	want := []gobreaker.State{gobreaker.StateOpen, gobreaker.StateHalfOpen, gobreaker.StateClosed}
	if len(changes) != len(want) {
		t.Fatalf("state changes = %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Errorf("state change %d = %v, want %v", i, changes[i], want[i])
		}
	}
}
