package web

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/ordergate/ordergate/internal/store"
)

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ValidUserName reports whether name is acceptable as a user name.
func ValidUserName(name string) bool { return userNameRE.MatchString(name) }

type adminUsersData struct {
	Users []store.User
	Roles []string
	Name  string
	Role  string
}

type auditData struct {
	Entries   []store.AuditEntry
	Actor     string
	Action    string
	Verified  int
	VerifyOK  bool
	VerifyErr string
}

func (u *UI) adminUsers(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderUsers(w, r, s, http.StatusOK, "", adminUsersData{})
}

func (u *UI) renderUsers(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string, d adminUsersData) {
	users, err := u.users.ListUsers(r.Context())
	if err != nil {
		u.serviceError(w, r, s, "listing users", err)
		return
	}
	d.Users, d.Roles = users, Roles
	u.render(w, r, s, status, "admin_users.html", page{Title: "Users", Error: errMsg, Data: d})
}

func (u *UI) parseSmallForm(w http.ResponseWriter, r *http.Request, s *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

func (u *UI) adminCreateUser(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.parseSmallForm(w, r, s) {
		return
	}
	ctx := r.Context()
	d := adminUsersData{Name: strings.TrimSpace(r.PostForm.Get("name")), Role: r.PostForm.Get("role")}
	pw, pw2 := r.PostForm.Get("password"), r.PostForm.Get("password2")
	var msg string
	switch {
	case !ValidUserName(d.Name):
		msg = "A user name is 1 to 64 letters, digits, '.', '_', '@' or '-'."
	case !ValidRole(d.Role):
		msg = "Choose a role."
	case pw != pw2:
		msg = "The two passwords differ."
	case checkNewPassword(pw) != nil:
		msg = strings.TrimPrefix(checkNewPassword(pw).Error(), ErrInvalid.Error()+": ")
	}
	if msg != "" {
		u.renderUsers(w, r, s, http.StatusUnprocessableEntity, msg, d)
		return
	}
	hash, err := HashPassword(pw)
	if err == nil {
		_, err = u.users.CreateUser(ctx, d.Name, d.Role, hash)
	}
	if errors.Is(err, store.ErrUserExists) {
		u.renderUsers(w, r, s, http.StatusConflict, "A user with that name exists.", d)
		return
	}
	if err != nil {
		u.serviceError(w, r, s, "creating the user", err)
		return
	}
	u.audit(ctx, s.user.Name, "user.create", d.Name, map[string]any{"role": d.Role, "via": "web"})
	u.log.InfoContext(ctx, "web: user created", "by", s.user.Name, "user", d.Name, "role", d.Role)
	redirect(w, r, "/admin/users?notice=usercreated")
}

func (u *UI) adminSetPassword(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.parseSmallForm(w, r, s) {
		return
	}
	ctx := r.Context()
	name := r.PathValue("name")
	pw := r.PostForm.Get("password")
	if err := checkNewPassword(pw); err != nil {
		u.renderUsers(w, r, s, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "), adminUsersData{})
		return
	}
	hash, err := HashPassword(pw)
	if err == nil {
		err = u.users.SetUserPassword(ctx, name, hash)
	}
	if err != nil {
		u.serviceError(w, r, s, "setting the password", err)
		return
	}
	u.audit(ctx, s.user.Name, "user.passwd", name, map[string]any{"via": "web"})
	redirect(w, r, "/admin/users?notice=userchanged")
}

func (u *UI) adminSetRole(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.parseSmallForm(w, r, s) {
		return
	}
	ctx := r.Context()
	name, role := r.PathValue("name"), r.PostForm.Get("role")
	if !ValidRole(role) {
		u.renderUsers(w, r, s, http.StatusUnprocessableEntity, "Choose a role.", adminUsersData{})
		return
	}
	if strings.EqualFold(name, s.user.Name) && role != RoleAdmin {
		u.renderUsers(w, r, s, http.StatusUnprocessableEntity, "You cannot take the admin role from yourself.", adminUsersData{})
		return
	}
	if err := u.users.SetUserRole(ctx, name, role); err != nil {
		u.serviceError(w, r, s, "changing the role", err)
		return
	}
	u.audit(ctx, s.user.Name, "user.role", name, map[string]any{"role": role, "via": "web"})
	redirect(w, r, "/admin/users?notice=userchanged")
}

func (u *UI) adminSetDisabled(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.parseSmallForm(w, r, s) {
		return
	}
	ctx := r.Context()
	name := r.PathValue("name")
	disable := r.PostForm.Get("disabled") == "true"
	if disable && strings.EqualFold(name, s.user.Name) {
		u.renderUsers(w, r, s, http.StatusUnprocessableEntity, "You cannot disable yourself.", adminUsersData{})
		return
	}
	if err := u.users.SetUserDisabled(ctx, name, disable); err != nil {
		u.serviceError(w, r, s, "changing the user", err)
		return
	}
	action := "user.enable"
	if disable {
		action = "user.disable"
	}
	u.audit(ctx, s.user.Name, action, name, map[string]any{"via": "web"})
	redirect(w, r, "/admin/users?notice=userchanged")
}

func (u *UI) adminAudit(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	q := r.URL.Query()
	d := auditData{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action"))}
	entries, err := u.users.ListAudit(ctx, store.AuditFilter{Actor: d.Actor, ActionPrefix: d.Action, Limit: 200})
	if err != nil {
		u.serviceError(w, r, s, "reading the audit log", err)
		return
	}
	d.Entries = entries
	n, err := u.users.VerifyAudit(ctx)
	d.Verified, d.VerifyOK = n, err == nil
	if err != nil {
		d.VerifyErr = err.Error()
		u.log.ErrorContext(ctx, "web: audit log does not verify", "err", err)
	}
	u.render(w, r, s, http.StatusOK, "admin_audit.html", page{Title: "Audit log", Data: d})
}
