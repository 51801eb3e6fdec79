package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ordergate/ordergate/internal/httpapi"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/web"
)

// approvers authenticates the gateway's users for the approvals API.
type approvers struct{ st *store.Store }

var _ httpapi.Approvers = approvers{}

// Authenticate checks a user's name and password (an unknown user costs
// a hash like a known one, so timing does not tell them apart). Failed
// attempts are throttled per user name and remote address exactly as the
// web UI's sign-in is, and share its counts.
func (a approvers) Authenticate(ctx context.Context, name, password, remote string) (httpapi.Approver, error) {
	now := time.Now()
	until, err := web.LoginLockedUntil(ctx, a.st, name, remote)
	if err != nil {
		return httpapi.Approver{}, err
	}
	if now.Before(until) {
		return httpapi.Approver{}, &httpapi.ThrottledError{Wait: until.Sub(now)}
	}
	u, err := a.st.GetUser(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return httpapi.Approver{}, err
	}
	known := err == nil
	hash := dummyHash()
	if known {
		hash = u.PasswordHash
	}
	ok, err := web.VerifyPassword(hash, password)
	if err != nil && known {
		return httpapi.Approver{}, fmt.Errorf("verifying the password of %s: %w", u.Name, err)
	}
	if !known || !ok || u.Disabled {
		if err := web.LoginFailed(ctx, a.st, name, remote, now); err != nil {
			return httpapi.Approver{}, err
		}
		return httpapi.Approver{}, httpapi.ErrBadCredentials
	}
	if err := web.LoginSucceeded(ctx, a.st, name); err != nil {
		return httpapi.Approver{}, err
	}
	return httpapi.Approver{Name: u.Name, Roles: u.ApprovalRoles, Admin: u.Role == web.RoleAdmin}, nil
}

// dummyHash is an argon2id hash of no one's password, made on first use.
var dummyHash = sync.OnceValue(func() string {
	h, _ := web.HashPassword("the password of no user at all")
	return h
})

// auditDecision writes an API decision to the audit log: who, in which
// role or as an override.
func auditDecision(ctx context.Context, st *store.Store, d pipeline.Decision, res pipeline.DecisionResult) error {
	action := "order.approve"
	if d.Reject {
		action = "order.reject"
	}
	b, _ := json.Marshal(map[string]any{"role": res.Role, "override": res.Override, "comment": d.Comment, "via": "api"})
	_, err := st.AppendAudit(ctx, store.AuditInput{Actor: d.User, Action: action, Object: d.OrderID, Detail: b})
	return err
}
