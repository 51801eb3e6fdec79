package routing

import (
	"context"
	"errors"
	"fmt"
)

// Registry holds the configured backends by name. The composition root
// builds it at start-up; adding a nil backend, an empty name or a name
// twice is a configuration bug and panics. The zero value is ready to use.
// Add is not safe for concurrent use; lookups after start-up are.
type Registry struct {
	backends map[string]Backend
	order    []string
}

// Add registers b under b.Name(). It panics if b is nil, its name is empty
// or taken.
func (r *Registry) Add(b Backend) {
	if b == nil || b.Name() == "" {
		panic("routing: Add with a nil backend or an empty name")
	}
	name := b.Name()
	if _, dup := r.backends[name]; dup {
		panic(fmt.Sprintf("routing: backend %q registered twice", name))
	}
	if r.backends == nil {
		r.backends = make(map[string]Backend)
	}
	r.backends[name] = b
	r.order = append(r.order, name)
}

// Backend returns the backend registered under name.
func (r *Registry) Backend(name string) (Backend, bool) {
	b, ok := r.backends[name]
	return b, ok
}

// Names returns the backend names in registration order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }

// Close closes every backend, the last registered first, and returns all
// their errors.
func (r *Registry) Close(ctx context.Context) error {
	var errs []error
	for i := len(r.order) - 1; i >= 0; i-- {
		if err := r.backends[r.order[i]].Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("closing backend %s: %w", r.order[i], err))
		}
	}
	return errors.Join(errs...)
}
