package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestUserCreateGetList(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		if _, err := s.CreateUser(ctx, "anna", "desk", "$argon2id$x"); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if _, err := s.CreateUser(ctx, "ANNA", "admin", "$argon2id$y"); !errors.Is(err, ErrUserExists) {
			t.Errorf("CreateUser with a name differing in case: got %v, want ErrUserExists", err)
		}
		if _, err := s.CreateUser(ctx, "bob", "superuser", "$argon2id$y"); err == nil {
			t.Errorf("CreateUser with an unknown role: got nil error")
		}
		if _, err := s.CreateUser(ctx, "bert", "approver", "$argon2id$z"); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		u, err := s.GetUser(ctx, "Anna")
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if u.Name != "anna" || u.Role != "desk" || u.PasswordHash != "$argon2id$x" || u.Disabled {
			t.Errorf("GetUser = %+v", u)
		}
		if _, err := s.GetUser(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetUser(nobody): got %v, want ErrNotFound", err)
		}
		users, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if len(users) != 2 || users[0].Name != "anna" || users[1].Name != "bert" {
			t.Errorf("ListUsers = %+v", users)
		}
		if err := s.SetUserPassword(ctx, "nobody", "h"); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetUserPassword(nobody): got %v, want ErrNotFound", err)
		}
	})
}

