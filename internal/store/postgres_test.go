package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ordergate/ordergate/normalize/order"
)

// Tests of what only PostgreSQL has: several gateway nodes (Store
// instances) writing one database at once.

var pgDriver = testDriver{DriverPostgres}

// twoNodes opens two stores on one new PostgreSQL database and one shared
// archive directory, as two gateway nodes would.
func twoNodes(t *testing.T) (*Store, *Store) {
	t.Helper()
	opts := pgDriver.options(t)
	return openStore(t, opts, nil), openStore(t, opts, nil)
}

// race runs fn(node, i) in n goroutines per node, released together, and
// fails the test on the first error.
func race(t *testing.T, nodes []*Store, n int, fn func(s *Store, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(nodes)*n)
	for k, s := range nodes {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := fn(s, k*n+i); err != nil {
					errs <- err
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPostgresNodesHandOutDistinctControlNumbers(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	const perWorker, workers = 25, 8
	var mu sync.Mutex
	seen := map[int64]int{}
	race(t, []*Store{a, b}, workers, func(s *Store, w int) error {
		for range perWorker {
			var got []int64
			err := s.Write(ctx, func(tx *Tx) error {
				got = got[:0]
				n, err := tx.NextControlNumber(ctx, "nord", "ISA")
				if err != nil {
					return err
				}
				first, err := tx.ReserveControlNumbers(ctx, "nord", "ISA", 3)
				if err != nil {
					return err
				}
				got = append(got, n, first, first+1, first+2)
				return nil
			})
			if err != nil {
				return fmt.Errorf("worker %d: %w", w, err)
			}
			mu.Lock()
			for _, n := range got {
				seen[n]++
			}
			mu.Unlock()
		}
		return nil
	})
	want := 2 * workers * perWorker * 4
	if len(seen) != want {
		t.Errorf("distinct control numbers: got %d, want %d", len(seen), want)
	}
	for n, times := range seen {
		if times != 1 {
			t.Errorf("control number %d handed out %d times", n, times)
		}
		if n < 1 || n > int64(want) {
			t.Errorf("control number %d outside 1..%d", n, want)
		}
	}
	var last int64
	if err := a.testDB().QueryRow(`SELECT last_value FROM control_numbers WHERE partner_id = ? AND kind = ?`, "nord", "ISA").Scan(&last); err != nil || last != int64(want) {
		t.Errorf("last control number: got %d (%v), want %d", last, err, want)
	}
}

func TestPostgresNodesNeverDoubleInsert(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	in := docInput(t, a, "edi", "po-4711.edi", "ISA*00*the one document~")
	type result struct {
		doc, ord, ack, dlv, qua, task string
		created                       [6]bool
	}
	var mu sync.Mutex
	var results []result
	race(t, []*Store{a, b}, 8, func(s *Store, i int) error {
		var r result
		err := s.Write(ctx, func(tx *Tx) error {
			r = result{}
			d, created, err := tx.InsertDocument(ctx, in)
			if err != nil {
				return err
			}
			r.doc, r.created[0] = d.ID, created
			o, created, err := tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, Order: testOrder("4711")})
			if err != nil {
				return err
			}
			r.ord, r.created[1] = o.ID, created
			k, created, err := tx.InsertAck(ctx, AckInput{DocumentID: d.ID, Kind: Ack997, SHA256: in.SHA256, Destination: "edi"})
			if err != nil {
				return err
			}
			r.ack, r.created[2] = k.ID, created
			dl, created, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: o.ID, OrderRevision: o.Revision, Route: "r", Backend: "erp"})
			if err != nil {
				return err
			}
			r.dlv, r.created[3] = dl.ID, created
			q, created, err := tx.InsertQuarantine(ctx, QuarantineInput{Topic: "parse", MessageUUID: d.ID, Error: "x"})
			if err != nil {
				return err
			}
			r.qua, r.created[4] = q.ID, created
			tk, created, err := tx.InsertTask(ctx, TaskInput{OrderID: o.ID, Text: "call the customer"})
			if err != nil {
				return err
			}
			r.task, r.created[5] = tk.ID, created
			return nil
		})
		if err != nil {
			return fmt.Errorf("writer %d: %w", i, err)
		}
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
		return nil
	})
	if len(results) != 16 {
		t.Fatalf("got %d results, want 16", len(results))
	}
	names := []string{"document", "order", "ack", "delivery", "quarantine entry", "task"}
	for k, name := range names {
		winners := 0
		for _, r := range results {
			if r.created[k] {
				winners++
			}
		}
		if winners != 1 {
			t.Errorf("%s: created=true %d times, want once", name, winners)
		}
	}
	for _, r := range results[1:] {
		if r.doc != results[0].doc || r.ord != results[0].ord || r.ack != results[0].ack || r.dlv != results[0].dlv ||
			r.qua != results[0].qua || r.task != results[0].task {
			t.Errorf("writers saw different rows: %+v and %+v", r, results[0])
		}
	}
	for _, table := range []string{"documents", "orders", "acks", "deliveries", "quarantine", "tasks"} {
		if n := count(t, a, table); n != 1 {
			t.Errorf("%s: %d rows, want 1", table, n)
		}
	}
}

