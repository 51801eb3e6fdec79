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
)

func TestTimelineOrder(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		r := insertOrder(t, s, "po.edi", testOrder("1"))
		kinds := []string{EventReceived, EventParsed, EventHeld, EventApproved, EventRouted, EventDeliveryAttempt}
		write(t, s, func(tx *Tx) error {
			for i, k := range kinds {
				if i == 3 {
					clock.Advance(time.Millisecond)
				}
				in := EventInput{OrderID: r.ID, DocumentID: r.DocumentID, Actor: ActorSystem, Kind: k, Reason: "because " + k}
				if k == EventApproved {
					in.Actor, in.Data = "alice", json.RawMessage(`{"role":"sales-manager"}`)
				}
				if _, err := tx.AddEvent(ctx, in); err != nil {
					return err
				}
			}
			// An event at an earlier time sorts by its time, not its insertion.
			_, err := tx.AddEvent(ctx, EventInput{OrderID: r.ID, Actor: "nord-sftp", Kind: "found", At: clock.Now().Add(-time.Hour)})
			return err
		})
		// A document-only event is not in the order's timeline.
		write(t, s, func(tx *Tx) error {
			_, err := tx.AddEvent(ctx, EventInput{DocumentID: r.DocumentID, Actor: ActorSystem, Kind: EventAckSent})
			return err
		})

		events, err := s.Timeline(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, e.Kind)
		}
		want := append([]string{"found"}, kinds...)
		if !slices.Equal(got, want) {
			t.Errorf("timeline: got %v, want %v", got, want)
		}
		approved := events[4]
		if approved.Actor != "alice" || string(approved.Data) != `{"role":"sales-manager"}` || approved.Reason != "because approved" ||
			!strings.HasPrefix(approved.ID, "evt_") {
			t.Errorf("approved event: got %+v", approved)
		}
		docEvents, err := s.DocumentEvents(ctx, r.DocumentID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(docEvents); n != len(kinds)+1 || docEvents[n-1].Kind != EventAckSent {
			t.Errorf("document events: got %d, last %q, want %d, last %q", n, docEvents[n-1].Kind, len(kinds)+1, EventAckSent)
		}
	})
}

func TestEventsAreAppendOnly(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		d := insertDoc(t, s, "edi", "a")
		write(t, s, func(tx *Tx) error {
			_, err := tx.AddEvent(ctx, EventInput{DocumentID: d.ID, Actor: ActorSystem, Kind: EventReceived})
			return err
		})
		for _, stmt := range []string{`UPDATE order_events SET reason = 'rewritten'`, `DELETE FROM order_events`} {
			if _, err := s.testDB().Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: got %v, want the append-only error", stmt, err)
			}
		}
	})
}

func TestAddEventRejectsBadInput(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		d := insertDoc(t, s, "edi", "a")
		tests := []struct {
			name string
			in   EventInput
		}{
			{"no subject", EventInput{Actor: ActorSystem, Kind: EventParsed}},
			{"no kind", EventInput{DocumentID: d.ID, Actor: ActorSystem}},
			{"no actor", EventInput{DocumentID: d.ID, Kind: EventParsed}},
			{"bad json", EventInput{DocumentID: d.ID, Actor: ActorSystem, Kind: EventParsed, Data: json.RawMessage(`{`)}},
		}
		for _, tt := range tests {
			err := s.Write(ctx, func(tx *Tx) error { _, err := tx.AddEvent(ctx, tt.in); return err })
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: got %v, want %v", tt.name, err, ErrInvalid)
			}
		}
	})
}

