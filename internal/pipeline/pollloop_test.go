package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"
)

// testSignal is a commit signal: fire closes the channel wait returned.
type testSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *testSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *testSignal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// TestPollLoopWakes: an idle poll loop with a commit signal runs again as
// soon as the signal fires, though its idle waits have grown; without a
// signal it keeps its interval; with one and no commits its waits grow
// to idleMax.
func TestPollLoopWakes(t *testing.T) {
	t.Run("woken", func(t *testing.T) {
		var sig testSignal
		calls := make(chan time.Time, 10)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go pollLoop(ctx, time.Millisecond, time.Hour, sig.wait, func(context.Context) bool { calls <- time.Now(); return false })
		// Idle for a second: the waits have grown to half a second and
		// more (1, 2, 4, ... ms).
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-calls:
			case <-time.After(time.Until(deadline)):
			}
		}
		for i := range 3 {
			time.Sleep(30 * time.Millisecond)
			sig.fire()
			select {
			case <-calls:
			case <-time.After(200 * time.Millisecond):
				t.Fatalf("wake %d: no call within 200ms of the signal", i)
			}
		}
	})
	t.Run("waits grow without commits", func(t *testing.T) {
		var sig testSignal
		var mu sync.Mutex
		var at []time.Time
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			pollLoop(ctx, 10*time.Millisecond, 80*time.Millisecond, sig.wait, func(context.Context) bool {
				mu.Lock()
				defer mu.Unlock()
				at = append(at, time.Now())
				return false
			})
		}()
		time.Sleep(time.Second)
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		// 10, 20, 40, then 80 ms: about 15 calls in a second; at a fixed
		// 10 ms about 100.
		if n := len(at); n < 5 || n > 30 {
			t.Errorf("%d idle polls in 1s with waits growing from 10 to 80 ms, want about 15", n)
		}
		if gap := at[len(at)-1].Sub(at[len(at)-2]); gap < 80*time.Millisecond {
			t.Errorf("the last idle wait was %s, want at least idleMax 80ms", gap)
		}
	})
	t.Run("no signal keeps the interval", func(t *testing.T) {
		var mu sync.Mutex
		n := 0
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			pollLoop(ctx, 10*time.Millisecond, 80*time.Millisecond, nil, func(context.Context) bool {
				mu.Lock()
				defer mu.Unlock()
				n++
				return false
			})
		}()
		time.Sleep(500 * time.Millisecond)
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if n < 15 { // growing waits would give about 8
			t.Errorf("%d polls in 500ms at a 10ms interval without a signal, want about 50", n)
		}
	})
}
