package app

import (
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/channels/sftpdrop"
)

// TestMinAge: a min_age of 0s in the file reaches the channel packages as
// their NoMinAge (their own zero is a default of seconds); other values
// pass as they are.
func TestMinAge(t *testing.T) {
	for _, tc := range []struct {
		configured, none, want time.Duration
	}{
		{0, dirdrop.NoMinAge, dirdrop.NoMinAge},
		{0, sftpdrop.NoMinAge, sftpdrop.NoMinAge},
		{time.Second, dirdrop.NoMinAge, time.Second},
		{10 * time.Second, sftpdrop.NoMinAge, 10 * time.Second},
	} {
		if got := minAge(tc.configured, tc.none); got != tc.want {
			t.Errorf("minAge(%v, %v) = %v, want %v", tc.configured, tc.none, got, tc.want)
		}
	}
}
