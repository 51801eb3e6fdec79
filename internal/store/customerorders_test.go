package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestOrdersOfCustomerPOOldestFirst: the customer's orders with the PO
// number come oldest first (then by id), whatever order they were stored
// in, without the order left out and without other customers' or POs'.
func TestOrdersOfCustomerPOOldestFirst(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		at := func(key string, d time.Duration, customer, po string) OrderRecord {
			clock.Advance(d)
			o := testOrder(po)
			o.CustomerID = customer
			return insertOrder(t, s, key, o)
		}
		late := at("late", time.Hour, "C-1", "PO-1")
		early := at("early", -2*time.Hour, "C-1", "PO-1")
		same1 := at("same1", 30*time.Minute, "C-1", "PO-1")
		same2 := at("same2", 0, "C-1", "PO-1")
		at("other-po", 0, "C-1", "PO-2")
		at("other-customer", 0, "C-2", "PO-1")
		except := at("except", 0, "C-1", "PO-1")
		ties := []string{same1.ID, same2.ID}
		slices.Sort(ties)
		want := []string{early.ID, ties[0], ties[1], late.ID}
		write(t, s, func(tx *Tx) error {
			prior, err := tx.OrdersOfCustomerPO(ctx, "C-1", "PO-1", except.ID)
			if err != nil {
				return err
			}
			var got []string
			for _, p := range prior {
				got = append(got, p.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("orders: %v, want %v", got, want)
			}
			return nil
		})
	})
}
