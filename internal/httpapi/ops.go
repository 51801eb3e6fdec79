package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/routing/rules"
)

// Ops are the operations the admin API offers besides reading: deciding
// on held orders, reprocessing, importing master data and the sales
// reps' tasks. The gateway's pipeline and store implement them.
type Ops interface {
	PendingApprovals(ctx context.Context, limit int) ([]store.Approval, error)
	Decide(ctx context.Context, d pipeline.Decision) (pipeline.DecisionResult, error)
	Reprocess(ctx context.Context, ids []string, opts pipeline.ReprocessOptions) []pipeline.Reprocessed
	Import(ctx context.Context, kind masterdata.Kind, r io.Reader) (masterdata.Report, error)
	OpenTasks(ctx context.Context, assignee string, limit int) ([]store.Task, error)
	CompleteTask(ctx context.Context, id, user string) (store.Task, error)
}

// maxImportBytes bounds a master data upload.
const maxImportBytes = 256 << 20

func (s *Server) opsRoutes() []route {
	if s.opts.Ops == nil {
		return nil
	}
	return []route{
		{"GET /api/v1/approvals", approver, http.HandlerFunc(s.listApprovals)},
		{"POST /api/v1/orders/{id}/approve", approver, http.HandlerFunc(s.decideOrder(false))},
		{"POST /api/v1/orders/{id}/reject", approver, http.HandlerFunc(s.decideOrder(true))},
		{"POST /api/v1/reprocess", adminOnly, http.HandlerFunc(s.reprocess)},
		{"POST /api/v1/dead-letters/{id}/retry", adminOnly, http.HandlerFunc(s.retryDeadLetter)},
		{"POST /api/v1/masterdata/{kind}", adminOnly, http.HandlerFunc(s.importMasterdata)},
		{"GET /api/v1/tasks", adminOnly, http.HandlerFunc(s.listTasks)},
		{"POST /api/v1/tasks/{id}/done", adminOnly, http.HandlerFunc(s.completeTask)},
	}
}

// approvalView is a held order waiting for people: its holds with the
// rule, reason and numbers, the roles it waits for and the trail.
type approvalView struct {
	OrderID      string                `json:"order_id"`
	Since        string                `json:"since"`
	PendingRoles []string              `json:"pending_roles"`
	Holds        []rules.Hold          `json:"holds"`
	Trail        []rules.ApprovalEntry `json:"trail,omitempty"`
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	as, err := s.opts.Ops.PendingApprovals(r.Context(), 1000)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]approvalView, 0, len(as))
	for _, a := range as {
		var st struct {
			Approval rules.ApprovalState `json:"approval"`
			Holds    []rules.Hold        `json:"holds"`
		}
		if err := json.Unmarshal(a.State, &st); err != nil {
			s.storeError(w, r, err)
			return
		}
		out = append(out, approvalView{OrderID: a.OrderID, Since: a.CreatedAt.Format("2006-01-02T15:04:05Z07:00"),
			PendingRoles: st.Approval.PendingRoles(), Holds: st.Holds, Trail: st.Approval.Trail})
	}
	writeJSON(w, http.StatusOK, map[string]any{"approvals": out})
}

// decisionBody is the body of approve and reject. A user authenticated
// by name and password decides as themselves in their own approval roles
// (role, optional, picks one of them; user, optional, must be their
// name). The admin token is a machine's credential acting as admin: the
// person is named in user, the decision is an override (recorded as such
// on the order's approval trail), and a role cannot be claimed with it.
type decisionBody struct {
	User    string `json:"user"`
	Role    string `json:"role"`
	Comment string `json:"comment"`
}

func (s *Server) decideOrder(reject bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b decisionBody
		if !decodeBody(w, r, &b) {
			return
		}
		dec := pipeline.Decision{OrderID: r.PathValue("id"), Comment: b.Comment, Reject: reject}
		var bad []ProblemField
		if p, ok := approverOf(r); ok {
			if b.User != "" && !strings.EqualFold(b.User, p.Name) {
				bad = append(bad, ProblemField{Pointer: "/user", Detail: "you decide as yourself, " + p.Name})
			}
			dec.User, dec.Role, dec.Roles, dec.MayOverride = p.Name, b.Role, append([]string{}, p.Roles...), p.Admin
		} else {
			if strings.TrimSpace(b.User) == "" {
				bad = append(bad, ProblemField{Pointer: "/user", Detail: "who decides is required"})
			}
			if b.Role != "" {
				bad = append(bad, ProblemField{Pointer: "/role", Detail: "the admin token decides as admin (an override); to decide in a role, authenticate as a user who holds it"})
			}
			dec.User, dec.Roles, dec.MayOverride = b.User, []string{}, true
		}
		if len(bad) > 0 {
			writeProblem(w, r, Problem{Status: http.StatusBadRequest, Detail: "invalid decision", Errors: bad})
			return
		}
		res, err := s.opts.Ops.Decide(r.Context(), dec)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, res)
		case errors.Is(err, store.ErrNotFound):
			writeProblem(w, r, Problem{Status: http.StatusNotFound, Detail: "no such order"})
		case errors.Is(err, pipeline.ErrNotHeld), errors.Is(err, rules.ErrDecided):
			writeProblem(w, r, Problem{Status: http.StatusConflict, Detail: err.Error()})
		case errors.Is(err, rules.ErrWrongRole), errors.Is(err, rules.ErrSameUser):
			writeProblem(w, r, Problem{Status: http.StatusForbidden, Detail: err.Error()})
		case errors.Is(err, rules.ErrNoUser):
			writeProblem(w, r, Problem{Status: http.StatusBadRequest, Detail: err.Error()})
		default:
			s.storeError(w, r, err)
		}
	}
}

