package pipeline

import (
	"sort"
	"sync"
	"time"
)

// SourceStatus is what the pipeline saw of a channel's source lately,
// for the dashboard and health: whether it is connected, its last
// document and its last error.
type SourceStatus struct {
	Name         string
	Connected    bool
	ConnectedAt  time.Time
	LastDocument time.Time
	LastError    string
	LastErrorAt  time.Time
	Errors       int // connect and read errors since start
}

type sourceStates struct {
	mu sync.Mutex
	m  map[string]*SourceStatus
}

func (s *sourceStates) update(name string, fn func(st *SourceStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*SourceStatus{}
	}
	st, ok := s.m[name]
	if !ok {
		st = &SourceStatus{Name: name}
		s.m[name] = st
	}
	fn(st)
}

// Sources reports the status of every source RunSource runs, by name.
func (p *Pipeline) Sources() []SourceStatus {
	p.sources.mu.Lock()
	defer p.sources.mu.Unlock()
	out := make([]SourceStatus, 0, len(p.sources.m))
	for _, st := range p.sources.m {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (p *Pipeline) sourceError(name string, err error) {
	p.sources.update(name, func(st *SourceStatus) {
		st.LastError, st.LastErrorAt = err.Error(), time.Now()
		st.Errors++
	})
}
