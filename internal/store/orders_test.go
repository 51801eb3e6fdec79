package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

func TestInsertOrderIsIdempotentOnDocumentAndIndex(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		d := insertDoc(t, s, "edi", "po.edi")
		o := testOrder("4500012345")
		amount := decimal.MustParse("619.50")
		o.Totals = &order.Totals{Amount: &amount}

		var first, again, second OrderRecord
		var c1, c2, c3 bool
		write(t, s, func(tx *Tx) (err error) {
			first, c1, err = tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, MessageIndex: 0, Order: o})
			return err
		})
		write(t, s, func(tx *Tx) (err error) {
			again, c2, err = tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, MessageIndex: 0, Order: testOrder("other")})
			return err
		})
		write(t, s, func(tx *Tx) (err error) {
			second, c3, err = tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, MessageIndex: 1, Order: o})
			return err
		})
		if !c1 || c2 || !c3 {
			t.Errorf("created: got %t, %t, %t, want true, false, true", c1, c2, c3)
		}
		if again.ID != first.ID || again.PONumber != "4500012345" {
			t.Errorf("re-insert: got %s %s, want the first order %s", again.ID, again.PONumber, first.ID)
		}
		if second.ID == first.ID {
			t.Error("second message of the document got the first order's id")
		}
		if o.ID != "" {
			t.Errorf("InsertOrder changed the caller's order: id %q", o.ID)
		}

		want := OrderRecord{ID: first.ID, DocumentID: d.ID, Revision: 1, Status: order.StatusReceived, Channel: order.ChannelEDI,
			CustomerID: "C-1000", PONumber: "4500012345", Purpose: order.PurposeOriginal, PODate: o.PODate, Currency: "EUR", Total: "619.50"}
		got := first
		got.Canonical, got.CreatedAt, got.UpdatedAt = nil, time.Time{}, time.Time{}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("record:\n got %+v\nwant %+v", got, want)
		}
		dec, err := first.Order()
		if err != nil {
			t.Fatal(err)
		}
		if dec.ID != first.ID || dec.Status != order.StatusReceived || dec.PONumber != o.PONumber {
			t.Errorf("canonical: got id %q status %q po %q", dec.ID, dec.Status, dec.PONumber)
		}
		fromRead, err := s.GetOrder(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(fromRead.Canonical) != string(first.Canonical) {
			t.Errorf("GetOrder canonical: got %s, want %s", fromRead.Canonical, first.Canonical)
		}
		ofDoc, err := s.OrdersOfDocument(ctx, d.ID)
		if err != nil || len(ofDoc) != 2 || ofDoc[0].ID != first.ID || ofDoc[1].ID != second.ID {
			t.Errorf("OrdersOfDocument: got %d orders (%v), want [%s %s]", len(ofDoc), err, first.ID, second.ID)
		}
	})
}

func TestInsertOrderNeedsItsDocument(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		err := s.Write(ctx, func(tx *Tx) error {
			_, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: "doc_missing", Order: testOrder("1")})
			return err
		})
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
			t.Errorf("order of a missing document: got %v, want a foreign key error", err)
		}
	})
}

func TestTotalIsDeclaredElseComputed(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		price := decimal.MustParse("12.50")
		declared := decimal.MustParse("100.00")
		tests := []struct {
			name  string
			order func() *order.Order
			want  string
		}{
			{"declared", func() *order.Order {
				o := testOrder("1")
				o.Totals = &order.Totals{Amount: &declared}
				return o
			}, "100.00"},
			{"computed", func() *order.Order {
				o := testOrder("1")
				o.Lines = []order.Line{{LineNo: "1", Quantity: decimal.MustParse("3"), UnitPrice: &price}}
				return o
			}, "37.50"},
			{"unpriced line", func() *order.Order { return testOrder("1") }, ""},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := drv.open(t, nil)
				r := insertOrder(t, s, fmt.Sprintf("t%d", i), tt.order())
				if r.Total != tt.want {
					t.Errorf("total: got %q, want %q", r.Total, tt.want)
				}
			})
		}
	})
}

