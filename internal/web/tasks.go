package web

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Task is a sales rep's task: a note or special request of an order
// that the notes rule sends to the customer's sales rep.
type Task struct {
	ID         string
	OrderID    string
	CustomerID string
	Assignee   string // the sales rep's name
	Email      string // the sales rep's e-mail address
	Text       string
	Wait       bool // the order waits until the task is done
	CreatedAt  time.Time
}

// TaskService is the sales reps' tasks. A Service that implements it
// gets the tasks page (/tasks); without it the page is not found.
type TaskService interface {
	// OpenTasks lists the open tasks, oldest first.
	OpenTasks(ctx context.Context) ([]Task, error)
	// CompleteTask marks the task done by user, on the order's timeline;
	// an order that waits for it goes on (unless something else holds
	// it). ErrNotFound for no such open task.
	CompleteTask(ctx context.Context, id, user string) error
}

// mine reports whether the task is for the user: the user's name is the
// task's assignee, its e-mail address, or the address's local part.
func (t Task) mine(user string) bool {
	local, _, _ := strings.Cut(t.Email, "@")
	for _, s := range []string{t.Assignee, t.Email, local} {
		if s != "" && strings.EqualFold(s, user) {
			return true
		}
	}
	return false
}

// tasksFor returns the open tasks the session's user sees: an admin all,
// anybody else their own.
func (u *UI) tasksFor(w http.ResponseWriter, r *http.Request, s *session) (TaskService, []Task, bool) {
	ts, ok := u.svc.(TaskService)
	if !ok {
		u.notFound(w, r, s)
		return nil, nil, false
	}
	all, err := ts.OpenTasks(r.Context())
	if err != nil {
		u.serviceError(w, r, s, "reading the tasks", err)
		return nil, nil, false
	}
	if s.user.Role == RoleAdmin {
		return ts, all, true
	}
	var out []Task
	for _, t := range all {
		if t.mine(s.user.Name) {
			out = append(out, t)
		}
	}
	return ts, out, true
}

func (u *UI) tasksPage(w http.ResponseWriter, r *http.Request, s *session) {
	_, tasks, ok := u.tasksFor(w, r, s)
	if !ok {
		return
	}
	u.render(w, r, s, http.StatusOK, "tasks.html", page{Title: "Tasks", Data: tasks})
}

// taskDone marks one of the user's open tasks done (an admin any task).
func (u *UI) taskDone(w http.ResponseWriter, r *http.Request, s *session) {
	ts, tasks, ok := u.tasksFor(w, r, s)
	if !ok {
		return
	}
	id := r.PathValue("id")
	var task *Task
	for i := range tasks {
		if tasks[i].ID == id {
			task = &tasks[i]
		}
	}
	if task == nil {
		u.renderError(w, r, s, http.StatusNotFound, "No open task "+id+" of yours.")
		return
	}
	ctx := r.Context()
	if err := ts.CompleteTask(ctx, id, s.user.Name); err != nil {
		u.serviceError(w, r, s, "marking the task done", err)
		return
	}
	u.audit(ctx, s.user.Name, "task.done", id, map[string]any{"order": task.OrderID, "assignee": task.Assignee,
		"override": s.user.Role == RoleAdmin && !task.mine(s.user.Name)})
	u.log.InfoContext(ctx, "web: task done", "user", s.user.Name, "task", id, "order_id", task.OrderID)
	redirect(w, r, "/tasks?notice=taskdone")
}
