package channels

import (
	"context"
	"slices"
	"testing"
)

type fakeSource struct{}

func (fakeSource) Connect(context.Context) error { return nil }
func (fakeSource) Read(context.Context) (Document, AckFunc, error) {
	return Document{}, nil, ErrEndOfInput
}
func (fakeSource) Close(context.Context) error { return nil }

type fakeOutbound struct{}

func (fakeOutbound) Send(context.Context, string, []byte) error { return nil }

var (
	_ Source   = fakeSource{}
	_ Outbound = fakeOutbound{}
)

func TestRegistry(t *testing.T) {
	var r Registry
	r.AddSource("b", fakeSource{})
	r.AddSource("a", fakeSource{})
	r.AddOutbound("a", fakeOutbound{})
	if _, ok := r.Source("a"); !ok {
		t.Error(`Source("a") not found`)
	}
	if _, ok := r.Source("c"); ok {
		t.Error(`Source("c") found, want not found`)
	}
	if _, ok := r.Outbound("a"); !ok {
		t.Error(`Outbound("a") not found`)
	}
	if _, ok := r.Outbound("b"); ok {
		t.Error(`Outbound("b") found, want not found`)
	}
	if got, want := r.SourceNames(), []string{"b", "a"}; !slices.Equal(got, want) {
		t.Errorf("SourceNames = %v, want %v", got, want)
	}
}

func TestRegistryPanics(t *testing.T) {
	tests := []struct {
		name string
		add  func(r *Registry)
	}{
		{"duplicate source", func(r *Registry) { r.AddSource("x", fakeSource{}); r.AddSource("x", fakeSource{}) }},
		{"duplicate outbound", func(r *Registry) { r.AddOutbound("x", fakeOutbound{}); r.AddOutbound("x", fakeOutbound{}) }},
		{"empty source name", func(r *Registry) { r.AddSource("", fakeSource{}) }},
		{"nil source", func(r *Registry) { r.AddSource("x", nil) }},
		{"empty outbound name", func(r *Registry) { r.AddOutbound("", fakeOutbound{}) }},
		{"nil outbound", func(r *Registry) { r.AddOutbound("x", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tt.add(&Registry{})
		})
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		r       Result
		want    Outcome
		valid   bool
		outcome string
	}{
		{Committed(), OutcomeCommitted, true, "committed"},
		{Rejected("bad"), OutcomeRejected, true, "rejected"},
		{Retry(), OutcomeRetry, true, "retry"},
		{Result{}, 0, false, "outcome(0)"},
	}
	for _, tt := range tests {
		if got := tt.r.Outcome; got != tt.want {
			t.Errorf("Outcome = %v, want %v", got, tt.want)
		}
		if got := tt.r.Validate() == nil; got != tt.valid {
			t.Errorf("%v Validate ok = %v, want %v", tt.r, got, tt.valid)
		}
		if got := tt.r.Outcome.String(); got != tt.outcome {
			t.Errorf("String = %q, want %q", got, tt.outcome)
		}
	}
	if got, want := Rejected("bad").Reason, "bad"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
}