func TestClaimKey(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		claim := func(layer KeyLayer, key, doc, ord string, ttl time.Duration) *DuplicateKey {
			t.Helper()
			var holder *DuplicateKey
			write(t, s, func(tx *Tx) (err error) { holder, err = tx.ClaimKey(ctx, layer, key, doc, ord, ttl); return err })
			return holder
		}
		steps := []struct {
			name       string
			advance    time.Duration
			layer      KeyLayer
			key        string
			doc, ord   string
			ttl        time.Duration
			wantHolder string // "" when the claim succeeds
		}{
			{"first claim", 0, LayerBusiness, "C-1000|4711|original", "doc_a", "ord_a", time.Hour, ""},
			{"same holder again", 0, LayerBusiness, "C-1000|4711|original", "doc_a", "ord_a", time.Hour, ""},
			{"duplicate", 30 * time.Minute, LayerBusiness, "C-1000|4711|original", "doc_b", "ord_b", time.Hour, "doc_a"},
			{"same document, other order", 0, LayerBusiness, "C-1000|4711|original", "doc_a", "ord_c", time.Hour, "doc_a"},
			{"other layer, same key", 0, LayerEnvelope, "C-1000|4711|original", "doc_b", "", 0, ""},
			{"expired claim is replaced", 31 * time.Minute, LayerBusiness, "C-1000|4711|original", "doc_b", "ord_b", time.Hour, ""},
			{"now held by the replacement", 0, LayerBusiness, "C-1000|4711|original", "doc_a", "ord_a", time.Hour, "doc_b"},
			{"a claim without ttl never expires", 1000 * time.Hour, LayerEnvelope, "C-1000|4711|original", "doc_c", "", 0, "doc_b"},
		}
		for _, st := range steps {
			clock.Advance(st.advance)
			holder := claim(st.layer, st.key, st.doc, st.ord, st.ttl)
			switch {
			case st.wantHolder == "" && holder != nil:
				t.Errorf("%s: got holder %+v, want the claim to succeed", st.name, *holder)
			case st.wantHolder != "" && (holder == nil || holder.FirstDocumentID != st.wantHolder):
				t.Errorf("%s: got holder %+v, want %s", st.name, holder, st.wantHolder)
			}
		}
		var k DuplicateKey
		write(t, s, func(tx *Tx) (err error) { k, err = tx.GetKey(ctx, LayerBusiness, "C-1000|4711|original"); return err })
		if k.FirstOrderID != "ord_b" || k.ExpiresAt.IsZero() {
			t.Errorf("stored key: got %+v", k)
		}
		var deleted int64
		write(t, s, func(tx *Tx) (err error) { deleted, err = tx.DeleteExpiredKeys(ctx, clock.Now()); return err })
		if deleted != 1 {
			t.Errorf("DeleteExpiredKeys: got %d, want 1 (the business key; the envelope key never expires)", deleted)
		}
	})
}

func TestInsertAckIsIdempotentAndMovesThroughItsStates(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		d := insertDoc(t, s, "nord-sftp", "po.edi")
		h997, _ := put(t, s, "ISA*...997...")
		hTA1, _ := put(t, s, "ISA*...TA1...")

		var a1, again, ta1 Ack
		var c1, c2 bool
		write(t, s, func(tx *Tx) (err error) {
			if a1, c1, err = tx.InsertAck(ctx, AckInput{DocumentID: d.ID, PartnerID: "nord", Kind: Ack997, SHA256: h997, Destination: "nord-sftp"}); err != nil {
				return err
			}
			if again, c2, err = tx.InsertAck(ctx, AckInput{DocumentID: d.ID, PartnerID: "nord", Kind: Ack997, SHA256: hTA1, Destination: "x"}); err != nil {
				return err
			}
			ta1, _, err = tx.InsertAck(ctx, AckInput{DocumentID: d.ID, PartnerID: "nord", Kind: AckTA1, SHA256: hTA1, Destination: "nord-sftp"})
			return err
		})
		if !c1 || c2 || again.ID != a1.ID || again.SHA256 != h997 {
			t.Errorf("idempotency: created %t, %t; ids %s, %s", c1, c2, a1.ID, again.ID)
		}
		if a1.Status != AckPending || a1.Attempts != 0 || !a1.SentAt.IsZero() {
			t.Errorf("new ack: got %+v", a1)
		}
		pendingIDs := func() []string {
			t.Helper()
			acks, err := s.PendingAcks(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range acks {
				ids = append(ids, a.ID)
			}
			return ids
		}
		if got, want := pendingIDs(), []string{a1.ID, ta1.ID}; !slices.Equal(got, want) {
			t.Errorf("pending: got %v, want %v", got, want)
		}

		write(t, s, func(tx *Tx) error {
			return tx.MarkAckFailed(ctx, a1.ID, "connection refused", clock.Now().Add(time.Minute))
		})
		if got, want := pendingIDs(), []string{ta1.ID}; !slices.Equal(got, want) {
			t.Errorf("pending before the retry is due: got %v, want %v", got, want)
		}
		clock.Advance(time.Minute)
		if got, want := pendingIDs(), []string{ta1.ID, a1.ID}; !slices.Equal(got, want) {
			t.Errorf("pending when the retry is due: got %v, want %v", got, want)
		}
		write(t, s, func(tx *Tx) error { return tx.MarkAckSent(ctx, a1.ID) })
		write(t, s, func(tx *Tx) error { return tx.MarkAckFailed(ctx, ta1.ID, "partner gone", time.Time{}) })
		if got := pendingIDs(); len(got) != 0 {
			t.Errorf("pending after sent and given up: got %v, want none", got)
		}
		acks, err := s.AcksOfDocument(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(acks) != 2 || acks[0].Status != AckSent || acks[0].Attempts != 2 || acks[0].LastError != "" || !acks[0].SentAt.Equal(clock.Now()) ||
			acks[1].Status != AckFailed || acks[1].LastError != "partner gone" {
			t.Errorf("acks: got %+v", acks)
		}
		for _, id := range []string{a1.ID, ta1.ID} {
			err := s.Write(ctx, func(tx *Tx) error { return tx.MarkAckSent(ctx, id) })
			if !errors.Is(err, ErrTransition) {
				t.Errorf("MarkAckSent of a finished ack: got %v, want %v", err, ErrTransition)
			}
		}
		if err := s.Write(ctx, func(tx *Tx) error { return tx.MarkAckSent(ctx, "ack_missing") }); !errors.Is(err, ErrNotFound) {
			t.Errorf("MarkAckSent of a missing ack: got %v, want %v", err, ErrNotFound)
		}
	})
}

