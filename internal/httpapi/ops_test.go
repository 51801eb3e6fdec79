package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// stubOps answers the operations from memory: order ord_held is held for
// an approver; everything else is unknown.
type stubOps struct{}

func (stubOps) PendingApprovals(context.Context, int) ([]store.Approval, error) {
	st := map[string]any{"approval": rules.NewApprovalState([]rules.Hold{{Rule: "credit_limit", Reason: "over", Levels: []string{"approver"}}}),
		"holds": []rules.Hold{{Rule: "credit_limit", Reason: "over", Numbers: map[string]string{"limit": "100.00"}, Line: -1, Levels: []string{"approver"}}}}
	b, _ := json.Marshal(st)
	return []store.Approval{{OrderID: "ord_held", Status: store.ApprovalPending, State: b, CreatedAt: time.Unix(0, 0)}}, nil
}

func (stubOps) Decide(_ context.Context, d pipeline.Decision) (pipeline.DecisionResult, error) {
	res := pipeline.DecisionResult{OrderID: d.OrderID, Status: order.StatusRouted, Role: "approver"}
	if d.Reject {
		res.Status = order.StatusRejected
	}
	switch {
	case d.OrderID != "ord_held":
		return pipeline.DecisionResult{}, store.ErrNotFound
	case slices.Contains(d.Roles, "approver") && (d.Role == "" || d.Role == "approver"):
	case d.MayOverride:
		res.Role, res.Override = "admin override", true
	default:
		return pipeline.DecisionResult{}, rules.ErrWrongRole
	}
	return res, nil
}

// stubApprovers knows ann (approver), fay (finance) and root (an admin
// without approval roles); every password is "pw". "locked" has failed
// too often.
type stubApprovers struct{}

func (stubApprovers) Authenticate(_ context.Context, name, password, _ string) (Approver, error) {
	if name == "locked" {
		return Approver{}, &ThrottledError{Wait: 90 * time.Second}
	}
	users := map[string]Approver{"ann": {Name: "ann", Roles: []string{"approver"}}, "fay": {Name: "fay", Roles: []string{"finance"}},
		"root": {Name: "root", Admin: true}}
	u, ok := users[name]
	if !ok || password != "pw" {
		return Approver{}, ErrBadCredentials
	}
	return u, nil
}

func (stubOps) Reprocess(_ context.Context, ids []string, _ pipeline.ReprocessOptions) []pipeline.Reprocessed {
	out := make([]pipeline.Reprocessed, len(ids))
	for i, id := range ids {
		out[i] = pipeline.Reprocessed{ID: id, Action: "retry"}
		if !strings.HasPrefix(id, "ord_") && !strings.HasPrefix(id, "dlv_") {
			out[i].Error = "unknown id"
		}
	}
	return out
}

func (stubOps) Import(_ context.Context, kind masterdata.Kind, r io.Reader) (masterdata.Report, error) {
	b, _ := io.ReadAll(r)
	rep := masterdata.Report{Kind: kind}
	if strings.Contains(string(b), "bad") {
		rep.Errors = append(rep.Errors, masterdata.LineError{Line: 2, Column: "credit_limit", Reason: "not a number"})
	}
	return rep, nil
}

func (stubOps) OpenTasks(context.Context, string, int) ([]store.Task, error) {
	return []store.Task{{ID: "tsk_1", OrderID: "ord_held", Text: "call back", CreatedAt: time.Unix(0, 0)}}, nil
}

func (stubOps) CompleteTask(_ context.Context, id, user string) (store.Task, error) {
	if id != "tsk_1" {
		return store.Task{}, store.ErrNotFound
	}
	return store.Task{ID: id, Status: store.TaskDone, DoneBy: user}, nil
}