func TestSessionLifecycle(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		clock := newFakeClock()
		s := drv.open(t, clock)
		if _, err := s.CreateUser(ctx, "anna", "desk", "h1"); err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		id := []byte("0123456789abcdef0123456789abcdef")
		if err := s.CreateSession(ctx, SessionInput{IDHash: id, UserName: "anna", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		ses, err := s.GetSession(ctx, id)
		if err != nil {
			t.Fatalf("GetSession: %v", err)
		}
		if ses.User.Name != "anna" || ses.User.Role != "desk" || !ses.LastSeen.Equal(now) || !ses.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("GetSession = %+v", ses)
		}
		later := now.Add(10 * time.Minute)
		if err := s.TouchSession(ctx, id, later); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		if ses, _ = s.GetSession(ctx, id); !ses.LastSeen.Equal(later) {
			t.Errorf("LastSeen after touch = %v, want %v", ses.LastSeen, later)
		}
		// A password change ends every session of the user.
		if err := s.SetUserPassword(ctx, "anna", "h2"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSession(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetSession after password change: got %v, want ErrNotFound", err)
		}
		if err := s.CreateSession(ctx, SessionInput{IDHash: id, UserName: "anna", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSession(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetSession after delete: got %v, want ErrNotFound", err)
		}
		// Expired and idle sessions are swept.
		for i, in := range []SessionInput{
			{IDHash: []byte("a"), UserName: "anna", CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
			{IDHash: []byte("b"), UserName: "anna", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			{IDHash: []byte("c"), UserName: "anna", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		} {
			if err := s.CreateSession(ctx, in); err != nil {
				t.Fatalf("CreateSession %d: %v", i, err)
			}
		}
		if err := s.TouchSession(ctx, []byte("c"), now.Add(90*time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredSessions(ctx, now.Add(2*time.Minute), now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("DeleteExpiredSessions removed %d, want 2", n)
		}
		if c, _ := s.CountSessions(ctx, "anna"); c != 1 {
			t.Errorf("CountSessions = %d, want 1", c)
		}
		if err := s.SetUserDisabled(ctx, "anna", true); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.CountSessions(ctx, "anna"); c != 0 {
			t.Errorf("CountSessions after disabling = %d, want 0", c)
		}
	})
}

func TestAuditChainVerifiesAndDetectsTampering(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		if n, err := s.VerifyAudit(ctx); err != nil || n != 0 {
			t.Fatalf("VerifyAudit on an empty log = %d, %v", n, err)
		}
		for _, in := range []AuditInput{
			{Actor: "anna", Action: "login.success"},
			{Actor: "bert", Action: "order.approve", Object: "ord_1", Detail: json.RawMessage(`{"comment":"ok"}`)},
			{Actor: "anna", Action: "draft.accept", Object: "drf_1"},
		} {
			if _, err := s.AppendAudit(ctx, in); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
		}
		if _, err := s.AppendAudit(ctx, AuditInput{Actor: "x", Action: "y", Detail: json.RawMessage(`{`)}); !errors.Is(err, ErrInvalid) {
			t.Errorf("AppendAudit with bad JSON: got %v, want ErrInvalid", err)
		}
		if n, err := s.VerifyAudit(ctx); err != nil || n != 3 {
			t.Fatalf("VerifyAudit = %d, %v; want 3, nil", n, err)
		}
		got, err := s.ListAudit(ctx, AuditFilter{ActionPrefix: "order."})
		if err != nil || len(got) != 1 || got[0].Object != "ord_1" || string(got[0].Detail) != `{"comment":"ok"}` {
			t.Fatalf("ListAudit(order.) = %+v, %v", got, err)
		}
		// The triggers refuse changes made through SQL.
		if _, err := s.testDB().ExecContext(ctx, `UPDATE audit_log SET actor = 'mallory' WHERE id = 2`); err == nil {
			t.Fatalf("UPDATE audit_log succeeded; want the append-only trigger to refuse")
		}
		if _, err := s.testDB().ExecContext(ctx, `DELETE FROM audit_log WHERE id = 2`); err == nil {
			t.Fatalf("DELETE FROM audit_log succeeded; want the append-only trigger to refuse")
		}
		// Someone with file access drops the trigger and edits a row.
		if err := s.testDB().dropTrigger(ctx, s, "audit_log_no_update", "audit_log"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.testDB().ExecContext(ctx, `UPDATE audit_log SET detail = '{"comment":"forged"}' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		_, err = s.VerifyAudit(ctx)
		if !errors.Is(err, ErrAuditTampered) {
			t.Fatalf("VerifyAudit after tampering: got %v, want ErrAuditTampered", err)
		}
	})
}

func TestAuditChainDetectsRemovedRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		for i := 0; i < 3; i++ {
			if _, err := s.AppendAudit(ctx, AuditInput{Actor: "anna", Action: "login.success"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.testDB().dropTrigger(ctx, s, "audit_log_no_delete", "audit_log"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.testDB().ExecContext(ctx, `DELETE FROM audit_log WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyAudit(ctx); !errors.Is(err, ErrAuditTampered) {
			t.Fatalf("VerifyAudit after removing a row: got %v, want ErrAuditTampered", err)
		}
	})
}

func TestLoginAttemptsCountAndReset(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		t0 := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
		for i := 1; i <= 3; i++ {
			la, err := s.RecordLoginFailure(ctx, "user:anna", t0.Add(time.Duration(i)*time.Second), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if la.Failures != i {
				t.Errorf("failure %d: count %d", i, la.Failures)
			}
		}
		la, err := s.GetLoginAttempts(ctx, "user:anna")
		if err != nil || la.Failures != 3 || !la.LastFailure.Equal(t0.Add(3*time.Second)) || !la.FirstFailure.Equal(t0.Add(time.Second)) {
			t.Errorf("GetLoginAttempts = %+v, %v", la, err)
		}
		// After the reset window the count starts again.
		la, err = s.RecordLoginFailure(ctx, "user:anna", t0.Add(2*time.Hour), time.Hour)
		if err != nil || la.Failures != 1 {
			t.Errorf("after the window: %+v, %v; want 1 failure", la, err)
		}
		if err := s.ClearLoginAttempts(ctx, "user:anna"); err != nil {
			t.Fatal(err)
		}
		if la, _ := s.GetLoginAttempts(ctx, "user:anna"); la.Failures != 0 {
			t.Errorf("after clearing: %d failures", la.Failures)
		}
	})
}
