// Package metrics holds the gateway's Prometheus collectors in one value
// built by the composition root (no global registry): documents and orders
// by channel, stage and status, stage latency, queue depth, deliveries and
// acknowledgements.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors, registered on its own registry.
type Metrics struct {
	Registry     *prometheus.Registry
	Documents    *prometheus.CounterVec   // channel, status
	Orders       *prometheus.CounterVec   // channel, stage, status
	StageLatency *prometheus.HistogramVec // stage
	Deliveries   *prometheus.CounterVec   // backend, outcome
	Acks         *prometheus.CounterVec   // kind, outcome
	// Captured counts captured drafts by sender (its mail domain; for a
	// fax "fax:" and its fax number with the last three digits hidden, or
	// "fax:customer:" and the customer it was matched to) and outcome
	// (touchless, review).
	Captured *prometheus.CounterVec // sender, outcome
	// ReviewedFields counts the fields of reviewed drafts by sender, field
	// and outcome (correct, corrected): the per-field accuracy after
	// review.
	ReviewedFields *prometheus.CounterVec // sender, field, outcome
}

// DepthFunc reports the number of messages waiting per topic.
type DepthFunc func(ctx context.Context) (map[string]int64, error)

// New builds the collectors and registers them, with the Go and process
// collectors, on a new registry. depth may be nil.
func New(depth DepthFunc) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ordergate", Name: "documents_total",
			Help: "Documents taken in, by channel and outcome (received, duplicate, rejected, parsed).",
		}, []string{"channel", "status"}),
		Orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ordergate", Name: "orders_total",
			Help: "Orders passing a pipeline stage, by channel, stage and resulting status.",
		}, []string{"channel", "stage", "status"}),
		StageLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ordergate", Name: "stage_duration_seconds",
			Help:    "Time a pipeline stage handler took, commit included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"stage"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ordergate", Name: "deliveries_total",
			Help: "Delivery attempts to backends, by backend and outcome (sent, retry, dead).",
		}, []string{"backend", "outcome"}),
		Acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ordergate", Name: "acks_total",
			Help: "Acknowledgements and order responses sent to partners, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		Captured: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ordergate", Name: "captured_total",
			Help: "Draft orders read from faxes and order mails, by sender and outcome (touchless, review).",
		}, []string{"sender", "outcome"}),
		ReviewedFields: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ordergate", Name: "reviewed_fields_total",
			Help: "Fields of reviewed drafts, by sender, field and outcome (correct, corrected).",
		}, []string{"sender", "field", "outcome"}),
	}
	m.Registry.MustRegister(m.Documents, m.Orders, m.StageLatency, m.Deliveries, m.Acks, m.Captured, m.ReviewedFields,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if depth != nil {
		m.Registry.MustRegister(&depthCollector{fn: depth, desc: prometheus.NewDesc(
			"ordergate_queue_depth", "Messages waiting in a pipeline topic.", []string{"topic"}, nil)})
	}
	return m
}

// ObserveStage records how long a stage took since start.
func (m *Metrics) ObserveStage(stage string, start time.Time) {
	m.StageLatency.WithLabelValues(stage).Observe(time.Since(start).Seconds())
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

type depthCollector struct {
	fn   DepthFunc
	desc *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depths, err := c.fn(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for topic, n := range depths {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), topic)
	}
}
