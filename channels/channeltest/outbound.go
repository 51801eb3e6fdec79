package channeltest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/ordergate/ordergate/channels"
)

// Outbox is one fresh, empty destination of the Outbound under test.
type Outbox struct {
	// Open returns the Outbound writing to the destination.
	Open func(t *testing.T) channels.Outbound
	// Files returns every file at the destination, temporary ones
	// included, by name.
	Files func(t *testing.T) map[string][]byte
}

// RunOutbound runs the Outbound conformance suite as subtests of t: a sent
// file arrives whole under its name and nothing else is left behind;
// sending the same name again, also concurrently, makes no second file;
// names that are not one safe path element are refused with
// ErrInvalidName; a cancelled ctx is honoured.
func RunOutbound(t *testing.T, newOutbox func(t *testing.T) Outbox) {
	tests := []struct {
		name string
		fn   func(t *testing.T, o Outbox)
	}{
		{"SendArrivesWhole", testSend},
		{"SendIdempotentByName", testSendTwice},
		{"ConcurrentSendsOfOneName", testSendConcurrent},
		{"InvalidNamesRefused", testSendInvalid},
		{"HonoursContext", testSendContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutbox(t)
			if o.Open == nil || o.Files == nil {
				t.Fatal("channeltest: Outbox needs Open and Files")
			}
			tt.fn(t, o)
		})
	}
}

func assertFiles(t *testing.T, o Outbox, want map[string][]byte) {
	t.Helper()
	got := o.Files(t)
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("files = %q, want %q", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s: got %d bytes, want %d", name, len(got[name]), len(b))
		}
	}
}

func testSend(t *testing.T, o Outbox) {
	out := o.Open(t)
	want := map[string][]byte{
		"997_000004711.x12":      []byte("ISA*00*...~"),
		"ORDRSP 4711 März.edi":   []byte("UNA:+.? 'UNB+UNOC:3'"),
		"empty-confirmation.txt": {},
	}
	for name, b := range want {
		if err := out.Send(context.Background(), name, b); err != nil {
			t.Fatalf("Send %q: %v", name, err)
		}
	}
	assertFiles(t, o, want)
}

func testSendTwice(t *testing.T, o Outbox) {
	out := o.Open(t)
	b := []byte("ISA*00*...~")
	for range 2 {
		if err := out.Send(context.Background(), "997_1.x12", b); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	assertFiles(t, o, map[string][]byte{"997_1.x12": b})
}

func testSendConcurrent(t *testing.T, o Outbox) {
	out := o.Open(t)
	b := bytes.Repeat([]byte("855 "), 10000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- out.Send(context.Background(), "855_1.x12", b) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Send: %v", err)
		}
	}
	assertFiles(t, o, map[string][]byte{"855_1.x12": b})
}

func testSendInvalid(t *testing.T, o Outbox) {
	out := o.Open(t)
	for _, name := range []string{"", "../escape.x12", "a/b.x12", "/abs.x12", ".hidden", "x.part", "nul\x00.x12"} {
		if err := out.Send(context.Background(), name, []byte("x")); !errors.Is(err, channels.ErrInvalidName) {
			t.Errorf("Send(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	assertFiles(t, o, map[string][]byte{})
}

func testSendContext(t *testing.T, o Outbox) {
	out := o.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := out.Send(ctx, "997_2.x12", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled ctx = %v, want context.Canceled", err)
	}
	assertFiles(t, o, map[string][]byte{})
}
