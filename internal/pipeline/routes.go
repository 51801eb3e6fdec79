package pipeline

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/routetable"
)

// routeTables compiles the route table of each configuration once (a
// configuration is an immutable snapshot; a reload brings a new one).
type routeTables struct {
	mu  sync.Mutex
	cfg *config.Config
	tab *routetable.Table
	err error
}

func (r *routeTables) of(cfg *config.Config) (*routetable.Table, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg != cfg {
		r.cfg = cfg
		r.tab, r.err = routetable.New(RoutesOf(cfg))
	}
	return r.tab, r.err
}

// RoutesOf turns the configuration's routes into the route table's,
// each format resolved: the route's, else the first backend's default.
func RoutesOf(cfg *config.Config) []routetable.Route {
	out := make([]routetable.Route, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		out = append(out, routetable.Route{Name: r.Name, When: r.When, To: r.To, Format: routing.Format(r.Format), Continue: r.Continue})
	}
	return out
}

// target is one delivery the route stage decides on.
type target struct {
	route, backend string
	format         routing.Format
}

// targetsOf matches the order against the table: one target per backend
// of every matching route, in the format of the route, else of the
// backend, else the canonical JSON.
func targetsOf(cfg *config.Config, tab *routetable.Table, in routetable.Input) ([]target, error) {
	ts, err := tab.Match(in)
	if errors.Is(err, routetable.ErrNoRoute) {
		return nil, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	var out []target
	for _, t := range ts {
		for _, b := range t.Backends {
			f := t.Format
			if f == "" {
				if bc, ok := cfg.Backend(b); ok && bc.Format != "" {
					f = routing.Format(bc.Format)
				}
			}
			if f == "" {
				f = routing.FormatJSON
			}
			out = append(out, target{route: t.Route, backend: b, format: f})
		}
	}
	return out, nil
}
