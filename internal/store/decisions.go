package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Approval statuses.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
)

// Approval is the approval state of a held order: its status and the
// rules' state (levels, holds, audit trail) as JSON.
type Approval struct {
	OrderID   string
	Status    string
	State     []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

const approvalColumns = `order_id, status, state, created_at, updated_at`

func scanApproval(row interface{ Scan(...any) error }) (Approval, error) {
	var a Approval
	var state string
	var created, updated int64
	if err := row.Scan(&a.OrderID, &a.Status, &state, &created, &updated); err != nil {
		return Approval{}, err
	}
	a.State, a.CreatedAt, a.UpdatedAt = []byte(state), fromNanos(created), fromNanos(updated)
	return a, nil
}

// PutApproval stores (or replaces) an order's approval state.
func (t *Tx) PutApproval(ctx context.Context, orderID, status string, state []byte) error {
	if orderID == "" || len(state) == 0 {
		return fmt.Errorf("storing approval: %w: order id and state are required", ErrInvalid)
	}
	if err := t.flushInsert(ctx, orderID); err != nil {
		return err
	}
	switch status {
	case ApprovalPending, ApprovalApproved, ApprovalRejected:
	default:
		return fmt.Errorf("storing approval of %s: %w: status %q", orderID, ErrInvalid, status)
	}
	now := nanos(t.s.clock())
	_, err := t.tx.ExecContext(ctx, `INSERT INTO approvals (`+approvalColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, state = excluded.state, updated_at = excluded.updated_at`,
		orderID, status, string(state), now, now)
	if err != nil {
		return fmt.Errorf("storing approval of %s: %w", orderID, err)
	}
	return nil
}

func getApproval(ctx context.Context, q querier, orderID string) (Approval, error) {
	a, err := scanApproval(q.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE order_id = ?`, orderID))
	if errors.Is(err, sql.ErrNoRows) {
		return Approval{}, fmt.Errorf("approval of %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("reading approval of %s: %w", orderID, err)
	}
	return a, nil
}

// GetApproval returns an order's approval state (ErrNotFound when none).
func (t *Tx) GetApproval(ctx context.Context, orderID string) (Approval, error) {
	return getApproval(ctx, t.tx, orderID)
}

// GetApproval returns an order's approval state (ErrNotFound when none).
func (s *Store) GetApproval(ctx context.Context, orderID string) (Approval, error) {
	var a Approval
	err := s.read(ctx, func(q querier) (err error) { a, err = getApproval(ctx, q, orderID); return err })
	return a, err
}

// PendingApprovals lists the approvals waiting for a decision, oldest first.
func (s *Store) PendingApprovals(ctx context.Context, limit int) ([]Approval, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []Approval
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE status = ? ORDER BY created_at, order_id LIMIT ?`,
			ApprovalPending, limit)
		if err != nil {
			return fmt.Errorf("listing approvals: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanApproval(rows)
			if err != nil {
				return fmt.Errorf("listing approvals: %w", err)
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// Task statuses and mail statuses.
const (
	TaskOpen = "open"
	TaskDone = "done"

	MailNone    = ""
	MailPending = "pending"
	MailSent    = "sent"
	MailFailed  = "failed"
)

// TaskInput is a note or special request of a customer for its sales rep.
type TaskInput struct {
	OrderID    string
	CustomerID string
	Assignee   string
	Email      string // the rep's address; "" sends no mail
	Text       string
	Wait       bool // the order waits until the rep marks the task done
}

// Task is a stored task.
type Task struct {
	ID           string
	OrderID      string
	CustomerID   string
	Assignee     string
	Email        string
	Text         string
	Wait         bool
	Status       string
	MailStatus   string
	MailAttempts int
	MailError    string
	NextMailAt   time.Time
	DoneBy       string
	DoneAt       time.Time
	CreatedAt    time.Time
}

const taskColumns = `id, order_id, customer_id, assignee, email, text, wait, status, mail_status, mail_attempts,
	mail_error, next_mail_at, done_by, done_at, created_at`

func scanTask(row interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var wait int
	var next, done, created int64
	if err := row.Scan(&t.ID, &t.OrderID, &t.CustomerID, &t.Assignee, &t.Email, &t.Text, &wait, &t.Status, &t.MailStatus,
		&t.MailAttempts, &t.MailError, &next, &t.DoneBy, &done, &created); err != nil {
		return Task{}, err
	}
	t.Wait = wait != 0
	t.NextMailAt, t.CreatedAt = fromNanos(next), fromNanos(created)
	if done != 0 {
		t.DoneAt = fromNanos(done)
	}
	return t, nil
}

// InsertTask stores a task, open, with a pending mail when it has an
// address. It is idempotent on (order, text): a re-run of the decide
// stage adds nothing and returns created=false.
func (t *Tx) InsertTask(ctx context.Context, in TaskInput) (Task, bool, error) {
	if in.OrderID == "" || in.Text == "" {
		return Task{}, false, fmt.Errorf("inserting task: %w: order id and text are required", ErrInvalid)
	}
	if err := t.flushInsert(ctx, in.OrderID); err != nil {
		return Task{}, false, err
	}
	now := t.s.clock()
	mail := MailNone
	if in.Email != "" {
		mail = MailPending
	}
	wait := 0
	if in.Wait {
		wait = 1
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO tasks (id, order_id, customer_id, assignee, email, text, wait, status,
		mail_status, next_mail_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (order_id, text) DO NOTHING`,
		t.s.newID("tsk", now), in.OrderID, in.CustomerID, in.Assignee, in.Email, in.Text, wait, TaskOpen, mail, nanos(now), nanos(now), nanos(now))
	if err != nil {
		return Task{}, false, fmt.Errorf("inserting task of %s: %w", in.OrderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Task{}, false, fmt.Errorf("inserting task of %s: %w", in.OrderID, err)
	}
	task, err := scanTask(t.tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE order_id = ? AND text = ?`, in.OrderID, in.Text))
	if err != nil {
		return Task{}, false, fmt.Errorf("reading task of %s: %w", in.OrderID, err)
	}
	return task, n == 1, nil
}

func queryTasks(ctx context.Context, q querier, where string, args ...any) ([]Task, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TasksOfOrder lists an order's tasks in tx.
func (t *Tx) TasksOfOrder(ctx context.Context, orderID string) ([]Task, error) {
	return queryTasks(ctx, t.tx, `order_id = ? ORDER BY created_at, id`, orderID)
}

// TasksOfOrder lists an order's tasks.
func (s *Store) TasksOfOrder(ctx context.Context, orderID string) ([]Task, error) {
	var out []Task
	err := s.read(ctx, func(q querier) (err error) {
		out, err = queryTasks(ctx, q, `order_id = ? ORDER BY created_at, id`, orderID)
		return err
	})
	return out, err
}

// OpenTasks lists the open tasks, oldest first (assignee "" for all).
func (s *Store) OpenTasks(ctx context.Context, assignee string, limit int) ([]Task, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []Task
	err := s.read(ctx, func(q querier) (err error) {
		if assignee == "" {
			out, err = queryTasks(ctx, q, `status = ? ORDER BY created_at, id LIMIT ?`, TaskOpen, limit)
		} else {
			out, err = queryTasks(ctx, q, `status = ? AND assignee = ? ORDER BY created_at, id LIMIT ?`, TaskOpen, assignee, limit)
		}
		return err
	})
	return out, err
}

// DueTaskMails lists tasks whose mail is pending and due.
func (s *Store) DueTaskMails(ctx context.Context, now time.Time, limit int) ([]Task, error) {
	var out []Task
	err := s.read(ctx, func(q querier) (err error) {
		out, err = queryTasks(ctx, q, `mail_status = ? AND next_mail_at <= ? ORDER BY next_mail_at, id LIMIT ?`, MailPending, nanos(now), limit)
		return err
	})
	return out, err
}

// RecordTaskMail records a mail attempt: sent, or failed with the next
// attempt at next (zero: give up, status failed).
func (t *Tx) RecordTaskMail(ctx context.Context, id string, sendErr error, next time.Time) error {
	var err error
	now := nanos(t.s.clock())
	switch {
	case sendErr == nil:
		_, err = t.tx.ExecContext(ctx, `UPDATE tasks SET mail_status = ?, mail_attempts = mail_attempts + 1, mail_error = '', updated_at = ? WHERE id = ?`,
			MailSent, now, id)
	case next.IsZero():
		_, err = t.tx.ExecContext(ctx, `UPDATE tasks SET mail_status = ?, mail_attempts = mail_attempts + 1, mail_error = ?, updated_at = ? WHERE id = ?`,
			MailFailed, sendErr.Error(), now, id)
	default:
		_, err = t.tx.ExecContext(ctx, `UPDATE tasks SET mail_attempts = mail_attempts + 1, mail_error = ?, next_mail_at = ?, updated_at = ? WHERE id = ?`,
			sendErr.Error(), nanos(next), now, id)
	}
	if err != nil {
		return fmt.Errorf("recording mail of task %s: %w", id, err)
	}
	return nil
}

// CompleteTask marks a task done by user; ErrTransition when it is done
// already, ErrNotFound when missing. It returns the task.
func (t *Tx) CompleteTask(ctx context.Context, id, user string) (Task, error) {
	now := nanos(t.s.clock())
	res, err := t.tx.ExecContext(ctx, `UPDATE tasks SET status = ?, done_by = ?, done_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
		TaskDone, user, now, now, id, TaskOpen)
	if err != nil {
		return Task{}, fmt.Errorf("completing task %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Task{}, fmt.Errorf("completing task %s: %w", id, err)
	}
	task, err := scanTask(t.tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Task{}, fmt.Errorf("reading task %s: %w", id, err)
	}
	if n == 0 {
		return Task{}, fmt.Errorf("completing task %s: it is %s: %w", id, task.Status, ErrTransition)
	}
	return task, nil
}