func TestPostgresNodesUpdateAtomically(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	r := insertOrder(t, a, "po.edi", testOrder("1"))
	write(t, a, func(tx *Tx) error {
		_, _, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: r.ID, OrderRevision: 1, Route: "r", Backend: "erp"})
		return err
	})
	dl, err := a.DeliveriesOfOrder(ctx, r.ID)
	if err != nil || len(dl) != 1 {
		t.Fatalf("deliveries: %v %v", dl, err)
	}
	var orderWins, statusWins, attemptWins, upserts, claims atomic.Int64
	nodes := []*Store{a, b}
	// Each phase is one race of 12 writers over two nodes; exactly one
	// may win it.
	o, _ := r.Order()
	race(t, nodes, 6, func(s *Store, i int) error {
		err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.UpdateOrder(ctx, OrderUpdate{ID: r.ID, Revision: 1, Order: o})
			return err
		})
		if err == nil {
			orderWins.Add(1)
		} else if !errors.Is(err, ErrConflict) {
			return fmt.Errorf("UpdateOrder: %w", err)
		}
		return nil
	})
	race(t, nodes, 6, func(s *Store, i int) error {
		err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.SetOrderStatus(ctx, r.ID, 2, order.StatusAccepted)
			return err
		})
		if err == nil {
			statusWins.Add(1)
		} else if !errors.Is(err, ErrConflict) {
			return fmt.Errorf("SetOrderStatus: %w", err)
		}
		return nil
	})
	race(t, nodes, 6, func(s *Store, i int) error {
		err := s.Write(ctx, func(tx *Tx) error {
			if _, err := tx.StartAttempt(ctx, dl[0].ID, a.clock()); err != nil {
				return err
			}
			_, err := tx.MarkDelivered(ctx, dl[0].ID, fmt.Sprint("receipt ", i))
			return err
		})
		if err == nil {
			attemptWins.Add(1)
		} else if !errors.Is(err, ErrTransition) {
			return fmt.Errorf("delivering: %w", err)
		}
		return nil
	})
	race(t, nodes, 6, func(s *Store, i int) error {
		return s.Write(ctx, func(tx *Tx) error {
			u, err := tx.UpsertCustomer(ctx, Customer{Number: "C-1", Name: "Baumarkt Nord", Currency: "EUR"})
			if err == nil && u == Inserted {
				upserts.Add(1)
			}
			return err
		})
	})
	race(t, nodes, 6, func(s *Store, i int) error {
		return s.Write(ctx, func(tx *Tx) error {
			holder, err := tx.ClaimKey(ctx, LayerBusiness, "C-1|PO-1", fmt.Sprint("doc_", i), "", 0)
			if err == nil && holder == nil {
				claims.Add(1)
			}
			return err
		})
	})
	for name, got := range map[string]int64{"UpdateOrder at revision 1": orderWins.Load(), "SetOrderStatus at revision 2": statusWins.Load(),
		"a delivery attempt from pending": attemptWins.Load(), "inserting customer C-1": upserts.Load(), "claiming one key": claims.Load()} {
		if got != 1 {
			t.Errorf("%s succeeded %d times, want once", name, got)
		}
	}
	got, err := a.GetOrder(ctx, r.ID)
	if err != nil || got.Revision != 3 || got.Status != order.StatusAccepted {
		t.Errorf("order after the race: revision %d status %s (%v), want 3 accepted", got.Revision, got.Status, err)
	}
	if n := count(t, a, "customers"); n != 1 {
		t.Errorf("customers: %d rows, want 1", n)
	}
}