func TestNextControlNumber(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		next := func(partner, kind string) int64 {
			t.Helper()
			var v int64
			write(t, s, func(tx *Tx) (err error) { v, err = tx.NextControlNumber(ctx, partner, kind); return err })
			return v
		}
		steps := []struct {
			partner, kind string
			set           int64 // when > 0, set the last value first
			want          int64
		}{
			{"nord", "ISA", 0, 1},
			{"nord", "ISA", 0, 2},
			{"nord", "GS", 0, 1},
			{"sued", "ISA", 0, 1},
			{"nord", "ISA", 0, 3},
			{"nord", "ISA", MaxControlNumber - 1, MaxControlNumber},
			{"nord", "ISA", 0, 1},
			{"nord", "ISA", 0, 2},
		}
		for i, st := range steps {
			if st.set > 0 {
				write(t, s, func(tx *Tx) error { return tx.SetControlNumber(ctx, st.partner, st.kind, st.set) })
			}
			if got := next(st.partner, st.kind); got != st.want {
				t.Errorf("step %d: %s/%s: got %d, want %d", i, st.partner, st.kind, got, st.want)
			}
		}
		if err := s.Write(ctx, func(tx *Tx) error { return tx.SetControlNumber(ctx, "p", "ISA", MaxControlNumber+1) }); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetControlNumber beyond the maximum: got %v, want %v", err, ErrInvalid)
		}
	})
}

