package web

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// DeadLetter is a delivery that used up its attempts: the order did not
// reach its backend.
type DeadLetter struct {
	ID        string // the delivery (dlv_...)
	OrderID   string
	Backend   string
	Route     string
	Attempts  int
	LastError string
	At        time.Time // when it was given up
}

// RetryResult is what a retry did with one dead letter: Error is empty
// when the delivery was queued again.
type RetryResult struct {
	ID      string
	OrderID string
	Error   string
}

// DeadLetterService is the dead letters of deliveries. A Service that
// implements it gets the dead-letters page (/admin/dead-letters);
// without it the page is not found.
type DeadLetterService interface {
	// DeadLetters lists the dead letters, newest first.
	DeadLetters(ctx context.Context) ([]DeadLetter, error)
	// RetryDeadLetters queues the dead deliveries ids again (the same as
	// the API's retry: only dead deliveries are reset), on their orders'
	// timelines as done by user.
	RetryDeadLetters(ctx context.Context, ids []string, user string) []RetryResult
}

type deadLettersData struct {
	Letters  []DeadLetter
	Backends []string // the backends that have dead letters, for "retry all"
	Results  []RetryResult
}

func (u *UI) deadLetterService(w http.ResponseWriter, r *http.Request, s *session) (DeadLetterService, bool) {
	ds, ok := u.svc.(DeadLetterService)
	if !ok {
		u.notFound(w, r, s)
	}
	return ds, ok
}

func (u *UI) deadLettersPage(w http.ResponseWriter, r *http.Request, s *session) {
	ds, ok := u.deadLetterService(w, r, s)
	if !ok {
		return
	}
	u.renderDeadLetters(w, r, s, ds, nil)
}

func (u *UI) renderDeadLetters(w http.ResponseWriter, r *http.Request, s *session, ds DeadLetterService, results []RetryResult) {
	letters, err := ds.DeadLetters(r.Context())
	if err != nil {
		u.serviceError(w, r, s, "reading the dead letters", err)
		return
	}
	data := deadLettersData{Letters: letters, Results: results}
	seen := map[string]bool{}
	for _, d := range letters {
		if !seen[d.Backend] {
			seen[d.Backend] = true
			data.Backends = append(data.Backends, d.Backend)
		}
	}
	u.render(w, r, s, http.StatusOK, "deadletters.html", page{Title: "Dead letters", Data: data})
}

// retryDeadLetter retries one dead letter; retryDeadLetters all those of
// the form's backend.
func (u *UI) retryDeadLetter(w http.ResponseWriter, r *http.Request, s *session) {
	u.retry(w, r, s, func(d DeadLetter) bool { return d.ID == r.PathValue("id") }, "No dead letter "+r.PathValue("id")+".")
}

func (u *UI) retryDeadLetters(w http.ResponseWriter, r *http.Request, s *session) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
		return
	}
	backend := strings.TrimSpace(r.PostFormValue("backend"))
	u.retry(w, r, s, func(d DeadLetter) bool { return d.Backend == backend }, "No dead letters of backend "+backend+".")
}

func (u *UI) retry(w http.ResponseWriter, r *http.Request, s *session, which func(DeadLetter) bool, none string) {
	ds, ok := u.deadLetterService(w, r, s)
	if !ok {
		return
	}
	ctx := r.Context()
	letters, err := ds.DeadLetters(ctx)
	if err != nil {
		u.serviceError(w, r, s, "reading the dead letters", err)
		return
	}
	var ids []string
	for _, d := range letters {
		if which(d) {
			ids = append(ids, d.ID)
		}
	}
	if len(ids) == 0 {
		u.renderError(w, r, s, http.StatusNotFound, none)
		return
	}
	results := ds.RetryDeadLetters(ctx, ids, s.user.Name)
	failed := 0
	for _, res := range results {
		if res.Error != "" {
			failed++
		}
	}
	u.audit(ctx, s.user.Name, "deadletter.retry", strings.Join(ids, " "), map[string]any{"deliveries": len(ids), "failed": failed})
	u.log.InfoContext(ctx, "web: dead letters retried", "user", s.user.Name, "deliveries", len(ids), "failed", failed)
	u.renderDeadLetters(w, r, s, ds, results)
}