func TestPostgresNodesChainTheAuditLog(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	race(t, []*Store{a, b}, 6, func(s *Store, i int) error {
		for j := range 5 {
			if _, err := s.AppendAudit(ctx, AuditInput{Actor: fmt.Sprint("user", i), Action: "order.approve", Object: fmt.Sprint(j)}); err != nil {
				return err
			}
		}
		return nil
	})
	if n, err := b.VerifyAudit(ctx); err != nil || n != 60 {
		t.Errorf("VerifyAudit: %d entries, %v; want 60, nil", n, err)
	}
}

func TestPostgresConcurrentMigrations(t *testing.T) {
	opts := pgDriver.emptyOptions(t)
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, migrationDir(DriverPostgres))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var applied []string
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				got, err := Migrate(ctx, opts)
				mu.Lock()
				applied = append(applied, got...)
				mu.Unlock()
				errs <- err
				return
			}
			s, err := Open(ctx, opts)
			if err == nil {
				err = s.Close(ctx)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("migrating at once: %v", err)
		}
	}
	s := openStore(t, opts, nil)
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Errorf("schema version: %d (%v), want %d", v, err, len(ms))
	}
	if n := count(t, s, "schema_migrations"); n != len(ms) {
		t.Errorf("schema_migrations: %d rows, want %d", n, len(ms))
	}
	slices.Sort(applied)
	if len(applied) != len(slices.Compact(slices.Clone(applied))) {
		t.Errorf("a migration was reported applied twice: %v", applied)
	}
}

func TestMigrateAndSkipMigrate(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		opts := drv.emptyOptions(t)
		ms, err := loadMigrations(migrationFiles, migrationDir(drv.name))
		if err != nil {
			t.Fatal(err)
		}
		skip := opts
		skip.SkipMigrate = true
		_, err = Open(ctx, skip)
		if !errors.Is(err, ErrSchemaTooOld) || !strings.Contains(err.Error(), "ordergate migrate") {
			t.Fatalf("Open with SkipMigrate on an empty database: got %v, want %v naming ordergate migrate", err, ErrSchemaTooOld)
		}
		// Migrate needs no archive.
		noArchive := opts
		noArchive.ArchiveDir = ""
		applied, err := Migrate(ctx, noArchive)
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if len(applied) != len(ms) || applied[0] != "0001_initial" || applied[len(ms)-1] != ms[len(ms)-1].String() {
			t.Errorf("Migrate applied %v, want all %d migrations from 0001_initial", applied, len(ms))
		}
		if again, err := Migrate(ctx, opts); err != nil || len(again) != 0 {
			t.Errorf("second Migrate: applied %v (%v), want none", again, err)
		}
		s, err := Open(ctx, skip)
		if err != nil {
			t.Fatalf("Open with SkipMigrate on a migrated database: %v", err)
		}
		// The names recorded are the files' names, the same for both
		// drivers and for databases migrated by earlier binaries.
		rows, err := s.testDB().Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		var recorded []string
		for rows.Next() {
			var v int
			var name string
			if err := rows.Scan(&v, &name); err != nil {
				t.Fatal(err)
			}
			recorded = append(recorded, fmt.Sprintf("%04d_%s", v, name))
		}
		rows.Close()
		if !slices.Equal(recorded, applied) {
			t.Errorf("schema_migrations holds %v, want %v", recorded, applied)
		}
		if _, err := s.testDB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, skip); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("Open with SkipMigrate on a newer schema: got %v, want %v", err, ErrSchemaTooNew)
		}
		if _, err := Migrate(ctx, opts); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("Migrate on a newer schema: got %v, want %v", err, ErrSchemaTooNew)
		}
	})
}

