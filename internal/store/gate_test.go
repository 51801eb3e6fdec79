package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// waitQueued waits until the gate has the given numbers of waiters.
func waitQueued(t *testing.T, g *writeGate, urgent, normal int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, n := g.waiting()
		if u == urgent && n == normal {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiters: %d urgent, %d normal; want %d, %d", u, n, urgent, normal)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWriteGateOrder(t *testing.T) {
	now := time.Unix(0, 0)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }

	tests := []struct {
		name    string
		arrive  []string      // waiters queued in this order while the gate is held: "u1", "n1", ...
		elapsed time.Duration // the clock moves on before the first release
		want    []string      // the order in which they get the gate
	}{
		{"arrival order within a class", []string{"n1", "n2", "n3"}, 0, []string{"n1", "n2", "n3"}},
		{"urgent first", []string{"n1", "u1", "n2", "u2"}, 0, []string{"u1", "u2", "n1", "n2"}},
		{"a normal writer waiting too long goes next", []string{"n1", "u1", "u2"}, defaultMaxDefer, []string{"n1", "u1", "u2"}},
		{"only urgent", []string{"u1", "u2"}, time.Hour, []string{"u1", "u2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newWriteGate()
			g.now = clock
			if err := g.acquire(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			got := make(chan string, len(tt.arrive))
			var wg sync.WaitGroup
			urgent, normal := 0, 0
			for _, name := range tt.arrive {
				isU := name[0] == 'u'
				if isU {
					urgent++
				} else {
					normal++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := g.acquire(context.Background(), isU); err != nil {
						t.Error(err)
						return
					}
					got <- name
					g.release()
				}()
				waitQueued(t, g, urgent, normal) // one at a time: arrival order is known
			}
			advance(tt.elapsed)
			g.release()
			wg.Wait()
			close(got)
			var order []string
			for n := range got {
				order = append(order, n)
			}
			if len(order) != len(tt.want) {
				t.Fatalf("served %v, want %v", order, tt.want)
			}
			for i := range order {
				if order[i] != tt.want[i] {
					t.Fatalf("served %v, want %v", order, tt.want)
				}
			}
			if u, n := g.waiting(); u != 0 || n != 0 || g.held {
				t.Errorf("after all: %d urgent, %d normal waiting, held %v", u, n, g.held)
			}
		})
	}
}

func TestWriteGateCancel(t *testing.T) {
	g := newWriteGate()
	if err := g.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.acquire(ctx, true) }()
	waitQueued(t, g, 1, 0)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	waitQueued(t, g, 0, 0)
	g.release()
	// The gate is free again: a new writer gets it at once.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if err := g.acquire(ctx2, false); err != nil {
		t.Fatalf("gate not freed: %v", err)
	}
	g.release()
}

// TestWriteGateExclusive hammers the gate from many goroutines of both
// classes, some giving up: never two holders at once, nobody left waiting.
func TestWriteGateExclusive(t *testing.T) {
	g := newWriteGate()
	var inside, most int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				if (i+j)%7 == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(j%3)*time.Microsecond)
				}
				err := g.acquire(ctx, i%2 == 0)
				cancel()
				if err != nil {
					continue
				}
				mu.Lock()
				inside++
				most = max(most, inside)
				mu.Unlock()
				time.Sleep(time.Microsecond)
				mu.Lock()
				inside--
				mu.Unlock()
				g.release()
			}
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d holders at once", most)
	}
	if u, n := g.waiting(); u != 0 || n != 0 || g.held {
		t.Errorf("after all: %d urgent, %d normal waiting, held %v", u, n, g.held)
	}
}

func TestUrgentWithin(t *testing.T) {
	now := time.Unix(100, 0)
	g := newWriteGate()
	g.now = func() time.Time { return now }
	if g.urgentWithin(time.Second) {
		t.Fatal("urgent before any urgent writer")
	}
	if err := g.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	g.release()
	if g.urgentWithin(time.Second) {
		t.Fatal("a normal writer counted as urgent")
	}
	if err := g.acquire(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	g.release()
	now = now.Add(999 * time.Millisecond)
	if !g.urgentWithin(time.Second) {
		t.Error("urgent writer 999ms ago not seen within 1s")
	}
	now = now.Add(time.Millisecond)
	if g.urgentWithin(time.Second) {
		t.Error("urgent writer 1s ago still seen within 1s")
	}
}