func TestUpdateOrderChecksTheRevision(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		r := insertOrder(t, s, "po.edi", testOrder("4711"))
		clock.Advance(time.Minute)

		o, err := r.Order()
		if err != nil {
			t.Fatal(err)
		}
		o.Status = order.StatusHeld
		o.CustomerID = "C-2000"
		o.Holds = []order.Hold{{Rule: "credit_limit", Reason: "over limit"}}
		var updated OrderRecord
		write(t, s, func(tx *Tx) (err error) {
			updated, err = tx.UpdateOrder(ctx, OrderUpdate{ID: r.ID, Revision: r.Revision, PartnerID: "baumarkt-nord", Order: o})
			return err
		})
		if updated.Revision != 2 || updated.Status != order.StatusHeld || updated.CustomerID != "C-2000" ||
			!updated.UpdatedAt.Equal(clock.Now()) || !updated.CreatedAt.Equal(r.CreatedAt) {
			t.Errorf("updated record: got %+v", updated)
		}
		var canon map[string]any
		if err := json.Unmarshal(updated.Canonical, &canon); err != nil {
			t.Fatal(err)
		}
		if canon["status"] != "held" || canon["customer_id"] != "C-2000" || canon["id"] != r.ID {
			t.Errorf("canonical after update: got %s", updated.Canonical)
		}

		tests := []struct {
			name string
			u    OrderUpdate
			want error
		}{
			{"stale revision", OrderUpdate{ID: r.ID, Revision: 1, Order: o}, ErrConflict},
			{"missing order", OrderUpdate{ID: "ord_missing", Revision: 1, Order: o}, ErrNotFound},
			{"no order", OrderUpdate{ID: r.ID, Revision: 2}, ErrInvalid},
		}
		for _, tt := range tests {
			err := s.Write(ctx, func(tx *Tx) error { _, err := tx.UpdateOrder(ctx, tt.u); return err })
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
		got, err := s.GetOrder(ctx, r.ID)
		if err != nil || got.Revision != 2 {
			t.Errorf("revision after failed updates: got %d (%v), want 2", got.Revision, err)
		}
	})
}

func TestListOrdersPaginatesWithFilters(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		statuses := []order.Status{order.StatusReceived, order.StatusHeld, order.StatusAccepted, order.StatusRouted}
		channels := []order.Channel{order.ChannelEDI, order.ChannelEmail, order.ChannelFax}
		start := clock.Now()
		var all []OrderRecord
		in := make([]DocumentInput, 250)
		for i := range in {
			in[i] = docInput(t, s, "edi", fmt.Sprintf("doc%03d", i), fmt.Sprintf("content %d", i))
		}
		write(t, s, func(tx *Tx) error {
			for i := range 250 {
				if i%7 == 0 {
					clock.Advance(time.Second) // runs of equal created_at: ties broken by id
				}
				d, _, err := tx.InsertDocument(ctx, in[i])
				if err != nil {
					return err
				}
				o := testOrder(fmt.Sprintf("PO-%d", i%50))
				o.Status = statuses[i%len(statuses)]
				o.Channel = channels[i%len(channels)]
				o.CustomerID = fmt.Sprintf("C-%d", i%5)
				r, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, Order: o, PartnerID: fmt.Sprintf("p%d", i%2)})
				if err != nil {
					return err
				}
				all = append(all, r)
			}
			return nil
		})

		tests := []struct {
			name  string
			f     OrderFilter
			match func(OrderRecord) bool
		}{
			{"all", OrderFilter{}, func(OrderRecord) bool { return true }},
			{"status", OrderFilter{Status: order.StatusHeld}, func(r OrderRecord) bool { return r.Status == order.StatusHeld }},
			{"channel", OrderFilter{Channel: order.ChannelFax}, func(r OrderRecord) bool { return r.Channel == order.ChannelFax }},
			{"partner", OrderFilter{PartnerID: "p1"}, func(r OrderRecord) bool { return r.PartnerID == "p1" }},
			{"customer and status", OrderFilter{CustomerID: "C-3", Status: order.StatusRouted},
				func(r OrderRecord) bool { return r.CustomerID == "C-3" && r.Status == order.StatusRouted }},
			{"po number", OrderFilter{PONumber: "PO-7"}, func(r OrderRecord) bool { return r.PONumber == "PO-7" }},
			{"time range", OrderFilter{From: start.Add(5 * time.Second), To: start.Add(20 * time.Second)},
				func(r OrderRecord) bool {
					return !r.CreatedAt.Before(start.Add(5*time.Second)) && r.CreatedAt.Before(start.Add(20*time.Second))
				}},
			{"ascending", OrderFilter{Ascending: true}, func(OrderRecord) bool { return true }},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 9, 100, 1000} {
				t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
					var want []string
					for _, r := range all {
						if tt.match(r) {
							want = append(want, r.ID)
						}
					}
					// IDs are ULIDs minted in insertion order: newest first is
					// descending id order here.
					if !tt.f.Ascending {
						slices.Reverse(want)
					}
					var got []string
					cursor, pages := "", 0
					for {
						page, err := s.ListOrders(ctx, tt.f, cursor, limit)
						if err != nil {
							t.Fatal(err)
						}
						pages++
						if len(page.Orders) > limit {
							t.Fatalf("page size: got %d, want <= %d", len(page.Orders), limit)
						}
						for _, r := range page.Orders {
							got = append(got, r.ID)
						}
						if page.Next == "" {
							break
						}
						if pages > 300 {
							t.Fatal("pagination does not end")
						}
						cursor = page.Next
					}
					if !slices.Equal(got, want) {
						t.Errorf("ids: got %d %v..., want %d %v...", len(got), head(got), len(want), head(want))
					}
				})
			}
		}
		if _, err := s.ListOrders(ctx, OrderFilter{}, "not a cursor!", 10); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("bad cursor: got %v, want %v", err, ErrInvalidCursor)
		}
	})
}

