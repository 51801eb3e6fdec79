package rules

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

type step struct {
	reject      bool
	role, user  string
	wantErr     error
	wantStatus  ApprovalStatus
	wantPending []string
}

func TestApprovalState(t *testing.T) {
	credit := Hold{Rule: RuleCreditLimit, Line: -1, Reason: "over", Levels: []string{"approver"}}
	large := Hold{Rule: RuleApproval, Approval: "large", Line: -1, Levels: []string{"sales-manager"}}
	huge := Hold{Rule: RuleApproval, Approval: "huge", Line: -1, Levels: []string{"sales-manager", "finance"}}
	tests := []struct {
		name  string
		holds []Hold
		steps []step
	}{
		{"single level", []Hold{large}, []step{
			{role: "sales-manager", user: "bob", wantStatus: ApprovalApproved},
		}},
		{"levels in order", []Hold{huge}, []step{
			{role: "finance", user: "fay", wantErr: ErrWrongRole, wantStatus: ApprovalPending, wantPending: []string{"sales-manager"}},
			{role: "sales-manager", user: "bob", wantStatus: ApprovalPending, wantPending: []string{"finance"}},
			{role: "sales-manager", user: "sam", wantErr: ErrWrongRole, wantStatus: ApprovalPending, wantPending: []string{"finance"}},
			{role: "finance", user: "fay", wantStatus: ApprovalApproved},
		}},
		{"wrong role", []Hold{credit}, []step{
			{role: "sales-manager", user: "bob", wantErr: ErrWrongRole, wantStatus: ApprovalPending, wantPending: []string{"approver"}},
			{role: "", user: "bob", wantErr: ErrWrongRole, wantStatus: ApprovalPending, wantPending: []string{"approver"}},
		}},
		{"same user on two levels", []Hold{huge}, []step{
			{role: "sales-manager", user: "bob", wantStatus: ApprovalPending},
			{role: "finance", user: "bob", wantErr: ErrSameUser, wantStatus: ApprovalPending, wantPending: []string{"finance"}},
			{role: "finance", user: "fay", wantStatus: ApprovalApproved},
		}},
		{"double approval", []Hold{large}, []step{
			{role: "sales-manager", user: "bob", wantStatus: ApprovalApproved},
			{role: "sales-manager", user: "bob", wantErr: ErrDecided, wantStatus: ApprovalApproved},
		}},
		{"no user", []Hold{large}, []step{
			{role: "sales-manager", user: " ", wantErr: ErrNoUser, wantStatus: ApprovalPending, wantPending: []string{"sales-manager"}},
		}},
		{"reject ends it", []Hold{credit, huge}, []step{
			{role: "approver", user: "ann", wantStatus: ApprovalPending, wantPending: []string{"sales-manager"}},
			{reject: true, role: "sales-manager", user: "bob", wantStatus: ApprovalRejected},
			{role: "sales-manager", user: "sam", wantErr: ErrDecided, wantStatus: ApprovalRejected},
			{reject: true, role: "sales-manager", user: "sam", wantErr: ErrDecided, wantStatus: ApprovalRejected},
		}},
		{"reject needs an awaited role", []Hold{huge}, []step{
			{reject: true, role: "finance", user: "fay", wantErr: ErrWrongRole, wantStatus: ApprovalPending, wantPending: []string{"sales-manager"}},
		}},
		{"one approval clears several holds", []Hold{credit, large, huge}, []step{
			{role: "sales-manager", user: "bob", wantStatus: ApprovalPending, wantPending: []string{"approver", "finance"}},
			{role: "approver", user: "ann", wantStatus: ApprovalPending, wantPending: []string{"finance"}},
			{role: "finance", user: "fay", wantStatus: ApprovalApproved},
		}},
	}
	now := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewApprovalState(tt.holds)
			trail := 0
			for i, st := range tt.steps {
				before, _ := json.Marshal(s)
				f := Approve
				if st.reject {
					f = Reject
				}
				next, err := f(s, st.role, st.user, "step", now.Add(time.Duration(i)*time.Minute))
				if after, _ := json.Marshal(s); string(before) != string(after) {
					t.Fatalf("step %d changed the state passed in", i)
				}
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("step %d (%s as %s): error %v, want %v", i, st.user, st.role, err, st.wantErr)
				}
				if err == nil {
					trail++
				}
				s = next
				if s.Status != st.wantStatus {
					t.Fatalf("step %d: status %s, want %s", i, s.Status, st.wantStatus)
				}
				if got := s.PendingRoles(); st.wantPending != nil && !reflect.DeepEqual(got, st.wantPending) {
					t.Errorf("step %d: pending %v, want %v", i, got, st.wantPending)
				}
				if len(s.Trail) != trail {
					t.Fatalf("step %d: trail has %d entries, want %d", i, len(s.Trail), trail)
				}
			}
		})
	}
}

