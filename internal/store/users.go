package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrUserExists: a user with that name already exists.
var ErrUserExists = errors.New("store: already exists")

// ErrAuditTampered: the audit log's hash chain does not verify.
var ErrAuditTampered = errors.New("store: audit log does not verify")

// User is an operator of the web UI. PasswordHash is an encoded password
// hash (the web package writes argon2id in PHC form); the store neither
// makes nor checks it.
type User struct {
	ID           string
	Name         string
	PasswordHash string
	Role         string // admin | approver | desk (checked by the schema)
	// ApprovalRoles are the rules' roles the user decides held orders in
	// (approver, sales-manager, finance, sales-rep, ...); Role says which
	// screens the user sees.
	ApprovalRoles []string
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const userColumns = `id, name, password_hash, role, disabled, created_at, updated_at, approval_roles`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, updated int64
	var roles string
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.Role, &u.Disabled, &created, &updated, &roles); err != nil {
		return User{}, err
	}
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	u.ApprovalRoles = splitRoles(roles)
	return u, nil
}

// splitRoles reads the approval_roles column.
func splitRoles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateUser adds a user. A name that exists (case-insensitively) gives
// ErrUserExists; an unknown role fails the schema's check.
func (s *Store) CreateUser(ctx context.Context, name, role, passwordHash string) (User, error) {
	if name == "" || role == "" || passwordHash == "" {
		return User{}, fmt.Errorf("creating user: %w: name, role and password hash are required", ErrInvalid)
	}
	now := s.clock()
	u := User{ID: s.newID("usr", now), Name: name, PasswordHash: passwordHash, Role: role, CreatedAt: now, UpdatedAt: now}
	err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, 0, ?, ?, '')`,
			u.ID, u.Name, u.PasswordHash, u.Role, nanos(now), nanos(now))
		if isUniqueViolation(err) {
			return fmt.Errorf("creating user %q: %w", name, ErrUserExists)
		}
		if err != nil {
			return fmt.Errorf("creating user %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// GetUser returns the user with that name (case-insensitively), or
// ErrNotFound.
func (s *Store) GetUser(ctx context.Context, name string) (User, error) {
	var u User
	err := s.read(ctx, func(q querier) (err error) {
		u, err = scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("reading user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user %q: %w", name, err)
	}
	return u, nil
}

// ListUsers returns every user by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var out []User
	err := s.read(ctx, func(q querier) error {
		out = out[:0]
		rows, err := q.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return out, nil
}

// SetUserPassword replaces a user's password hash and ends all of the
// user's sessions.
func (s *Store) SetUserPassword(ctx context.Context, name, passwordHash string) error {
	if passwordHash == "" {
		return fmt.Errorf("setting password of %q: %w: no hash", name, ErrInvalid)
	}
	return s.updateUser(ctx, name, "setting password of "+strconv.Quote(name), `password_hash = ?`, passwordHash)
}

// SetUserRole changes a user's role; the user's sessions end.
func (s *Store) SetUserRole(ctx context.Context, name, role string) error {
	return s.updateUser(ctx, name, "setting role of "+strconv.Quote(name), `role = ?`, role)
}

// SetUserApprovalRoles replaces the approval roles of a user (names of
// 1 to 64 letters, digits, '-', '_' and '.'; duplicates dropped); the
// user's sessions end.
func (s *Store) SetUserApprovalRoles(ctx context.Context, name string, roles []string) error {
	var clean []string
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if !validApprovalRole(r) {
			return fmt.Errorf("setting approval roles of %q: %w: %q is not a role name (letters, digits, '-', '_', '.')", name, ErrInvalid, r)
		}
		if !slices.Contains(clean, r) {
			clean = append(clean, r)
		}
	}
	return s.updateUser(ctx, name, "setting approval roles of "+strconv.Quote(name), `approval_roles = ?`, strings.Join(clean, ","))
}

func validApprovalRole(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// SetUserDisabled disables or enables a user; the user's sessions end
// either way.
func (s *Store) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return s.updateUser(ctx, name, "disabling "+strconv.Quote(name), `disabled = ?`, boolInt(disabled))
}

func (s *Store) updateUser(ctx context.Context, name, doing, set string, arg any) error {
	return s.Write(ctx, func(tx *Tx) error {
		var id string
		err := tx.tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = ?`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", doing, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", doing, err)
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE users SET `+set+`, updated_at = ? WHERE id = ?`,
			arg, nanos(s.clock()), id); err != nil {
			return fmt.Errorf("%s: %w", doing, err)
		}
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("%s: ending sessions: %w", doing, err)
		}
		return nil
	})
}

// SessionInput is a new session. IDHash is the hash of the secret the
// browser holds (the caller makes both).
type SessionInput struct {
	IDHash    []byte
	UserName  string
	CreatedAt time.Time
	ExpiresAt time.Time // the absolute end, whatever the activity
}

// Session is a stored session with its user.
type Session struct {
	IDHash    []byte
	User      User
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

// CreateSession stores a session for the user, and deletes the user's
// sessions that ended before CreatedAt.
func (s *Store) CreateSession(ctx context.Context, in SessionInput) error {
	if len(in.IDHash) == 0 || in.UserName == "" || in.CreatedAt.IsZero() || !in.ExpiresAt.After(in.CreatedAt) {
		return fmt.Errorf("creating session: %w: id hash, user and a lifetime are required", ErrInvalid)
	}
	return s.Write(ctx, func(tx *Tx) error {
		// On PostgreSQL the user row is share-locked, so a concurrent
		// password, role or disabled change (which ends the user's
		// sessions) comes wholly before or after this session, as with
		// SQLite's single writer.
		var id string
		err := tx.tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = ?`+s.lockSuffix(" FOR SHARE"), in.UserName).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("creating session: user %q: %w", in.UserName, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("creating session: %w", err)
		}
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?`,
			id, nanos(in.CreatedAt)); err != nil {
			return fmt.Errorf("creating session: pruning: %w", err)
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?)`,
			in.IDHash, id, nanos(in.CreatedAt), nanos(in.CreatedAt), nanos(in.ExpiresAt)); err != nil {
			return fmt.Errorf("creating session: %w", err)
		}
		return nil
	})
}