func TestDeliveryStateMachine(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		r := insertOrder(t, s, "po.edi", testOrder("1"))
		var d Delivery
		var created, again bool
		write(t, s, func(tx *Tx) (err error) {
			if d, created, err = tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: r.Revision, Route: "eu", Backend: "wms-eu"}); err != nil {
				return err
			}
			_, again, err = tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: r.Revision, Route: "eu", Backend: "wms-eu"})
			return err
		})
		if !created || again || d.Status != DeliveryPending || !strings.HasPrefix(d.ID, "dlv_") {
			t.Fatalf("InsertDelivery: created %t, again %t, delivery %+v", created, again, d)
		}
		due := func(at time.Time) []string {
			t.Helper()
			ds, err := s.DueDeliveries(ctx, at, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, x := range ds {
				ids = append(ids, x.ID)
			}
			return ids
		}
		step := func(name string, fn func(tx *Tx) (Delivery, error), wantErr error, wantStatus DeliveryStatus) Delivery {
			t.Helper()
			var got Delivery
			err := s.Write(ctx, func(tx *Tx) (err error) { got, err = fn(tx); return err })
			if !errors.Is(err, wantErr) {
				t.Fatalf("%s: got %v, want %v", name, err, wantErr)
			}
			if wantErr == nil && got.Status != wantStatus {
				t.Fatalf("%s: status %s, want %s", name, got.Status, wantStatus)
			}
			return got
		}
		now := clock.Now()
		if got := due(now); !slices.Equal(got, []string{d.ID}) {
			t.Errorf("due after insert: got %v, want [%s]", got, d.ID)
		}
		step("delivered before an attempt", func(tx *Tx) (Delivery, error) { return tx.MarkDelivered(ctx, d.ID, "r") }, ErrTransition, "")
		step("start", func(tx *Tx) (Delivery, error) { return tx.StartAttempt(ctx, d.ID, now.Add(time.Minute)) }, nil, DeliverySending)
		if got := due(now); len(got) != 0 {
			t.Errorf("due while leased: got %v, want none", got)
		}
		if got := due(now.Add(time.Minute)); !slices.Equal(got, []string{d.ID}) {
			t.Errorf("due after the lease ran out: got %v, want [%s]", got, d.ID)
		}
		x := step("fail", func(tx *Tx) (Delivery, error) {
			return tx.MarkAttemptFailed(ctx, d.ID, now.Add(5*time.Minute), "HTTP 500")
		}, nil, DeliveryPending)
		if x.LastError != "HTTP 500" || x.Attempts != 1 || !x.NextAttemptAt.Equal(now.Add(5*time.Minute)) {
			t.Errorf("after failure: got %+v", x)
		}
		if got := due(now.Add(4 * time.Minute)); len(got) != 0 {
			t.Errorf("due before the retry time: got %v, want none", got)
		}
		step("start again", func(tx *Tx) (Delivery, error) { return tx.StartAttempt(ctx, d.ID, now.Add(6*time.Minute)) }, nil, DeliverySending)
		x = step("deliver", func(tx *Tx) (Delivery, error) { return tx.MarkDelivered(ctx, d.ID, "WMS-778") }, nil, DeliverySent)
		if x.Receipt != "WMS-778" || x.Attempts != 2 || x.LastError != "" {
			t.Errorf("after delivery: got %+v", x)
		}
		step("dead after sent", func(tx *Tx) (Delivery, error) { return tx.MarkDead(ctx, d.ID, "x") }, ErrTransition, "")
		step("fail after sent", func(tx *Tx) (Delivery, error) { return tx.MarkAttemptFailed(ctx, d.ID, now, "x") }, ErrTransition, "")
		step("reset a sent delivery", func(tx *Tx) (Delivery, error) { return tx.ResetDelivery(ctx, d.ID) }, ErrTransition, "")

		// A second delivery gives up and is reprocessed.
		var d2 Delivery
		write(t, s, func(tx *Tx) (err error) {
			d2, _, err = tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: r.Revision, Route: "default", Backend: "erp"})
			return err
		})
		step("start d2", func(tx *Tx) (Delivery, error) { return tx.StartAttempt(ctx, d2.ID, now.Add(time.Minute)) }, nil, DeliverySending)
		step("reset a sending delivery", func(tx *Tx) (Delivery, error) { return tx.ResetDelivery(ctx, d2.ID) }, ErrTransition, "")
		step("dead", func(tx *Tx) (Delivery, error) { return tx.MarkDead(ctx, d2.ID, "10 attempts: HTTP 500") }, nil, DeliveryDead)
		dead, err := s.DeadLetters(ctx, 10)
		if err != nil || len(dead) != 1 || dead[0].ID != d2.ID || dead[0].LastError != "10 attempts: HTTP 500" {
			t.Errorf("DeadLetters: got %+v (%v), want [%s]", dead, err, d2.ID)
		}
		x = step("reset", func(tx *Tx) (Delivery, error) { return tx.ResetDelivery(ctx, d2.ID) }, nil, DeliveryPending)
		if x.Attempts != 0 {
			t.Errorf("attempts after reset: got %d, want 0", x.Attempts)
		}
		if got := due(clock.Now()); !slices.Equal(got, []string{d2.ID}) {
			t.Errorf("due after reset: got %v, want [%s]", got, d2.ID)
		}
		step("missing", func(tx *Tx) (Delivery, error) { return tx.StartAttempt(ctx, "dlv_missing", now) }, ErrNotFound, "")
		all, err := s.DeliveriesOfOrder(ctx, r.ID)
		if err != nil || len(all) != 2 {
			t.Errorf("DeliveriesOfOrder: got %d (%v), want 2", len(all), err)
		}
		// A new revision of the order is a new delivery to the same backend.
		write(t, s, func(tx *Tx) (err error) {
			_, created, err = tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: r.Revision + 1, Route: "eu", Backend: "wms-eu"})
			return err
		})
		if !created {
			t.Error("delivery of a new revision: got created=false, want true")
		}
	})
}

func TestQuarantine(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		for i := range 3 {
			topic := "order.parsed"
			if i == 2 {
				topic = "doc.received"
			}
			in := QuarantineInput{Topic: topic, MessageUUID: fmt.Sprintf("uuid-%d", i), Payload: []byte(`{"order_id":"ord_x"}`),
				Metadata: map[string]string{"attempt": "5"}, Error: "mapping: no BEG segment"}
			for range 2 { // the second insert is a no-op
				write(t, s, func(tx *Tx) error { _, _, err := tx.InsertQuarantine(ctx, in); return err })
			}
			clock.Advance(time.Second)
		}
		tests := []struct {
			topic string
			want  []string
		}{
			{"", []string{"uuid-2", "uuid-1", "uuid-0"}},
			{"order.parsed", []string{"uuid-1", "uuid-0"}},
			{"nothing", nil},
		}
		for _, tt := range tests {
			es, err := s.ListQuarantine(ctx, tt.topic, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.MessageUUID)
				if string(e.Payload) != `{"order_id":"ord_x"}` || e.Metadata["attempt"] != "5" || e.Error == "" {
					t.Errorf("entry: got %+v", e)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListQuarantine(%q): got %v, want %v", tt.topic, got, tt.want)
			}
		}
	})
}
