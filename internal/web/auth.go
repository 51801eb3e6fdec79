package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/store"
)

// session is a signed-in request's session.
type session struct {
	idHash []byte
	user   store.User
}

// Throttling of failed logins: per user name and per remote address, the
// first free failures cost nothing; each further one doubles the lockout
// from lockBase up to lockMax. Failures older than failureMemory are
// forgotten.
const (
	freeFailuresUser = 5
	freeFailuresIP   = 20
	lockBase         = 2 * time.Second
	lockMax          = 15 * time.Minute
	failureMemory    = time.Hour
	touchEvery       = time.Minute
)

func (u *UI) cookieName() string {
	if u.secure {
		return "__Host-ordergate_session"
	}
	return "ordergate_session"
}

func hashToken(tok []byte) []byte {
	h := sha256.Sum256(tok)
	return h[:]
}

// sessionFromCookie returns the stored session the request's cookie names,
// or nil when there is none or it has ended (an ended one is deleted).
func (u *UI) sessionFromCookie(ctx context.Context, r *http.Request) (*session, string) {
	c, err := r.Cookie(u.cookieName())
	if err != nil || c.Value == "" {
		return nil, ""
	}
	tok, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(tok) != 32 {
		return nil, "invalid"
	}
	idHash := hashToken(tok)
	st, err := u.users.GetSession(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "unknown"
	}
	if err != nil {
		u.log.ErrorContext(ctx, "web: reading session", "err", err)
		return nil, "error"
	}
	now := u.now()
	why := ""
	switch {
	case st.User.Disabled:
		why = "disabled"
	case !now.Before(st.ExpiresAt):
		why = "absolute timeout"
	case now.Sub(st.LastSeen) >= u.idle:
		why = "idle timeout"
	}
	if why != "" {
		if err := u.users.DeleteSession(ctx, idHash); err != nil {
			u.log.ErrorContext(ctx, "web: deleting ended session", "err", err)
		}
		u.log.InfoContext(ctx, "web: session ended", "user", st.User.Name, "why", why)
		return nil, why
	}
	if now.Sub(st.LastSeen) >= touchEvery {
		if err := u.users.TouchSession(ctx, idHash, now); err != nil {
			u.log.ErrorContext(ctx, "web: touching session", "err", err)
		}
	}
	return &session{idHash: idHash, user: st.User}, ""
}

func (u *UI) optionalSession(w http.ResponseWriter, r *http.Request) *session {
	s, _ := u.sessionFromCookie(r.Context(), r)
	return s
}

// requireSession returns the request's session, or answers with a
// redirect to the login page (a 401 for requests that want no HTML).
func (u *UI) requireSession(w http.ResponseWriter, r *http.Request) (*session, bool) {
	s, why := u.sessionFromCookie(r.Context(), r)
	if s != nil {
		return s, true
	}
	if why != "" {
		u.clearCookie(w)
	}
	if r.Method != http.MethodGet || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, "Unauthorized: please sign in")
		return nil, false
	}
	q := url.Values{"next": {r.URL.RequestURI()}}
	if why == "idle timeout" || why == "absolute timeout" {
		q.Set("notice", "expired")
	}
	http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
	return nil, false
}

func (u *UI) setCookie(w http.ResponseWriter, tok []byte) {
	http.SetCookie(w, &http.Cookie{Name: u.cookieName(), Value: base64.RawURLEncoding.EncodeToString(tok), Path: "/",
		HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(u.max / time.Second)})
}

func (u *UI) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: u.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: u.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// newSession stores a fresh session for the user and sets its cookie.
func (u *UI) newSession(ctx context.Context, w http.ResponseWriter, name string) error {
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return fmt.Errorf("making session id: %w", err)
	}
	now := u.now()
	if err := u.users.CreateSession(ctx, store.SessionInput{IDHash: hashToken(tok), UserName: name,
		CreatedAt: now, ExpiresAt: now.Add(u.max)}); err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	u.setCookie(w, tok)
	return nil
}

type loginData struct {
	Name string
	Next string
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request, s *session) {
	next := safeNext(r.URL.Query().Get("next"))
	if s != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.render(w, r, nil, http.StatusOK, "login.html", page{Title: "Sign in", Data: loginData{Next: next}})
}

// safeNext keeps only a local path as the place to go after login.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// remoteIP is the peer's address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// lockedUntil is when a key's lockout ends given its failures.
func lockedUntil(la store.LoginAttempts, free int) time.Time {
	if la.Failures < free {
		return time.Time{}
	}
	d := lockBase << min(la.Failures-free, 20)
	if d > lockMax || d <= 0 {
		d = lockMax
	}
	return la.LastFailure.Add(d)
}

