package channels

import "fmt"

// Registry holds the configured channels by name: sources that documents
// come from and outbounds that files for partners go to. One channel may be
// both (an SFTP server with an inbox and an outbox) under the same name.
// The composition root builds it at start-up; adding an empty name, a nil
// value or a name twice is a configuration bug and panics. The zero value is
// ready to use. A Registry is not safe for concurrent Add calls; lookups
// after start-up are.
type Registry struct {
	sources   map[string]Source
	outbounds map[string]Outbound
	order     []string
}

// AddSource registers s under name. It panics if name is empty, s is nil,
// or a source of that name is registered.
func (r *Registry) AddSource(name string, s Source) {
	if name == "" || s == nil {
		panic("channels: AddSource with empty name or nil source")
	}
	if _, dup := r.sources[name]; dup {
		panic(fmt.Sprintf("channels: source %q registered twice", name))
	}
	if r.sources == nil {
		r.sources = make(map[string]Source)
	}
	r.sources[name] = s
	r.order = append(r.order, name)
}

// AddOutbound registers o under name. It panics if name is empty, o is
// nil, or an outbound of that name is registered.
func (r *Registry) AddOutbound(name string, o Outbound) {
	if name == "" || o == nil {
		panic("channels: AddOutbound with empty name or nil outbound")
	}
	if _, dup := r.outbounds[name]; dup {
		panic(fmt.Sprintf("channels: outbound %q registered twice", name))
	}
	if r.outbounds == nil {
		r.outbounds = make(map[string]Outbound)
	}
	r.outbounds[name] = o
}

// Source returns the source registered under name.
func (r *Registry) Source(name string) (Source, bool) {
	s, ok := r.sources[name]
	return s, ok
}

// Outbound returns the outbound registered under name.
func (r *Registry) Outbound(name string) (Outbound, bool) {
	o, ok := r.outbounds[name]
	return o, ok
}

// SourceNames returns the names of the sources in registration order.
func (r *Registry) SourceNames() []string { return append([]string(nil), r.order...) }