// GetSession returns the session with that id hash and its user, or
// ErrNotFound. Whether it has timed out is the caller's decision.
func (s *Store) GetSession(ctx context.Context, idHash []byte) (Session, error) {
	var ses Session
	err := s.read(ctx, func(q querier) error {
		row := q.QueryRowContext(ctx, `SELECT s.id_hash, s.created_at, s.last_seen, s.expires_at,
			u.id, u.name, u.password_hash, u.role, u.disabled, u.created_at, u.updated_at, u.approval_roles
			FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, idHash)
		var created, seen, expires, uc, uu int64
		var roles string
		err := row.Scan(&ses.IDHash, &created, &seen, &expires, &ses.User.ID, &ses.User.Name, &ses.User.PasswordHash,
			&ses.User.Role, &ses.User.Disabled, &uc, &uu, &roles)
		if err != nil {
			return err
		}
		ses.User.ApprovalRoles = splitRoles(roles)
		ses.CreatedAt, ses.LastSeen, ses.ExpiresAt = fromNanos(created), fromNanos(seen), fromNanos(expires)
		ses.User.CreatedAt, ses.User.UpdatedAt = fromNanos(uc), fromNanos(uu)
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("reading session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("reading session: %w", err)
	}
	return ses, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ? AND last_seen < ?`,
			nanos(at), idHash, nanos(at))
		if err != nil {
			return fmt.Errorf("touching session: %w", err)
		}
		_, err = res.RowsAffected()
		return err
	})
}

// DeleteSession ends a session; ending one that does not exist is not an
// error.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
			return fmt.Errorf("deleting session: %w", err)
		}
		return nil
	})
}

