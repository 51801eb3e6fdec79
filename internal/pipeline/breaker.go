package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ordergate/ordergate/routing"
	"github.com/sony/gobreaker/v2"
)

// Breaker settings: a backend that failed this many times in a row is
// left alone for breakerOpen, then tried with one delivery (half-open)
// before the others follow.
const (
	breakerTrip = 5
	breakerOpen = 30 * time.Second
)

// breakers keeps one circuit breaker per backend (sony/gobreaker), so a
// backend that is down is not hammered by every due delivery and does
// not use up their attempts: while open, its deliveries are not leased.
type breakers struct {
	mu   sync.Mutex
	m    map[string]*gobreaker.CircuitBreaker[routing.Receipt]
	open time.Duration
	// onChange reports state changes (logging, metrics).
	onChange func(backend string, from, to gobreaker.State)
}

func newBreakers(open time.Duration, onChange func(string, gobreaker.State, gobreaker.State)) *breakers {
	return &breakers{m: map[string]*gobreaker.CircuitBreaker[routing.Receipt]{}, open: open, onChange: onChange}
}

func (b *breakers) get(backend string) *gobreaker.CircuitBreaker[routing.Receipt] {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb, ok := b.m[backend]
	if !ok {
		cb = gobreaker.NewCircuitBreaker[routing.Receipt](gobreaker.Settings{
			Name:        backend,
			MaxRequests: 1,
			Timeout:     b.open,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTrip },
			// A permanent failure is the delivery's fault, not the
			// backend's: it does not count against the backend.
			IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, routing.ErrPermanent) },
			OnStateChange: func(name string, from, to gobreaker.State) {
				if b.onChange != nil {
					b.onChange(name, from, to)
				}
			},
		})
		b.m[backend] = cb
	}
	return cb
}

// admit reports how many deliveries to backend a batch may lease: none
// while its breaker is open, one while half-open, all otherwise.
func (b *breakers) admit(backend string) int {
	switch b.get(backend).State() {
	case gobreaker.StateOpen:
		return 0
	case gobreaker.StateHalfOpen:
		return 1
	}
	return -1
}

// call runs one delivery attempt through the backend's breaker.
func (b *breakers) call(ctx context.Context, backend string, fn func(context.Context) (routing.Receipt, error)) (routing.Receipt, error) {
	return b.get(backend).Execute(func() (routing.Receipt, error) { return fn(ctx) })
}

// callBatch runs an attempt at n deliveries that fn makes together. The
// batch goes ahead when the breaker admits a call, which the first
// delivery's outcome answers; the others' outcomes are then counted one
// by one, as if each had been a call. When the breaker is open, fn is not
// called and every delivery fails with the breaker's error. An outcome
// the breaker no longer counts (it opened during the batch) stands: that
// delivery was made.
func (b *breakers) callBatch(ctx context.Context, backend string, n int, fn func(context.Context) ([]routing.Receipt, []error)) ([]routing.Receipt, []error) {
	cb := b.get(backend)
	var (
		receipts []routing.Receipt
		errs     []error
	)
	_, err := cb.Execute(func() (routing.Receipt, error) {
		receipts, errs = fn(ctx)
		if len(receipts) != n || len(errs) != n {
			err := fmt.Errorf("backend %s answered %d receipts and %d errors for %d deliveries", backend, len(receipts), len(errs), n)
			receipts, errs = make([]routing.Receipt, n), make([]error, n)
			for i := range errs {
				errs[i] = err
			}
		}
		return receipts[0], errs[0]
	})
	if receipts == nil {
		receipts, errs = make([]routing.Receipt, n), make([]error, n)
		for i := range errs {
			errs[i] = err
		}
		return receipts, errs
	}
	for i := 1; i < n; i++ {
		_, _ = cb.Execute(func() (routing.Receipt, error) { return receipts[i], errs[i] })
	}
	return receipts, errs
}
