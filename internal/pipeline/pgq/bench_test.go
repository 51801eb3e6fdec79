package pgq_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/ordergate/ordergate/internal/pipeline/pgq"
)

// BenchmarkChain measures messages per second through the two-stage chain
// of TestRouterChain (each message: one effect row and one published
// message per stage, in the message's transaction), on one node and on two
// nodes (two Queues, each on its own pool, competing for both stages).
// b.N messages are published first; the clock runs from the routers'
// start until the last one has left the second stage.
func BenchmarkChain(b *testing.B) {
	for _, nodes := range []int{1, 2} {
		name := map[int]string{1: "one-node", 2: "two-nodes"}[nodes]
		b.Run(name, func(b *testing.B) {
			dsn, _ := newDB(b)
			cfg := pgq.Config{PollInterval: 10 * time.Millisecond, BatchSize: 10}
			var queues []*pgq.Queue
			for range nodes {
				queues = append(queues, newQueue(b, openDB(b, dsn), cfg, chainTopics...))
			}
			want := ids("o", b.N)
			for i := 0; i < len(want); i += 500 {
				publish(b, queues[0], "doc.received", want[i:min(i+500, len(want))]...)
			}
			routers := make([]*message.Router, nodes)
			for i, q := range queues {
				routers[i] = chain(b, q, nil)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			var stops []func()
			for _, r := range routers {
				stops = append(stops, runRouter(b, r))
			}
			for {
				n, err := queues[0].Depth(ctx, "order.normalized", "decide")
				if err != nil {
					b.Fatal(err)
				}
				if n == int64(b.N) {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			for _, stop := range stops {
				stop()
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}