type reprocessBody struct {
	IDs     []string `json:"ids"`
	Reroute bool     `json:"reroute"`
	User    string   `json:"user"`
	Comment string   `json:"comment"`
}

func (s *Server) reprocess(w http.ResponseWriter, r *http.Request) {
	var b reprocessBody
	if !decodeBody(w, r, &b) {
		return
	}
	if len(b.IDs) == 0 || len(b.IDs) > 1000 {
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Detail: "ids: give 1 to 1000 order or delivery ids",
			Errors: []ProblemField{{Pointer: "/ids", Detail: "1 to 1000 ids"}}})
		return
	}
	s.writeReprocessed(w, s.opts.Ops.Reprocess(r.Context(), b.IDs, pipeline.ReprocessOptions{Reroute: b.Reroute, Actor: actorOf(b.User), Comment: b.Comment}))
}

func (s *Server) retryDeadLetter(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !strings.HasPrefix(id, "dlv_") {
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Detail: "no such delivery"})
		return
	}
	s.writeReprocessed(w, s.opts.Ops.Reprocess(r.Context(), []string{id}, pipeline.ReprocessOptions{Actor: "api"}))
}

// writeReprocessed answers 200 when every id was reprocessed, else 422
// with each id's outcome.
func (s *Server) writeReprocessed(w http.ResponseWriter, res []pipeline.Reprocessed) {
	status := http.StatusOK
	for _, x := range res {
		if x.Error != "" {
			status = http.StatusUnprocessableEntity
		}
	}
	writeJSON(w, status, map[string]any{"results": res})
}

func actorOf(user string) string {
	if user = strings.TrimSpace(user); user != "" {
		return user
	}
	return "api"
}

// importMasterdata takes a CSV export (customers, products, prices,
// xrefs, rates) as the request body: 200 with the report when every line was
// imported, 422 with it when some lines were bad (the good ones are
// imported).
func (s *Server) importMasterdata(w http.ResponseWriter, r *http.Request) {
	kind, err := masterdata.ParseKind(r.PathValue("kind"))
	if err != nil {
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Detail: err.Error()})
		return
	}
	rep, err := s.opts.Ops.Import(r.Context(), kind, http.MaxBytesReader(w, r.Body, maxImportBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeProblem(w, r, Problem{Status: http.StatusRequestEntityTooLarge, Detail: "the file is larger than 256 MiB"})
		return
	case err != nil:
		s.storeError(w, r, err)
		return
	}
	status := http.StatusOK
	if !rep.OK() {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, rep)
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	ts, err := s.opts.Ops.OpenTasks(r.Context(), r.URL.Query().Get("assignee"), 1000)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type taskView struct {
		ID         string `json:"id"`
		OrderID    string `json:"order_id"`
		CustomerID string `json:"customer_id,omitempty"`
		Assignee   string `json:"assignee,omitempty"`
		Text       string `json:"text"`
		Wait       bool   `json:"wait"`
		Mail       string `json:"mail_status,omitempty"`
		CreatedAt  string `json:"created_at"`
	}
	out := make([]taskView, 0, len(ts))
	for _, t := range ts {
		out = append(out, taskView{ID: t.ID, OrderID: t.OrderID, CustomerID: t.CustomerID, Assignee: t.Assignee, Text: t.Text,
			Wait: t.Wait, Mail: t.MailStatus, CreatedAt: t.CreatedAt.Format("2006-01-02T15:04:05Z07:00")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": out})
}

func (s *Server) completeTask(w http.ResponseWriter, r *http.Request) {
	var b struct {
		User string `json:"user"`
	}
	if !decodeBody(w, r, &b) {
		return
	}
	if strings.TrimSpace(b.User) == "" {
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Detail: "user is required", Errors: []ProblemField{{Pointer: "/user", Detail: "required"}}})
		return
	}
	t, err := s.opts.Ops.CompleteTask(r.Context(), r.PathValue("id"), b.User)
	switch {
	case errors.Is(err, store.ErrTransition):
		writeProblem(w, r, Problem{Status: http.StatusConflict, Detail: "the task is done already"})
	case err != nil:
		s.storeError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"id": t.ID, "status": t.Status, "done_by": t.DoneBy})
	}
}

// decodeBody reads a small JSON body strictly; false after answering a
// problem.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Detail: "the body is not the JSON this route takes: " + err.Error()})
		return false
	}
	return true
}
