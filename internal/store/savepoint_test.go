package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestAttempt: a failed attempt takes back what it wrote, held writes and
// held events included, and the transaction goes on; a successful one
// keeps its writes; events held before the attempt survive its failure.
func TestAttempt(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		st := drv.open(t, newFakeClock())
		doc := insertDoc(t, st, "inbox", "attempt")
		var kept, failedID string
		err := st.Write(ctx, func(tx *Tx) error {
			tx.DeferEvents()
			if _, err := tx.AddEvent(ctx, EventInput{DocumentID: doc.ID, Actor: "test", Kind: "before"}); err != nil {
				return err
			}
			boom := errors.New("boom")
			failed, err := tx.Attempt(ctx, func() error {
				rec, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, MessageIndex: 0, Order: testOrder("PO-FAIL")})
				if err != nil {
					return err
				}
				failedID = rec.ID
				if _, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "test", Kind: "in-failed"}); err != nil {
					return err
				}
				tx.DeferOrderWrites(rec.ID)
				if _, err := tx.SetOrderStatusRevision(ctx, rec.ID, rec.Revision, "accepted"); err != nil {
					return err
				}
				return boom
			})
			if err != nil || !errors.Is(failed, boom) {
				t.Fatalf("failed attempt: failed %v, err %v; want boom, nil", failed, err)
			}
			failed, err = tx.Attempt(ctx, func() error {
				rec, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, MessageIndex: 1, Order: testOrder("PO-KEEP")})
				if err != nil {
					return err
				}
				kept = rec.ID
				tx.DeferEvents()
				_, err = tx.AddEvent(ctx, EventInput{OrderID: rec.ID, Actor: "test", Kind: "in-kept"})
				return err
			})
			if err != nil || failed != nil {
				t.Fatalf("attempt: failed %v, err %v; want nil, nil", failed, err)
			}
			_, err = tx.AddEvent(ctx, EventInput{DocumentID: doc.ID, Actor: "test", Kind: "after"})
			if err != nil {
				return err
			}
			return tx.FlushEvents(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetOrder(ctx, failedID); !errors.Is(err, ErrNotFound) {
			t.Errorf("the order of the failed attempt: err %v, want ErrNotFound", err)
		}
		if rec, err := st.GetOrder(ctx, kept); err != nil || rec.Status != "received" {
			t.Errorf("the order of the kept attempt: %+v, %v", rec.Status, err)
		}
		evs, err := st.DocumentEvents(ctx, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		if got, want := kinds, []string{"before", "after"}; !slices.Equal(got, want) {
			t.Errorf("document events = %v, want %v", got, want)
		}
		ord, err := st.Timeline(ctx, kept)
		if err != nil || len(ord) != 1 || ord[0].Kind != "in-kept" {
			t.Errorf("timeline of the kept order = %+v, %v; want its in-kept event", ord, err)
		}
		failedEvents, err := st.Timeline(ctx, failedID)
		if err != nil || len(failedEvents) != 0 {
			t.Errorf("timeline of the failed order = %+v, %v; want none", failedEvents, err)
		}
	})
}
