package pipeline

import "github.com/ordergate/ordergate/internal/metrics"

// MetricsOf returns p's metrics.
func MetricsOf(p *Pipeline) *metrics.Metrics { return p.d.Metrics }

// HandoffStats says how many orders intake normalized in its
// transaction and how often the delivery worker took an order handed off.
type HandoffStats struct {
	NormalizedAtIntake, GuardedRetries, Delivery, DeliveryStale int64
}

// Handoffs returns p's handoff counts.
func Handoffs(p *Pipeline) HandoffStats {
	p.routed.mu.Lock()
	defer p.routed.mu.Unlock()
	return HandoffStats{NormalizedAtIntake: p.normalizedAtIntake.Load(), GuardedRetries: p.guardedRetries.Load(), Delivery: p.routed.taken, DeliveryStale: p.routedStale.Load()}
}

// StagesOnly makes p run every order through the stages' topics, each
// stage decoding what it reads: intake publishes the orders it parsed
// instead of normalizing them, and routing hands nothing off to the
// delivery worker.
func StagesOnly(p *Pipeline) {
	p.stagesOnly = true
	p.routed = newOrderHandoff(0, handoffTTL, p.routed.now)
}

// SetIntakeNormalizeMax sets how many orders intake normalizes per
// transaction.
func SetIntakeNormalizeMax(p *Pipeline, n int) { p.intakeNormalizeMax = n }

// BackoffDelay is the delivery worker's backoff.
var BackoffDelay = backoffDelay