// DeleteExpiredSessions removes the sessions whose absolute end is before
// now or whose last activity is before idleBefore, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen < ?`, nanos(now), nanos(idleBefore))
		if err != nil {
			return fmt.Errorf("deleting expired sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// CountSessions returns the number of stored sessions of a user.
func (s *Store) CountSessions(ctx context.Context, userName string) (int, error) {
	var n int
	err := s.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = ?`,
			userName).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("counting sessions: %w", err)
	}
	return n, nil
}

// AuditInput is one entry of the audit log.
type AuditInput struct {
	At     time.Time // the store's clock when zero
	Actor  string    // the user name, or "-" for an unknown one
	Action string    // e.g. "login.success", "order.approve"
	Object string    // what the action was on: an order id, a user name
	Detail json.RawMessage
}

// AuditEntry is a recorded audit row.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Actor    string
	Action   string
	Object   string
	Detail   json.RawMessage
	PrevHash string
	Hash     string
}

// auditHash is SHA-256 over the previous hash and the row's fields, each
// length-prefixed so that no two different rows encode alike.
func auditHash(prev string, id int64, atNanos int64, actor, action, object, detail string) string {
	h := sha256.New()
	for _, f := range []string{prev, strconv.FormatInt(id, 10), strconv.FormatInt(atNanos, 10), actor, action, object, detail} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AppendAudit appends an entry to the audit log, chained to the previous
// entry's hash.
func (s *Store) AppendAudit(ctx context.Context, in AuditInput) (AuditEntry, error) {
	if in.Actor == "" || in.Action == "" {
		return AuditEntry{}, fmt.Errorf("appending audit entry: %w: actor and action are required", ErrInvalid)
	}
	detail := "{}"
	if len(in.Detail) > 0 {
		if !json.Valid(in.Detail) {
			return AuditEntry{}, fmt.Errorf("appending audit entry %s: %w: detail is not valid JSON", in.Action, ErrInvalid)
		}
		detail = string(in.Detail)
	}
	var e AuditEntry
	err := s.Write(ctx, func(tx *Tx) error {
		at := in.At
		if at.IsZero() {
			at = s.clock()
		}
		// The chain is a read-modify-write of the last row: on PostgreSQL
		// concurrent appends (of several nodes) queue on a table lock that
		// readers do not wait for; SQLite's writer is single already.
		if s.driver == DriverPostgres {
			if _, err := tx.tx.ExecContext(ctx, `LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("appending audit entry %s: %w", in.Action, err)
			}
		}
		var lastID int64
		var prev string
		err := tx.tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&lastID, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("appending audit entry %s: %w", in.Action, err)
		}
		id := lastID + 1
		hash := auditHash(prev, id, nanos(at), in.Actor, in.Action, in.Object, detail)
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, action, object, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, nanos(at), in.Actor, in.Action, in.Object, detail, prev, hash); err != nil {
			return fmt.Errorf("appending audit entry %s: %w", in.Action, err)
		}
		e = AuditEntry{ID: id, At: at.UTC(), Actor: in.Actor, Action: in.Action, Object: in.Object,
			Detail: json.RawMessage(detail), PrevHash: prev, Hash: hash}
		return nil
	})
	return e, err
}

// AuditFilter selects audit entries; zero fields select all.
type AuditFilter struct {
	Actor        string
	ActionPrefix string // "login." selects every login action
	Object       string
	BeforeID     int64 // entries with a smaller id (paging back)
	Limit        int   // 100 when zero
}

// ListAudit returns audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var conds []string
	var args []any
	if f.Actor != "" {
		conds, args = append(conds, "actor = ?"), append(args, f.Actor)
	}
	if f.ActionPrefix != "" {
		conds, args = append(conds, "substr(action, 1, ?) = ?"), append(args, len(f.ActionPrefix), f.ActionPrefix)
	}
	if f.Object != "" {
		conds, args = append(conds, "object = ?"), append(args, f.Object)
	}
	if f.BeforeID > 0 {
		conds, args = append(conds, "id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT id, at, actor, action, object, detail, prev_hash, hash FROM audit_log`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit)
	var out []AuditEntry
	err := s.read(ctx, func(qr querier) error {
		out = out[:0]
		rows, err := qr.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing audit log: %w", err)
	}
	return out, nil
}

func scanAudit(row interface{ Scan(...any) error }) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	var detail string
	if err := row.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &detail, &e.PrevHash, &e.Hash); err != nil {
		return AuditEntry{}, err
	}
	e.At, e.Detail = fromNanos(at), json.RawMessage(detail)
	return e, nil
}