func TestApprovalTrailAndJSON(t *testing.T) {
	s := NewApprovalState([]Hold{
		{Rule: RuleCreditLimit, Line: -1, Reason: "exposure over", Levels: []string{"approver"}},
		{Rule: RuleApproval, Approval: "huge", Line: -1, Levels: []string{"approver", "finance"}},
	})
	at := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	s, err := Approve(s, "approver", "ann", "known customer", at)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Trail[0]
	want := ApprovalEntry{Action: ActionApprove, Role: "approver", User: "ann", Comment: "known customer", At: at,
		Holds: []string{"credit_limit level 1 of 1", "approval:huge level 1 of 2"}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("trail entry %+v, want %+v", e, want)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back ApprovalState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("JSON round trip: %+v, want %+v", back, s)
	}
	back, err = Approve(back, "finance", "fay", "", at.Add(time.Hour))
	if err != nil || back.Status != ApprovalApproved {
		t.Errorf("after the round trip: status %s, error %v; want approved", back.Status, err)
	}
	if empty := NewApprovalState(nil); empty.Status != ApprovalApproved {
		t.Errorf("no holds: status %s, want approved", empty.Status)
	}
}

// TestApprovalOverride: an administrator's override clears every
// remaining level of every hold (or rejects the order), marked as an
// override in the trail; a decided state and no user are refused.
func TestApprovalOverride(t *testing.T) {
	credit := Hold{Rule: RuleCreditLimit, Line: -1, Reason: "over", Levels: []string{"approver"}}
	huge := Hold{Rule: RuleApproval, Approval: "huge", Line: -1, Levels: []string{"sales-manager", "finance"}}
	now := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	s, err := Approve(NewApprovalState([]Hold{credit, huge}), "sales-manager", "bob", "", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, approve := range []bool{true, false} {
		got, err := Override(s, approve, "root", "customer paid", now)
		if err != nil {
			t.Fatal(err)
		}
		want := ApprovalRejected
		if approve {
			want = ApprovalApproved
		}
		if got.Status != want || len(got.PendingRoles()) != 0 {
			t.Errorf("override approve=%v: status %s, pending %v; want %s, none", approve, got.Status, got.PendingRoles(), want)
		}
		last := got.Trail[len(got.Trail)-1]
		if !last.Override || last.Role != RoleOverride || last.User != "root" || len(last.Holds) != 2 {
			t.Errorf("override approve=%v: trail entry %+v", approve, last)
		}
		if s.Status != ApprovalPending || len(s.Trail) != 1 {
			t.Errorf("Override changed its argument: %+v", s)
		}
		if _, err := Override(got, approve, "root", "", now); !errors.Is(err, ErrDecided) {
			t.Errorf("override of a decided state: %v, want ErrDecided", err)
		}
	}
	if _, err := Override(s, true, " ", "", now); !errors.Is(err, ErrNoUser) {
		t.Errorf("override without a user: %v, want ErrNoUser", err)
	}
}
