package store

import (
	"context"
	"testing"
)

func TestCheckpoints(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		cp := s.Checkpoints()
		if v, err := cp.Load(ctx, "imap:a"); err != nil || v != "" {
			t.Fatalf("unsaved checkpoint = %q, %v; want empty", v, err)
		}
		for _, v := range []string{"7:100", "7:250"} {
			if err := cp.Save(ctx, "imap:a", v); err != nil {
				t.Fatal(err)
			}
			if got, err := cp.Load(ctx, "imap:a"); err != nil || got != v {
				t.Errorf("checkpoint = %q, %v; want %q", got, err, v)
			}
		}
		if v, _ := cp.Load(ctx, "imap:b"); v != "" {
			t.Errorf("another key = %q, want empty", v)
		}
	})
}
