package app

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ordergate/ordergate/internal/httpapi"
	"github.com/ordergate/ordergate/internal/web"
)

// TestApproversThrottleFailures: the approvals API's sign-in counts
// failures like the web UI's: after five wrong passwords for a user even
// the right one is refused for a while, and the lockout is per user (and
// per address), not global.
func TestApproversThrottleFailures(t *testing.T) {
	ctx := context.Background()
	tools := openTestTools(t)
	hash, err := web.HashPassword("right horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"anna", "ben"} {
		if _, err := tools.Store.CreateUser(ctx, name, web.RoleApprover, hash); err != nil {
			t.Fatal(err)
		}
	}
	a := approvers{tools.Store}
	if p, err := a.Authenticate(ctx, "anna", "right horse battery", "192.0.2.1"); err != nil || p.Name != "anna" {
		t.Fatalf("right password: %+v, %v", p, err)
	}
	for i := range 5 {
		if _, err := a.Authenticate(ctx, "anna", "wrong", "192.0.2.1"); !errors.Is(err, httpapi.ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v, want bad credentials", i+1, err)
		}
	}
	_, err = a.Authenticate(ctx, "anna", "right horse battery", "192.0.2.1")
	var throttled *httpapi.ThrottledError
	if !errors.As(err, &throttled) || throttled.Wait <= 0 {
		t.Fatalf("right password after five failures: %v, want a lockout", err)
	}
	if p, err := a.Authenticate(ctx, "ben", "right horse battery", "192.0.2.7"); err != nil || p.Name != "ben" {
		t.Fatalf("another user from another address: %+v, %v", p, err)
	}
	// Unknown names count against the address too.
	for i := range 20 {
		if _, err := a.Authenticate(ctx, fmt.Sprintf("nobody%d", i), "x", "198.51.100.9"); !errors.Is(err, httpapi.ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}
	}
	if _, err := a.Authenticate(ctx, "ben", "right horse battery", "198.51.100.9"); !errors.As(err, &throttled) {
		t.Fatalf("a known user from an address with 20 failures: %v, want a lockout", err)
	}
}