// The migrations of both drivers must stay twins: same versions, same
// names (what schema_migrations records).
func TestMigrationsMatchAcrossDrivers(t *testing.T) {
	lite, err := loadMigrations(migrationFiles, migrationDir(DriverSQLite))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(migrationFiles, migrationDir(DriverPostgres))
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].String() != pg[i].String() {
			t.Errorf("migration %d: sqlite %s, postgres %s", i+1, lite[i], pg[i])
		}
	}
	// The names existing SQLite databases have recorded.
	want := []string{"0001_initial", "0002_ack_body", "0003_masterdata", "0004_webapi", "0005_users", "0006_routing",
		"0007_decisions", "0008_checkpoints", "0009_archive_blobs"}
	for i, name := range want {
		if lite[i].String() != name {
			t.Errorf("migration %d is %s, existing databases recorded %s", i+1, lite[i], name)
		}
	}
}

func TestPostgresOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"no DSN", Options{Driver: DriverPostgres, ArchiveDir: t.TempDir()}},
		{"no archive", Options{Driver: DriverPostgres, DSN: "postgres://localhost/x"}},
		{"pool of one", Options{Driver: DriverPostgres, DSN: "postgres://localhost/x", ArchiveInDB: true, MaxConns: 1}},
		{"unknown driver", Options{Driver: "mysql", DSN: "x", ArchiveDir: t.TempDir()}},
	} {
		if _, err := Open(context.Background(), tt.opts); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want %v", tt.name, err, ErrInvalid)
		}
	}
	s := openStore(t, pgDriver.options(t), nil)
	if s.Driver() != DriverPostgres {
		t.Errorf("Driver() = %q", s.Driver())
	}
	if lite := testStore(t, nil); lite.Driver() != DriverSQLite {
		t.Errorf("Driver() of the default = %q", lite.Driver())
	}
}

func TestPostgresLockWritesDoesNotSerialize(t *testing.T) {
	s := openStore(t, pgDriver.options(t), nil)
	ctx := context.Background()
	unlock, err := s.LockWrites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	// A second holder and a Write both go ahead while the first holds it.
	unlock2, err := s.LockWrites(ctx)
	if err != nil {
		t.Fatalf("second LockWrites: %v", err)
	}
	unlock2()
	if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.NextControlNumber(ctx, "p", "ISA"); return err }); err != nil {
		t.Errorf("Write while LockWrites is held: %v", err)
	}
	if s.DB() != s.reader {
		t.Error("DB() is not the pool reads use")
	}
}

