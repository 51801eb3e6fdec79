package webtest

import (
	"context"
	"testing"
	"time"
)

// The seeded order counts as today's at any hour, including just after
// midnight, when "two hours ago" would be yesterday.
func TestSeedIsFromToday(t *testing.T) {
	for _, at := range []string{"2026-11-28T00:05:00Z", "2026-11-28T00:00:00Z", "2026-11-28T01:59:59Z", "2026-11-28T12:00:00Z", "2026-11-28T23:59:59Z"} {
		now, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		s := New(func() time.Time { return now })
		db, err := s.Dashboard(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if db.OrdersToday != 1 || db.Queues.Held != 1 || db.Queues.Review != 2 {
			t.Errorf("%s: orders today %d, held %d, review %d; want 1, 1, 2", at, db.OrdersToday, db.Queues.Held, db.Queues.Review)
		}
		for _, dr := range s.drafts {
			if dr.d.ReceivedAt.After(now) {
				t.Errorf("%s: a draft is from the future (%s)", at, dr.d.ReceivedAt)
			}
		}
	}
}