func head(ids []string) []string { return ids[:min(3, len(ids))] }

// TestOrderWritesReturnTheStoredRecord: the records InsertOrder,
// UpdateOrder (with and without the record read), SetOrderStatus and
// InsertDelivery return without reading the row back are the rows as
// GetOrder and DeliveriesOfOrder read them; a stale or missing record
// still fails as it did.
func TestOrderWritesReturnTheStoredRecord(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		d := insertDoc(t, s, "edi", "po.edi")
		o := testOrder("4711")
		o.RequestedDelivery = order.Date{Year: 2026, Month: 12, Day: 1}
		o.Notes = []string{"<fragile> & \u2028 dry"}
		same := func(what string, got OrderRecord) {
			t.Helper()
			stored, err := s.GetOrder(ctx, got.ID)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", stored) || string(got.Canonical) != string(stored.Canonical) {
				t.Errorf("%s returned\n%+v\nthe row is\n%+v", what, got, stored)
			}
		}
		var rec OrderRecord
		write(t, s, func(tx *Tx) (err error) {
			rec, _, err = tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, MessageIndex: 3, PartnerID: "baumarkt-nord", Order: o})
			return err
		})
		same("InsertOrder", rec)

		tests := []struct {
			name     string
			withRead bool
			status   order.Status
		}{
			{"UpdateOrder", false, order.StatusReview},
			{"UpdateOrder with the record read", true, order.StatusAccepted},
		}
		for _, tt := range tests {
			clock.Advance(time.Minute)
			o, err := rec.Order()
			if err != nil {
				t.Fatal(err)
			}
			o.Status, o.CustomerID = tt.status, "C-"+string(tt.status)
			u := OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o}
			if tt.withRead {
				read := rec
				u.Read = &read
			}
			prev := rec
			write(t, s, func(tx *Tx) (err error) {
				rec, err = tx.UpdateOrder(ctx, u)
				return err
			})
			same(tt.name, rec)
			if stored, err := rec.OrderFrom(o); err != nil {
				t.Errorf("%s: OrderFrom: %v", tt.name, err)
			} else if decoded, err := rec.Order(); err != nil || fmt.Sprintf("%+v", stored) != fmt.Sprintf("%+v", decoded) {
				t.Errorf("%s: OrderFrom =\n%+v\nOrder =\n%+v (%v)", tt.name, stored, decoded, err)
			}
			err = s.Write(ctx, func(tx *Tx) error { _, err := tx.UpdateOrder(ctx, u); return err })
			if !errors.Is(err, ErrConflict) {
				t.Errorf("%s again at revision %d: got %v, want %v", tt.name, prev.Revision, err, ErrConflict)
			}
		}
		bad := []struct {
			name string
			u    OrderUpdate
			want error
		}{
			{"missing order", OrderUpdate{ID: "ord_missing", Revision: 1, Order: o, Read: &OrderRecord{ID: "ord_missing", Revision: 1}}, ErrNotFound},
			{"record read of another revision", OrderUpdate{ID: rec.ID, Revision: rec.Revision, Order: o, Read: &OrderRecord{ID: rec.ID, Revision: 1}}, ErrInvalid},
		}
		for _, tt := range bad {
			err := s.Write(ctx, func(tx *Tx) error { _, err := tx.UpdateOrder(ctx, tt.u); return err })
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}

		clock.Advance(time.Minute)
		write(t, s, func(tx *Tx) (err error) {
			rec, err = tx.SetOrderStatus(ctx, rec.ID, rec.Revision, order.StatusRouted)
			return err
		})
		same("SetOrderStatus", rec)

		var dl Delivery
		write(t, s, func(tx *Tx) (err error) {
			dl, _, err = tx.InsertDelivery(ctx, DeliveryInput{OrderID: rec.ID, OrderRevision: rec.Revision, Route: "r", Backend: "b", Format: "x12-850", Payload: []byte("ISA*...~")})
			return err
		})
		dls, err := s.DeliveriesOfOrder(ctx, rec.ID)
		if err != nil || len(dls) != 1 || fmt.Sprintf("%+v", dls[0]) != fmt.Sprintf("%+v", dl) {
			t.Errorf("InsertDelivery returned\n%+v\nthe rows are %+v (%v)", dl, dls, err)
		}
	})
}
