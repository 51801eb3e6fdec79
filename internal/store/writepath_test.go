package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/normalize/order"
)

var tables = []string{"documents", "orders", "order_events", "duplicate_keys", "acks", "control_numbers", "deliveries", "quarantine"}

// writeEverything writes a row into every table, as a stage might.
func writeEverything(ctx context.Context, tx *Tx, in DocumentInput) error {
	d, _, err := tx.InsertDocument(ctx, in)
	if err != nil {
		return err
	}
	r, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, Order: testOrder("4711")})
	if err != nil {
		return err
	}
	if _, err := tx.AddEvent(ctx, EventInput{OrderID: r.ID, DocumentID: d.ID, Actor: ActorSystem, Kind: EventReceived}); err != nil {
		return err
	}
	if _, err := tx.ClaimKey(ctx, LayerTransport, in.Channel+"|"+in.SourceKey, d.ID, "", 0); err != nil {
		return err
	}
	if _, _, err := tx.InsertAck(ctx, AckInput{DocumentID: d.ID, Kind: Ack997, SHA256: in.SHA256, Destination: in.Channel}); err != nil {
		return err
	}
	if _, err := tx.NextControlNumber(ctx, "nord", "ISA"); err != nil {
		return err
	}
	if _, _, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: 1, Route: "r", Backend: "b"}); err != nil {
		return err
	}
	_, _, err = tx.InsertQuarantine(ctx, QuarantineInput{Topic: "t", MessageUUID: d.ID, Error: "x"})
	return err
}

func TestFailedWriteLeavesNoRows(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		boom := errors.New("boom")
		tests := []struct {
			name  string
			fail  func() error // returns the error fn ends with, or panics
			panic bool
		}{
			{"error", func() error { return fmt.Errorf("publishing: %w", boom) }, false},
			{"panic", func() error { panic(boom) }, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := drv.open(t, nil)
				ctx := context.Background()
				in := docInput(t, s, "edi", "crash.edi", "the bytes")
				err := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("panic: %v", r)
						}
					}()
					return s.Write(ctx, func(tx *Tx) error {
						if err := writeEverything(ctx, tx, in); err != nil {
							return err
						}
						return tt.fail()
					})
				}()
				if tt.panic && (err == nil || !strings.Contains(err.Error(), "panic: boom")) {
					t.Fatalf("Write: got %v, want the panic to pass through", err)
				}
				if !tt.panic && !errors.Is(err, boom) {
					t.Fatalf("Write: got %v, want %v", err, boom)
				}
				for _, table := range tables {
					if n := count(t, s, table); n != 0 {
						t.Errorf("%s: got %d rows after the failed transaction, want 0", table, n)
					}
				}
				// The archived bytes may stay; nothing refers to them.
				if _, err := s.Archive().Stat(in.SHA256); err != nil {
					t.Errorf("archive: %v", err)
				}
				// The lock was released: the same work commits now.
				if err := s.Write(ctx, func(tx *Tx) error { return writeEverything(ctx, tx, in) }); err != nil {
					t.Fatalf("Write after the failure: %v", err)
				}
				for _, table := range tables {
					if n := count(t, s, table); n != 1 {
						t.Errorf("%s: got %d rows, want 1", table, n)
					}
				}
				checkArchiveReferences(t, s)
			})
		}
	})
}

