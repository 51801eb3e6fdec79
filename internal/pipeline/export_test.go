package pipeline

import "github.com/ordergate/ordergate/internal/metrics"

// MetricsOf returns p's metrics.
func MetricsOf(p *Pipeline) *metrics.Metrics { return p.d.Metrics }

// HandoffStats says how often the stages took an order handed off.
type HandoffStats struct {
	Normalize, Delivery, DeliveryStale int64
}

// Handoffs returns p's handoff counts.
func Handoffs(p *Pipeline) HandoffStats {
	p.handoff.mu.Lock()
	defer p.handoff.mu.Unlock()
	p.routed.mu.Lock()
	defer p.routed.mu.Unlock()
	return HandoffStats{Normalize: p.handoff.taken, Delivery: p.routed.taken, DeliveryStale: p.routedStale.Load()}
}

// DisableHandoffs makes the stages decode every order they read.
func DisableHandoffs(p *Pipeline) {
	p.handoff = newOrderHandoff(0, handoffTTL, p.handoff.now)
	p.routed = newOrderHandoff(0, handoffTTL, p.routed.now)
}

// BackoffDelay is the delivery worker's backoff.
var BackoffDelay = backoffDelay