func (u *UI) login(w http.ResponseWriter, r *http.Request, old *session) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	ip := remoteIP(r)
	data := loginData{Name: name, Next: next}
	fail := func(status int, msg string) {
		u.render(w, r, nil, status, "login.html", page{Title: "Sign in", Error: msg, Data: data})
	}
	if name == "" || password == "" || len(name) > 64 {
		fail(http.StatusUnprocessableEntity, "Enter your user name and password.")
		return
	}
	userKey, ipKey := "user:"+strings.ToLower(name), "ip:"+ip
	now := u.now()
	for _, k := range []struct {
		key  string
		free int
	}{{userKey, freeFailuresUser}, {ipKey, freeFailuresIP}} {
		la, err := u.users.GetLoginAttempts(ctx, k.key)
		if err != nil {
			u.log.ErrorContext(ctx, "web: reading login attempts", "err", err)
			fail(http.StatusInternalServerError, "Sign-in is not possible right now.")
			return
		}
		if until := lockedUntil(la, k.free); now.Before(until) {
			wait := until.Sub(now).Round(time.Second)
			w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
			u.audit(ctx, name, "login.throttled", name, map[string]any{"remote": ip, "failures": la.Failures, "key": strings.SplitN(k.key, ":", 2)[0]})
			u.log.WarnContext(ctx, "web: login throttled", "user", name, "failures", la.Failures)
			fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins. Try again in %s.", wait+time.Second))
			return
		}
	}
	user, err := u.users.GetUser(ctx, name)
	hash := user.PasswordHash
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			u.log.ErrorContext(ctx, "web: reading user", "err", err)
			fail(http.StatusInternalServerError, "Sign-in is not possible right now.")
			return
		}
		hash = dummyHash()
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		u.log.ErrorContext(ctx, "web: stored password hash unreadable", "user", name, "err", verr)
	}
	if err != nil || !ok || user.Disabled {
		reason := "bad password"
		switch {
		case err != nil:
			reason = "unknown user"
		case user.Disabled:
			reason = "disabled user"
		}
		for _, key := range []string{userKey, ipKey} {
			if _, err := u.users.RecordLoginFailure(ctx, key, now, failureMemory); err != nil {
				u.log.ErrorContext(ctx, "web: recording login failure", "err", err)
			}
		}
		u.audit(ctx, name, "login.failure", name, map[string]any{"remote": ip, "reason": reason})
		u.log.InfoContext(ctx, "web: login failed", "user", name, "reason", reason)
		fail(http.StatusUnauthorized, "User name or password is wrong.")
		return
	}
	// Rotate: the session the browser came with (if any) ends; a new id
	// is issued whatever the browser held.
	if old != nil {
		if err := u.users.DeleteSession(ctx, old.idHash); err != nil {
			u.log.ErrorContext(ctx, "web: ending previous session", "err", err)
		}
	} else if c, err := r.Cookie(u.cookieName()); err == nil {
		if tok, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			_ = u.users.DeleteSession(ctx, hashToken(tok))
		}
	}
	if err := u.newSession(ctx, w, user.Name); err != nil {
		u.log.ErrorContext(ctx, "web: creating session", "err", err)
		fail(http.StatusInternalServerError, "Sign-in is not possible right now.")
		return
	}
	if err := u.users.ClearLoginAttempts(ctx, userKey); err != nil {
		u.log.ErrorContext(ctx, "web: clearing login attempts", "err", err)
	}
	u.audit(ctx, user.Name, "login.success", user.Name, map[string]any{"remote": ip, "role": user.Role})
	u.log.InfoContext(ctx, "web: login", "user", user.Name, "role", user.Role)
	redirect(w, r, next)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.users.DeleteSession(r.Context(), s.idHash); err != nil {
		u.log.ErrorContext(r.Context(), "web: ending session", "err", err)
		u.renderError(w, r, s, http.StatusInternalServerError, "Signing out failed; try again.")
		return
	}
	u.clearCookie(w)
	u.audit(r.Context(), s.user.Name, "logout", s.user.Name, nil)
	redirect(w, r, "/login?notice=loggedout")
}

// SweepSessions deletes the sessions that have timed out (idle or
// absolute) and returns how many. Ended sessions are refused anyway; the
// gateway calls this now and then to keep the table small.
func (u *UI) SweepSessions(ctx context.Context) (int64, error) {
	now := u.now()
	n, err := u.users.DeleteExpiredSessions(ctx, now, now.Add(-u.idle))
	if err != nil {
		return 0, fmt.Errorf("sweeping sessions: %w", err)
	}
	return n, nil
}

// LoginAttempts is what the throttling of failed sign-ins keeps
// (*store.Store implements it).
type LoginAttempts interface {
	GetLoginAttempts(ctx context.Context, key string) (store.LoginAttempts, error)
	RecordLoginFailure(ctx context.Context, key string, at time.Time, resetAfter time.Duration) (store.LoginAttempts, error)
	ClearLoginAttempts(ctx context.Context, key string) error
}

// LoginLockedUntil applies the web UI's throttling of failed sign-ins to
// other ways of signing in (the approvals API): when the lockout of the
// user name or of the remote address ends, the zero time when there is
// none.
func LoginLockedUntil(ctx context.Context, la LoginAttempts, name, remote string) (time.Time, error) {
	var until time.Time
	for _, k := range []struct {
		key  string
		free int
	}{{"user:" + strings.ToLower(name), freeFailuresUser}, {"ip:" + remote, freeFailuresIP}} {
		a, err := la.GetLoginAttempts(ctx, k.key)
		if err != nil {
			return time.Time{}, fmt.Errorf("reading login attempts: %w", err)
		}
		if t := lockedUntil(a, k.free); t.After(until) {
			until = t
		}
	}
	return until, nil
}

// LoginFailed counts a failed sign-in of name from remote, as the web UI
// does for its own.
func LoginFailed(ctx context.Context, la LoginAttempts, name, remote string, now time.Time) error {
	for _, key := range []string{"user:" + strings.ToLower(name), "ip:" + remote} {
		if _, err := la.RecordLoginFailure(ctx, key, now, failureMemory); err != nil {
			return fmt.Errorf("recording a login failure: %w", err)
		}
	}
	return nil
}

// LoginSucceeded forgets the failed sign-ins of name.
func LoginSucceeded(ctx context.Context, la LoginAttempts, name string) error {
	return la.ClearLoginAttempts(ctx, "user:"+strings.ToLower(name))
}