func TestPostgresWriteRetriesASerializationFailure(t *testing.T) {
	var retries atomic.Int64
	opts := pgDriver.options(t)
	opts.Logger = slog.New(countingHandler{&retries})
	s := openStore(t, opts, nil)
	ctx := context.Background()
	write(t, s, func(tx *Tx) error { return tx.SetControlNumber(ctx, "p", "k", 10) })

	// A reads the row at REPEATABLE READ; B changes it and commits; A's
	// update then fails with 40001 and Write runs A again, which sees B's
	// value this time.
	readDone, bDone := make(chan struct{}), make(chan struct{})
	calls := 0
	errA := make(chan error, 1)
	go func() {
		errA <- s.Write(ctx, func(tx *Tx) error {
			calls++
			if _, err := tx.SQL().ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
				return err
			}
			var v int64
			if err := tx.tx.QueryRowContext(ctx, `SELECT last_value FROM control_numbers WHERE partner_id = ? AND kind = ?`, "p", "k").Scan(&v); err != nil {
				return err
			}
			if calls == 1 {
				close(readDone)
				<-bDone
			}
			_, err := tx.NextControlNumber(ctx, "p", "k")
			return err
		})
	}()
	<-readDone
	write(t, s, func(tx *Tx) error { _, err := tx.NextControlNumber(ctx, "p", "k"); return err })
	close(bDone)
	if err := <-errA; err != nil {
		t.Fatalf("Write A: %v", err)
	}
	if calls != 2 || retries.Load() != 1 {
		t.Errorf("A ran %d times with %d retries logged, want 2 and 1", calls, retries.Load())
	}
	var last int64
	if err := s.testDB().QueryRow(`SELECT last_value FROM control_numbers WHERE partner_id = 'p' AND kind = 'k'`).Scan(&last); err != nil || last != 12 {
		t.Errorf("last value: %d (%v), want 12 (both increments, none lost)", last, err)
	}
}

func TestPostgresWriteRetriesADeadlock(t *testing.T) {
	var retries atomic.Int64
	opts := pgDriver.options(t)
	opts.Logger = slog.New(countingHandler{&retries})
	s := openStore(t, opts, nil)
	ctx := context.Background()
	write(t, s, func(tx *Tx) error {
		if err := tx.SetControlNumber(ctx, "p", "one", 0); err != nil {
			return err
		}
		return tx.SetControlNumber(ctx, "p", "two", 0)
	})
	// A takes one then two, B two then one: PostgreSQL kills one of them
	// (40P01) and Write runs it again.
	var firstLocked sync.WaitGroup
	firstLocked.Add(2)
	lockInOrder := func(first, second string) func() error {
		var n atomic.Int64
		return func() error {
			return s.Write(ctx, func(tx *Tx) error {
				if _, err := tx.NextControlNumber(ctx, "p", first); err != nil {
					return err
				}
				if n.Add(1) == 1 {
					firstLocked.Done()
					firstLocked.Wait()
				}
				_, err := tx.NextControlNumber(ctx, "p", second)
				return err
			})
		}
	}
	errs := make(chan error, 2)
	go func() { errs <- lockInOrder("one", "two")() }()
	go func() { errs <- lockInOrder("two", "one")() }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Write: %v", err)
		}
	}
	if retries.Load() < 1 {
		t.Error("no retry logged: the deadlock was not provoked")
	}
	for _, kind := range []string{"one", "two"} {
		var last int64
		if err := s.testDB().QueryRow(`SELECT last_value FROM control_numbers WHERE partner_id = 'p' AND kind = ?`, kind).Scan(&last); err != nil || last != 2 {
			t.Errorf("%s: %d (%v), want 2", kind, last, err)
		}
	}
}

func TestRebindDollar(t *testing.T) {
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b = ?`, `a = $1 AND b = $2`},
		{`x = '?' AND y = ?`, `x = '?' AND y = $1`},
		{`x = 'it''s ?' AND y = ?`, `x = 'it''s ?' AND y = $1`},
		{`"we?ird" = ?`, `"we?ird" = $1`},
		{"-- why?\nx = ?", "-- why?\nx = $1"},
		{`/* ? */ x = ?`, `/* ? */ x = $1`},
		{`x = 'unterminated ?`, `x = 'unterminated ?`},
	}
	for _, tt := range tests {
		if got := rebindDollar(tt.in); got != tt.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	rb := &rebinder{dollar: true}
	if a, b := rb.bind(`a = ?`), rb.bind(`a = ?`); a != `a = $1` || b != a {
		t.Errorf("cached bind: %q, %q", a, b)
	}
	if got := (&rebinder{}).bind(`a = ?`); got != `a = ?` {
		t.Errorf("SQLite bind changed the query: %q", got)
	}
}
