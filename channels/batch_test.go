package channels_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ordergate/ordergate/channels"
)

func TestDeferSync(t *testing.T) {
	errSync := errors.New("sync failed")
	tests := []struct {
		name      string
		group     bool
		keys      []string
		fail      string // the key whose sync fails
		wantNow   int    // syncs run by DeferSync itself
		wantLater int    // syncs run by Sync
		wantErr   error
	}{
		{name: "no group: at once", keys: []string{"a", "a", "b"}, wantNow: 3},
		{name: "no group: the error at once", keys: []string{"a"}, fail: "a", wantNow: 1, wantErr: errSync},
		{name: "group: once per key", group: true, keys: []string{"a", "b", "a", "b", "a"}, wantLater: 2},
		{name: "group: errors from Sync", group: true, keys: []string{"a", "b"}, fail: "b", wantLater: 2, wantErr: errSync},
		{name: "group: nothing deferred", group: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var g *channels.SyncGroup
			if tt.group {
				ctx, g = channels.WithSyncGroup(ctx)
			}
			runs := 0
			var err error
			for _, k := range tt.keys {
				err = errors.Join(err, channels.DeferSync(ctx, k, func() error {
					runs++
					if k == tt.fail {
						return errSync
					}
					return nil
				}))
			}
			if runs != tt.wantNow {
				t.Errorf("syncs run by DeferSync = %d, want %d", runs, tt.wantNow)
			}
			if g != nil {
				if got, want := g.Len(), tt.wantLater; got != want {
					t.Errorf("Len = %d, want %d", got, want)
				}
				err = g.Sync()
				if got := runs - tt.wantNow; got != tt.wantLater {
					t.Errorf("syncs run by Sync = %d, want %d", got, tt.wantLater)
				}
				if g.Len() != 0 || g.Sync() != nil || runs-tt.wantNow != tt.wantLater {
					t.Error("a second Sync ran syncs again")
				}
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
