package pipeline

import (
	"testing"
	"time"
)

// TestNextControlBlock: a block used up within a second is followed by
// one twice its size, up to controlBlockMax; otherwise by the first size.
func TestNextControlBlock(t *testing.T) {
	for _, tt := range []struct {
		prev int64
		used time.Duration
		want int64
	}{
		{0, 0, controlBlock},
		{controlBlock, 200 * time.Millisecond, 2 * controlBlock},
		{400, time.Second, 800},
		{800, 10 * time.Millisecond, controlBlockMax},
		{controlBlockMax, time.Millisecond, controlBlockMax},
		{controlBlockMax, 2 * time.Second, controlBlock},
		{controlBlock, time.Hour, controlBlock},
	} {
		if got := nextControlBlock(tt.prev, tt.used); got != tt.want {
			t.Errorf("after %d used in %v: %d, want %d", tt.prev, tt.used, got, tt.want)
		}
	}
}