// VerifyAudit walks the whole audit log in order and recomputes the hash
// chain. It returns the number of entries checked, and an error wrapping
// ErrAuditTampered that names the first entry whose hash, link or id does
// not match.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	var n int
	err := s.read(ctx, func(q querier) error {
		n = 0
		rows, err := q.QueryContext(ctx, `SELECT id, at, actor, action, object, detail, prev_hash, hash FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prev := ""
		var wantID int64 = 1
		for rows.Next() {
			var e AuditEntry
			var at int64
			var detail string
			if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &detail, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			switch {
			case e.ID != wantID:
				return fmt.Errorf("%w: entry %d missing (next is %d)", ErrAuditTampered, wantID, e.ID)
			case e.PrevHash != prev:
				return fmt.Errorf("%w: entry %d does not link to entry %d", ErrAuditTampered, e.ID, e.ID-1)
			case auditHash(prev, e.ID, at, e.Actor, e.Action, e.Object, detail) != e.Hash:
				return fmt.Errorf("%w: entry %d was modified", ErrAuditTampered, e.ID)
			}
			prev, wantID = e.Hash, wantID+1
			n++
		}
		return rows.Err()
	})
	if err != nil && !errors.Is(err, ErrAuditTampered) {
		return n, fmt.Errorf("verifying audit log: %w", err)
	}
	return n, err
}

// LoginAttempts counts the failed logins of a key ("user:NAME",
// "ip:ADDR") since its last success.
type LoginAttempts struct {
	Key          string
	Failures     int
	FirstFailure time.Time
	LastFailure  time.Time
}

// GetLoginAttempts returns the failures of key (zero Failures when none).
func (s *Store) GetLoginAttempts(ctx context.Context, key string) (LoginAttempts, error) {
	la := LoginAttempts{Key: key}
	err := s.read(ctx, func(q querier) error {
		var first, last int64
		err := q.QueryRowContext(ctx, `SELECT failures, first_failure, last_failure FROM login_attempts WHERE key = ?`, key).
			Scan(&la.Failures, &first, &last)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		la.FirstFailure, la.LastFailure = fromNanos(first), fromNanos(last)
		return err
	})
	if err != nil {
		return LoginAttempts{}, fmt.Errorf("reading login attempts: %w", err)
	}
	return la, nil
}

// RecordLoginFailure counts one failed login of key at the given time and
// returns the new count. Failures older than resetAfter are forgotten
// first (the count starts again at 1).
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at time.Time, resetAfter time.Duration) (LoginAttempts, error) {
	la := LoginAttempts{Key: key}
	err := s.Write(ctx, func(tx *Tx) error {
		var first, last int64
		err := tx.tx.QueryRowContext(ctx, `INSERT INTO login_attempts (key, failures, first_failure, last_failure) VALUES (?, 1, ?, ?)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN login_attempts.last_failure < ? THEN 1 ELSE login_attempts.failures + 1 END,
				first_failure = CASE WHEN login_attempts.last_failure < ? THEN excluded.first_failure ELSE login_attempts.first_failure END,
				last_failure = excluded.last_failure
			RETURNING failures, first_failure, last_failure`,
			key, nanos(at), nanos(at), nanos(at.Add(-resetAfter)), nanos(at.Add(-resetAfter))).Scan(&la.Failures, &first, &last)
		if err != nil {
			return fmt.Errorf("recording login failure: %w", err)
		}
		la.FirstFailure, la.LastFailure = fromNanos(first), fromNanos(last)
		return nil
	})
	return la, err
}

// ClearLoginAttempts forgets the failures of key (after a success).
func (s *Store) ClearLoginAttempts(ctx context.Context, key string) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ?`, key); err != nil {
			return fmt.Errorf("clearing login attempts: %w", err)
		}
		return nil
	})
}
