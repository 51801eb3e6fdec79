package lease

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// localPause is how long Local's Lead waits after fn returned on its own
// before leading again, so a function that fails at once does not spin.
const localPause = time.Second

// Local returns the elector of the single-node setup (SQLite): every name
// is led at once by this node. Leads of one name within the process still
// take turns; tokens increase per name; Check always succeeds.
func Local(node string) Elector {
	return &local{node: node, names: map[string]*localName{}, held: map[*localLease]struct{}{}}
}

type local struct {
	node string

	mu    sync.Mutex
	names map[string]*localName
	held  map[*localLease]struct{}
}

type localName struct {
	turn  chan struct{} // holds one value while the name is led
	token int64
}

type localLease struct {
	name  string
	token int64
	since time.Time
}

func (l *localLease) Name() string                { return l.name }
func (l *localLease) Token() int64                { return l.token }
func (l *localLease) Check(context.Context) error { return nil }

func (e *local) Node() string { return e.node }

func (e *local) Held() []Held {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Held, 0, len(e.held))
	for l := range e.held {
		out = append(out, Held{Name: l.name, Token: l.token, Since: l.since})
	}
	slices.SortFunc(out, func(a, b Held) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (e *local) Lead(ctx context.Context, name string, fn func(ctx context.Context, l Lease) error) error {
	if name == "" {
		return fmt.Errorf("%w: empty lease name", ErrConfig)
	}
	e.mu.Lock()
	n := e.names[name]
	if n == nil {
		n = &localName{turn: make(chan struct{}, 1)}
		e.names[name] = n
	}
	e.mu.Unlock()
	for {
		select {
		case n.turn <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		e.mu.Lock()
		n.token++
		l := &localLease{name: name, token: n.token, since: time.Now().UTC()}
		e.held[l] = struct{}{}
		e.mu.Unlock()

		_ = fn(ctx, l) // the single node leads again whatever fn reported

		e.mu.Lock()
		delete(e.held, l)
		e.mu.Unlock()
		<-n.turn
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(localPause):
		}
	}
}