func send(t *testing.T, srv *httptest.Server, method, path, tok, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestOps(t *testing.T) {
	srv := httptest.NewServer(New(Options{AdminToken: "admin-token-for-tests-0123456789", Ops: stubOps{}, Approvers: stubApprovers{}}))
	t.Cleanup(srv.Close)
	const tok = "admin-token-for-tests-0123456789"
	tests := []struct {
		method, path, body string
		status             int
		has                string
	}{
		{"GET", "/api/v1/approvals", "", 200, `"limit": "100.00"`},
		// The admin token decides as admin: an override; it cannot claim a role.
		{"POST", "/api/v1/orders/ord_held/approve", `{"user":"ann","comment":"ok"}`, 200, `"override": true`},
		{"POST", "/api/v1/orders/ord_held/reject", `{"user":"ann"}`, 200, `"status": "rejected"`},
		{"POST", "/api/v1/orders/ord_held/approve", `{"user":"ann","role":"approver"}`, 400, `"/role"`},
		{"POST", "/api/v1/orders/ord_none/approve", `{"user":"ann"}`, 404, "no such order"},
		{"POST", "/api/v1/orders/ord_held/approve", `{}`, 400, `"/user"`},
		{"POST", "/api/v1/orders/ord_held/approve", `{"user":"a","colour":1}`, 400, "unknown field"},
		{"POST", "/api/v1/reprocess", `{"ids":["ord_1","dlv_2"],"reroute":true}`, 200, `"action": "retry"`},
		{"POST", "/api/v1/reprocess", `{"ids":["x"]}`, 422, "unknown id"},
		{"POST", "/api/v1/reprocess", `{"ids":[]}`, 400, "/ids"},
		{"POST", "/api/v1/dead-letters/dlv_2/retry", ``, 200, `"id": "dlv_2"`},
		{"POST", "/api/v1/dead-letters/ord_1/retry", ``, 404, "no such delivery"},
		{"POST", "/api/v1/masterdata/customers", "number,name\nC-1,A\n", 200, `"kind": "customers"`},
		{"POST", "/api/v1/masterdata/customers", "bad", 422, "credit_limit"},
		{"POST", "/api/v1/masterdata/planets", "x", 404, "planets"},
		{"GET", "/api/v1/tasks", "", 200, "call back"},
		{"POST", "/api/v1/tasks/tsk_1/done", `{"user":"rep"}`, 200, `"done_by": "rep"`},
		{"POST", "/api/v1/tasks/tsk_9/done", `{"user":"rep"}`, 404, "not found"},
	}
	for _, tt := range tests {
		resp, body := send(t, srv, tt.method, tt.path, tok, tt.body)
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.has) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", tt.method, tt.path, tt.body, resp.StatusCode, body, tt.status, tt.has)
		}
		if resp, _ := send(t, srv, tt.method, tt.path, "", tt.body); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", tt.method, tt.path, resp.StatusCode)
		}
	}
	// People decide with their own credentials, in their own roles.
	for _, tt := range []struct {
		user, password, path, body string
		status                     int
		has                        string
	}{
		{"ann", "pw", "/api/v1/orders/ord_held/approve", `{"comment":"paid"}`, 200, `"role": "approver"`},
		{"ann", "pw", "/api/v1/orders/ord_held/reject", `{"user":"ann","role":"approver"}`, 200, `"status": "rejected"`},
		{"fay", "pw", "/api/v1/orders/ord_held/approve", `{}`, 403, "no hold waits for this role"},
		{"fay", "pw", "/api/v1/orders/ord_held/approve", `{"user":"ann"}`, 400, "you decide as yourself, fay"},
		{"root", "pw", "/api/v1/orders/ord_held/approve", `{}`, 200, `"override": true`},
		{"ann", "wrong", "/api/v1/orders/ord_held/approve", `{}`, 401, "wrong password"},
		{"locked", "pw", "/api/v1/orders/ord_held/approve", `{}`, 429, "try again in 91 s"},
		{"ann", "pw", "/api/v1/approvals", "", 200, `"limit": "100.00"`},
		{"ann", "pw", "/api/v1/reprocess", `{"ids":["ord_1"]}`, 401, "bearer token"},
	} {
		method := "POST"
		if tt.body == "" {
			method = "GET"
		}
		req, _ := http.NewRequest(method, srv.URL+tt.path, strings.NewReader(tt.body))
		req.SetBasicAuth(tt.user, tt.password)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.has) {
			t.Errorf("%s as %s %s: %d %s; want %d with %q", tt.path, tt.user, tt.body, resp.StatusCode, b, tt.status, tt.has)
		}
	}
}
