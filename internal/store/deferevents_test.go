package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestDeferEvents: events held back by DeferEvents are not in the
// database until FlushEvents, which writes all of them (more than one
// INSERT's worth) in the order they were added, with the ids AddEvent
// returned; a timeline read in the transaction writes them first; bad
// input is still refused at AddEvent; a rolled back transaction leaves
// none.
func TestDeferEvents(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		rec := insertOrder(t, s, "deferred", testOrder("PO-EV-1"))
		const n = 2*eventsPerInsert + 3
		var ids []string
		countIn := func(tx *Tx) int {
			var c int
			if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM order_events WHERE order_id = ? AND kind = 'probe'`, rec.ID).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		write(t, s, func(tx *Tx) error {
			tx.DeferEvents()
			for i := range n {
				e, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "system", Kind: "probe", Reason: fmt.Sprint(i),
					Data: []byte(`{"i":` + fmt.Sprint(i) + `}`)})
				if err != nil {
					return err
				}
				ids = append(ids, e.ID)
			}
			if _, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "system", Kind: "probe", Data: []byte("{")}); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddEvent with bad data while deferring = %v, want ErrInvalid", err)
			}
			if c := countIn(tx); c != 0 {
				t.Errorf("before the flush: %d events written, want 0", c)
			}
			if err := tx.FlushEvents(ctx); err != nil {
				return err
			}
			if c := countIn(tx); c != n {
				t.Errorf("after the flush: %d events written, want %d", c, n)
			}
			// No longer deferring: written at once.
			if _, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "system", Kind: "probe", Reason: "after"}); err != nil {
				return err
			}
			if c := countIn(tx); c != n+1 {
				t.Errorf("after the flush, an AddEvent: %d events written, want %d", c, n+1)
			}
			return nil
		})
		tl, err := s.Timeline(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []Event
		for _, e := range tl {
			if e.Kind == "probe" {
				got = append(got, e)
			}
		}
		if len(got) != n+1 {
			t.Fatalf("timeline has %d probe events, want %d", len(got), n+1)
		}
		for i, e := range got[:n] {
			if e.ID != ids[i] || e.Reason != fmt.Sprint(i) || string(e.Data) != `{"i":`+fmt.Sprint(i)+`}` {
				t.Errorf("event %d = %s %q %s, want %s %q", i, e.ID, e.Reason, e.Data, ids[i], fmt.Sprint(i))
			}
		}

		// A timeline read in the transaction sees the held events.
		write(t, s, func(tx *Tx) error {
			tx.DeferEvents()
			if _, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "system", Kind: "probe", Reason: "read-back"}); err != nil {
				return err
			}
			tl, err := tx.Timeline(ctx, rec.ID)
			if err != nil {
				return err
			}
			if last := tl[len(tl)-1]; last.Reason != "read-back" {
				t.Errorf("timeline in the transaction ends with %q, want the held event", last.Reason)
			}
			return tx.FlushEvents(ctx)
		})

		// Rolled back: nothing.
		errRollback := errors.New("roll back")
		err = s.Write(ctx, func(tx *Tx) error {
			tx.DeferEvents()
			if _, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "system", Kind: "probe", Reason: "rolled back"}); err != nil {
				return err
			}
			if err := tx.FlushEvents(ctx); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("Write = %v", err)
		}
		tl, err = s.Timeline(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tl {
			if e.Reason == "rolled back" {
				t.Errorf("an event of a rolled back transaction is in the timeline")
			}
		}
	})
}