// checkArchiveReferences fails when a row refers to content the archive
// lacks.
func checkArchiveReferences(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.DB().Query(`SELECT sha256 FROM documents UNION SELECT sha256 FROM acks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var hex string
		if err := rows.Scan(&hex); err != nil {
			t.Fatal(err)
		}
		h, err := archive.ParseHash(hex)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Archive().Verify(context.Background(), h); err != nil {
			t.Errorf("row refers to %s: %v", h, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no archive reference checked")
	}
}

func TestWrapTxWorksOnATransactionTheCallerOwns(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		d := insertDoc(t, s, "edi", "a")
		for _, commit := range []bool{false, true} {
			unlock, err := s.LockWrites(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sqlTx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			tx := s.WrapTx(sqlTx)
			if tx.SQL() != sqlTx {
				t.Error("SQL() is not the wrapped transaction")
			}
			if _, err := tx.AddEvent(ctx, EventInput{DocumentID: d.ID, Actor: ActorSystem, Kind: EventParsed}); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = sqlTx.Commit()
			} else {
				err = sqlTx.Rollback()
			}
			unlock()
			if err != nil {
				t.Fatal(err)
			}
		}
		events, err := s.DocumentEvents(ctx, d.ID)
		if err != nil || len(events) != 1 {
			t.Errorf("events: got %d (%v), want 1 (one rolled back, one committed)", len(events), err)
		}
	})
}

// countingHandler counts retry log records.
type countingHandler struct{ retries *atomic.Int64 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retrying") {
		h.retries.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestContention runs 50 goroutines of mixed write transactions through
// Write, adapters writing on DB() (in the gate, and one outside it), and
// readers on the read pool, each for a bounded number of operations. No
// SQLITE_BUSY may reach a Write caller; the counts must be exact and the
// database intact.
func TestContention(t *testing.T) {
	if testing.Short() {
		t.Skip("contention run skipped in -short mode")
	}
	tests := []struct {
		name        string
		busyTimeout time.Duration
		ungated     int // writers on DB() outside the gate
	}{
		{"gated writers", 0, 0},
		{"a writer outside the gate, 5ms busy timeout", 5 * time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runContention(t, tt.busyTimeout, tt.ungated)
		})
	}
}

func runContention(t *testing.T, busyTimeout time.Duration, ungated int) {
	const (
		writers   = 50
		opsEach   = 20
		readers   = 4
		readsEach = 100
		adapters  = 2
		adapterOp = 50
	)
	ctx := context.Background()
	var retries atomic.Int64
	dir := t.TempDir()
	s, err := Open(ctx, Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive"),
		BusyTimeout: busyTimeout, Logger: slog.New(countingHandler{&retries})})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	anchor := insertDoc(t, s, "edi", "anchor") // adapters' events go here

	var (
		wg           sync.WaitGroup
		busyErrs     atomic.Int64
		otherErrs    = make(chan error, writers*opsEach+100)
		numbers      sync.Map // control number -> writer
		intakes      atomic.Int64
		redeliveries atomic.Int64
		updates      atomic.Int64
		claims       atomic.Int64
		events       atomic.Int64
	)
	report := func(err error) {
		if isBusy(err) {
			busyErrs.Add(1)
		}
		otherErrs <- err
	}
	for w := range writers {
		wg.Go(func() {
			var mine []OrderRecord
			var myInputs []DocumentInput
			for i := range opsEach {
				var err error
				switch i % 4 {
				case 0: // intake and parse: document, order, event, control number
					h, n, perr := s.Archive().Put(ctx, strings.NewReader(fmt.Sprintf("interchange %d/%d", w, i)))
					if perr != nil {
						report(perr)
						continue
					}
					in := DocumentInput{Channel: "edi", SourceKey: fmt.Sprintf("w%d-%d", w, i), SHA256: h, Size: n}
					var rec OrderRecord
					var num int64
					err = s.Write(ctx, func(tx *Tx) error {
						d, _, err := tx.InsertDocument(ctx, in)
						if err != nil {
							return err
						}
						if rec, _, err = tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, Order: testOrder(fmt.Sprintf("PO-%d-%d", w, i))}); err != nil {
							return err
						}
						if _, err := tx.AddEvent(ctx, EventInput{OrderID: rec.ID, DocumentID: d.ID, Actor: ActorSystem, Kind: EventReceived}); err != nil {
							return err
						}
						num, err = tx.NextControlNumber(ctx, "nord", "ISA")
						return err
					})
					if err == nil {
						intakes.Add(1)
						events.Add(1)
						mine = append(mine, rec)
						myInputs = append(myInputs, in)
						if prev, dup := numbers.LoadOrStore(num, w); dup {
							otherErrs <- fmt.Errorf("control number %d given to writers %v and %d", num, prev, w)
						}
					}
				case 1: // a stage updates the latest order
					r := mine[len(mine)-1]
					err = s.Write(ctx, func(tx *Tx) error {
						cur, err := tx.GetOrder(ctx, r.ID)
						if err != nil {
							return err
						}
						o, err := cur.Order()
						if err != nil {
							return err
						}
						o.Status = order.StatusAccepted
						if _, err := tx.UpdateOrder(ctx, OrderUpdate{ID: cur.ID, Revision: cur.Revision, Order: o}); err != nil {
							return err
						}
						_, err = tx.AddEvent(ctx, EventInput{OrderID: cur.ID, Actor: ActorSystem, Kind: EventAccepted})
						return err
					})
					if err == nil {
						updates.Add(1)
						events.Add(1)
					}
				case 2: // duplicate keys on a shared key space, and a delivery
					r := mine[len(mine)-1]
					err = s.Write(ctx, func(tx *Tx) error {
						if _, err := tx.ClaimKey(ctx, LayerBusiness, fmt.Sprintf("key-%d", (w+i)%37), r.DocumentID, r.ID, time.Hour); err != nil {
							return err
						}
						_, _, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: 2, Route: "r", Backend: "erp"})
						return err
					})
					if err == nil {
						claims.Add(1)
					}
				case 3: // the source delivers the same document again: a no-op
					in := myInputs[len(myInputs)-1]
					err = s.Write(ctx, func(tx *Tx) error {
						_, created, err := tx.InsertDocument(ctx, in)
						if err == nil && created {
							return fmt.Errorf("re-delivery of %s created a document", in.SourceKey)
						}
						return err
					})
					if err == nil {
						redeliveries.Add(1)
					}
				}
				if err != nil {
					report(err)
				}
			}
		})
	}
	for range adapters { // the pub/sub adapter: its own transactions on DB(), in the gate
		wg.Go(func() {
			for i := 0; i < adapterOp; {
				unlock, err := s.LockWrites(ctx)
				if err != nil {
					report(err)
					return
				}
				err = func() error {
					sqlTx, err := s.DB().BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer sqlTx.Rollback()
					if _, err := s.WrapTx(sqlTx).AddEvent(ctx, EventInput{DocumentID: anchor.ID, Actor: "adapter", Kind: "published"}); err != nil {
						return err
					}
					return sqlTx.Commit()
				}()
				unlock()
				if isBusy(err) {
					continue // only the writer outside the gate causes this; the adapter retries by itself
				}
				if err != nil {
					report(fmt.Errorf("adapter: %w", err))
				} else {
					events.Add(1)
				}
				i++
			}
		})
	}
	for range ungated { // a writer that ignores the gate and retries by itself
		wg.Go(func() {
			for i := 0; i < adapterOp; {
				err := func() error {
					sqlTx, err := s.DB().BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer sqlTx.Rollback()
					if _, err := s.WrapTx(sqlTx).AddEvent(ctx, EventInput{DocumentID: anchor.ID, Actor: "ungated", Kind: "published"}); err != nil {
						return err
					}
					return sqlTx.Commit()
				}()
				if isBusy(err) {
					continue // its own business, not a Write caller's
				}
				if err != nil {
					report(fmt.Errorf("ungated: %w", err))
				} else {
					events.Add(1)
				}
				i++
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for i := range readsEach {
				page, err := s.ListOrders(ctx, OrderFilter{Status: order.StatusReceived}, "", 20)
				if err == nil && len(page.Orders) > 0 && i%2 == 0 {
					_, err = s.Timeline(ctx, page.Orders[0].ID)
				}
				if err != nil {
					report(fmt.Errorf("reader: %w", err))
				}
			}
		})
	}
	wg.Wait()
	close(otherErrs)
	for err := range otherErrs {
		t.Errorf("error reached a caller: %v", err)
	}
	if n := busyErrs.Load(); n != 0 {
		t.Errorf("SQLITE_BUSY reaching callers: got %d, want 0", n)
	}
	t.Logf("write transactions retried after SQLITE_BUSY: %d", retries.Load())

	perWriter := int64(opsEach / 4)
	checks := []struct {
		what string
		got  int64
		want int64
	}{
		{"intakes", intakes.Load(), writers * perWriter},
		{"updates", updates.Load(), writers * perWriter},
		{"claims", claims.Load(), writers * perWriter},
		{"re-deliveries", redeliveries.Load(), writers * perWriter},
		{"documents", int64(count(t, s, "documents")), writers*perWriter + 1},
		{"orders", int64(count(t, s, "orders")), writers * perWriter},
		{"events", int64(count(t, s, "order_events")), events.Load()},
		{"events expected", events.Load(), 2*writers*perWriter + adapters*adapterOp + int64(ungated*adapterOp)},
		{"deliveries", int64(count(t, s, "deliveries")), writers * perWriter},
		{"duplicate keys", int64(count(t, s, "duplicate_keys")), 37},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, c.got, c.want)
		}
	}
	var accepted, lastNumber int64
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM orders WHERE status = 'accepted' AND revision = 2`).Scan(&accepted); err != nil {
		t.Fatal(err)
	}
	if accepted != writers*perWriter {
		t.Errorf("accepted orders at revision 2: got %d, want %d", accepted, writers*perWriter)
	}
	if err := s.DB().QueryRow(`SELECT last_value FROM control_numbers WHERE partner_id = 'nord' AND kind = 'ISA'`).Scan(&lastNumber); err != nil {
		t.Fatal(err)
	}
	if lastNumber != writers*perWriter {
		t.Errorf("last control number: got %d, want %d", lastNumber, writers*perWriter)
	}
	var integrity string
	if err := s.DB().QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: got %q (%v), want ok", integrity, err)
	}
	var fkProblems int
	rows, err := s.DB().Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		fkProblems++
	}
	rows.Close()
	if fkProblems != 0 {
		t.Errorf("foreign_key_check: got %d problems, want 0", fkProblems)
	}
	checkArchiveReferences(t, s)
}
