package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestApprovals(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		clock := newFakeClock()
		s := drv.open(t, clock)
		a := insertOrder(t, s, "a", testOrder("PO-A"))
		b := insertOrder(t, s, "b", testOrder("PO-B"))
		write(t, s, func(tx *Tx) error { return tx.PutApproval(ctx, a.ID, ApprovalPending, []byte(`{"levels":["x"]}`)) })
		clock.Advance(time.Second)
		write(t, s, func(tx *Tx) error { return tx.PutApproval(ctx, b.ID, ApprovalPending, []byte(`{"levels":["y"]}`)) })
		pending, err := s.PendingApprovals(ctx, 10)
		if err != nil || len(pending) != 2 || pending[0].OrderID != a.ID {
			t.Fatalf("pending = %+v, %v; want a then b", pending, err)
		}
		write(t, s, func(tx *Tx) error { return tx.PutApproval(ctx, a.ID, ApprovalApproved, []byte(`{"done":true}`)) })
		got, err := s.GetApproval(ctx, a.ID)
		if err != nil || got.Status != ApprovalApproved || string(got.State) != `{"done":true}` || !got.UpdatedAt.After(got.CreatedAt) {
			t.Errorf("approval a = %+v, %v", got, err)
		}
		if pending, _ := s.PendingApprovals(ctx, 10); len(pending) != 1 || pending[0].OrderID != b.ID {
			t.Errorf("pending after approval = %+v", pending)
		}
		if _, err := s.GetApproval(ctx, "ord_none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing approval: %v, want ErrNotFound", err)
		}
		err = s.Write(ctx, func(tx *Tx) error { return tx.PutApproval(ctx, a.ID, "maybe", []byte(`{}`)) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("bad status: %v, want ErrInvalid", err)
		}
	})
}

func TestTasks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		clock := newFakeClock()
		s := drv.open(t, clock)
		o := insertOrder(t, s, "a", testOrder("PO-A"))
		var first Task
		write(t, s, func(tx *Tx) error {
			var created bool
			var err error
			first, created, err = tx.InsertTask(ctx, TaskInput{OrderID: o.ID, CustomerID: "C-1", Assignee: "Rep", Email: "rep@example.com", Text: "deliver before 8", Wait: true})
			if err == nil && !created {
				t.Error("first insert: created = false")
			}
			return err
		})
		write(t, s, func(tx *Tx) error {
			again, created, err := tx.InsertTask(ctx, TaskInput{OrderID: o.ID, Text: "deliver before 8"})
			if created || again.ID != first.ID {
				t.Errorf("second insert = %+v created %v, want the first task", again, created)
			}
			_, _, err2 := tx.InsertTask(ctx, TaskInput{OrderID: o.ID, Text: "no mail"})
			return errors.Join(err, err2)
		})
		if first.Status != TaskOpen || first.MailStatus != MailPending || !first.Wait {
			t.Errorf("task = %+v", first)
		}
		due, err := s.DueTaskMails(ctx, clock.Now(), 10)
		if err != nil || len(due) != 1 || due[0].ID != first.ID {
			t.Fatalf("due mails = %+v, %v; want only the task with an address", due, err)
		}
		write(t, s, func(tx *Tx) error {
			return tx.RecordTaskMail(ctx, first.ID, errors.New("421 busy"), clock.Now().Add(time.Minute))
		})
		if due, _ := s.DueTaskMails(ctx, clock.Now(), 10); len(due) != 0 {
			t.Errorf("due right after a failure: %+v", due)
		}
		if due, _ := s.DueTaskMails(ctx, clock.Now().Add(2*time.Minute), 10); len(due) != 1 || due[0].MailError != "421 busy" || due[0].MailAttempts != 1 {
			t.Errorf("due after the backoff = %+v", due)
		}
		write(t, s, func(tx *Tx) error { return tx.RecordTaskMail(ctx, first.ID, nil, time.Time{}) })
		open, _ := s.OpenTasks(ctx, "Rep", 10)
		if len(open) != 1 || open[0].MailStatus != MailSent {
			t.Errorf("open tasks of Rep = %+v", open)
		}
		write(t, s, func(tx *Tx) error {
			done, err := tx.CompleteTask(ctx, first.ID, "rep")
			if done.Status != TaskDone || done.DoneBy != "rep" || done.DoneAt.IsZero() {
				t.Errorf("done task = %+v", done)
			}
			return err
		})
		err = s.Write(ctx, func(tx *Tx) error { _, err := tx.CompleteTask(ctx, first.ID, "rep"); return err })
		if !errors.Is(err, ErrTransition) {
			t.Errorf("completing twice: %v, want ErrTransition", err)
		}
		if all, _ := s.OpenTasks(ctx, "", 10); len(all) != 1 || all[0].Text != "no mail" {
			t.Errorf("open tasks = %+v", all)
		}
	})
}
