package pipeline

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

func TestOrderHandoff(t *testing.T) {
	a, b, c := &order.Order{PONumber: "a"}, &order.Order{PONumber: "b"}, &order.Order{PONumber: "c"}
	type take struct {
		id       string
		revision int64
		want     *order.Order
	}
	tests := []struct {
		name  string
		max   int
		puts  [][]storedOrder
		after time.Duration // between the puts and the takes
		takes []take
	}{
		{"taken once", 4, [][]storedOrder{{{"o1", 1, a}}},
			0, []take{{"o1", 1, a}, {"o1", 1, nil}}},
		{"by id and revision", 4, [][]storedOrder{{{"o1", 1, a}, {"o2", 1, b}}},
			0, []take{{"o1", 2, nil}, {"o3", 1, nil}, {"o2", 1, b}, {"o1", 1, a}}},
		{"a later put of the key replaces", 4, [][]storedOrder{{{"o1", 4, a}}, {{"o1", 4, b}}},
			0, []take{{"o1", 4, b}, {"o1", 4, nil}}},
		{"full: new orders are not put in", 2, [][]storedOrder{{{"o1", 1, a}, {"o2", 1, b}, {"o3", 1, c}}},
			0, []take{{"o3", 1, nil}, {"o1", 1, a}, {"o2", 1, b}}},
		{"expired entries are dropped at the next put", 4, [][]storedOrder{{{"o1", 1, a}}, nil},
			2 * time.Minute, []take{{"o1", 1, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1e9, 0)
			h := newOrderHandoff(tt.max, time.Minute, func() time.Time { return now })
			for i, p := range tt.puts {
				if i == len(tt.puts)-1 {
					now = now.Add(tt.after)
				}
				h.put(p)
			}
			for _, tk := range tt.takes {
				if got := h.take(tk.id, tk.revision); got != tk.want {
					t.Errorf("take(%s, %d) = %v, want %v", tk.id, tk.revision, got, tk.want)
				}
			}
		})
	}
}

// TestOrderHandoffQueue checks that taken and expired keys leave the queue,
// so that a long run keeps it short.
func TestOrderHandoffQueue(t *testing.T) {
	now := time.Unix(1e9, 0)
	h := newOrderHandoff(8, time.Minute, func() time.Time { return now })
	o := &order.Order{}
	for i := range 1000 {
		id := string(rune('a' + i%26))
		h.put([]storedOrder{{id, int64(i), o}})
		if h.take(id, int64(i)) != o {
			t.Fatalf("put %d: not taken", i)
		}
	}
	h.put(nil)
	if h.len() != 0 || len(h.queue) != 0 {
		t.Errorf("after 1000 puts and takes: %d entries, %d queued; want none", h.len(), len(h.queue))
	}
}

// TestNormalizedData checks that the "normalized" event's data is written
// as the map it replaced was.
func TestNormalizedData(t *testing.T) {
	tests := []struct {
		shipToNew  bool
		unresolved []string
	}{
		{false, nil},
		{true, []string{}},
		{true, []string{"lines[0].sku: no item for <A&B>", "customer_id: \u2028"}},
	}
	for _, tt := range tests {
		got, err := json.Marshal(normalizedData{ShipToNew: tt.shipToNew, Unresolved: tt.unresolved})
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(map[string]any{"unresolved": tt.unresolved, "ship_to_new": tt.shipToNew})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("normalized data = %s, want %s", got, want)
		}
	}
}

// TestNextBatch: a batch takes what is ready, up to the count and until
// the sizes reach the byte bound, and stops at a closed channel.
func TestNextBatch(t *testing.T) {
	cases := []struct {
		name  string
		ready []int64 // sizes of the items ready after the first, of size 1
		close bool
		want  int
	}{
		{"nothing else ready", nil, false, 1},
		{"all ready", []int64{1, 1, 1}, false, 4},
		{"count bound", make([]int64, 20), false, 8},
		{"byte bound reached", []int64{40, 50, 60, 1}, false, 4},
		{"byte bound reached at once", []int64{99, 1}, false, 2},
		{"closed", []int64{1}, true, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := make(chan int64, len(c.ready))
			for _, n := range c.ready {
				items <- n
			}
			if c.close {
				close(items)
			}
			got := nextBatch(1, items, func(n int64) int64 { return n }, 8, 100)
			if len(got) != c.want {
				t.Errorf("batch of %d, want %d: %v", len(got), c.want, got)
			}
			if len(items) != len(c.ready)-(c.want-1) {
				t.Errorf("%d items left ready, want %d", len(items), len(c.ready)-(c.want-1))
			}
		})
	}
}
