package web

import (
	"net/http"
	"strings"
)

func (u *UI) approvals(w http.ResponseWriter, r *http.Request, s *session) {
	held, err := u.svc.HeldOrders(r.Context())
	if err != nil {
		u.serviceError(w, r, s, "reading the held orders", err)
		return
	}
	u.render(w, r, s, http.StatusOK, "approvals.html", page{Title: "Approvals", Data: held})
}

func (u *UI) approve(w http.ResponseWriter, r *http.Request, s *session) { u.decide(w, r, s, true) }

func (u *UI) reject(w http.ResponseWriter, r *http.Request, s *session) { u.decide(w, r, s, false) }

// decide approves or rejects a held order. A rejection needs a comment.
// The Service decides in the user's approval roles, or records an
// admin's override.
func (u *UI) decide(w http.ResponseWriter, r *http.Request, s *session, approve bool) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
		return
	}
	// The user decides in their approval roles (the rules' roles); an
	// admin overrides a hold none of them clears.
	d := Decision{OrderID: r.PathValue("id"), User: s.user.Name, Roles: append([]string{}, s.user.ApprovalRoles...),
		MayOverride: s.user.Role == RoleAdmin, Comment: strings.TrimSpace(r.PostForm.Get("comment"))}
	if len(d.Comment) > 2000 {
		u.renderError(w, r, s, http.StatusUnprocessableEntity, "The comment is longer than 2000 characters.")
		return
	}
	action, notice, doing := "order.approve", "approved", "approving the order"
	if !approve {
		action, notice, doing = "order.reject", "rejected", "rejecting the order"
		if d.Comment == "" {
			held, err := u.svc.HeldOrders(ctx)
			if err != nil {
				u.serviceError(w, r, s, "reading the held orders", err)
				return
			}
			u.render(w, r, s, http.StatusUnprocessableEntity, "approvals.html",
				page{Title: "Approvals", Error: "Say why the order is rejected.", Data: held})
			return
		}
	}
	var done Decided
	var err error
	if approve {
		done, err = u.svc.Approve(ctx, d)
	} else {
		done, err = u.svc.Reject(ctx, d)
	}
	if err != nil {
		u.serviceError(w, r, s, doing, err)
		return
	}
	u.audit(ctx, s.user.Name, action, d.OrderID, map[string]any{"comment": d.Comment, "role": done.Role,
		"override": done.Override})
	u.log.InfoContext(ctx, "web: held order decided", "user", s.user.Name, "order_id", d.OrderID, "action", action)
	redirect(w, r, "/approvals?notice="+notice)
}
