package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/normalize/order"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mattn/go-sqlite3"
)

func TestOpenCreatesDirectoriesAndSchema(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := openStore(t, drv.emptyOptions(t), nil)
		v, err := s.SchemaVersion(context.Background())
		if err != nil {
			t.Fatalf("SchemaVersion: %v", err)
		}
		ms, err := loadMigrations(migrationFiles, migrationDir(drv.name))
		if err != nil {
			t.Fatalf("loadMigrations: %v", err)
		}
		if v != len(ms) || v < 1 {
			t.Errorf("schema version: got %d, want %d", v, len(ms))
		}
		for _, table := range []string{"documents", "orders", "order_events", "duplicate_keys", "acks",
			"control_numbers", "deliveries", "quarantine"} {
			if got := count(t, s, table); got != 0 {
				t.Errorf("%s: got %d rows, want 0", table, got)
			}
		}
	})
}

func TestReopenIsNoOp(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		opts := drv.emptyOptions(t)
		s, err := Open(context.Background(), opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		d := insertDoc(t, s, "edi", "po1.edi")
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s, err = Open(context.Background(), opts)
		if err != nil {
			t.Fatalf("re-Open: %v", err)
		}
		defer s.Close(context.Background())
		ms, err := loadMigrations(migrationFiles, migrationDir(drv.name))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := count(t, s, "schema_migrations"), len(ms); got != want || want < 2 {
			t.Errorf("schema_migrations rows: got %d, want %d", got, want)
		}
		got, err := s.GetDocument(context.Background(), d.ID)
		if err != nil {
			t.Fatalf("GetDocument after re-open: %v", err)
		}
		if got.SourceKey != "po1.edi" {
			t.Errorf("source key: got %q, want %q", got.SourceKey, "po1.edi")
		}
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		opts := drv.options(t)
		s, err := Open(context.Background(), opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if _, err := s.testDB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`); err != nil {
			t.Fatalf("faking a future version: %v", err)
		}
		s.Close(context.Background())
		if _, err := Open(context.Background(), opts); !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("Open: got %v, want %v", err, ErrSchemaTooNew)
		}
	})
}

func TestMigrationsApplyInOrderAndFailAtomically(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		base, err := loadMigrations(migrationFiles, migrationDir(drv.name))
		if err != nil {
			t.Fatal(err)
		}
		next := len(base) + 1
		fsys := fstest.MapFS{}
		for _, m := range base {
			fsys[fmt.Sprintf("migrations/%04d_%s.sql", m.version, m.name)] = &fstest.MapFile{Data: []byte(m.sql)}
		}
		fsys[fmt.Sprintf("migrations/%04d_good.sql", next)] = &fstest.MapFile{Data: []byte(`CREATE TABLE extra (a INTEGER);`)}
		fsys[fmt.Sprintf("migrations/%04d_bad.sql", next+1)] = &fstest.MapFile{Data: []byte(`CREATE TABLE extra2 (a INTEGER); THIS IS NOT SQL;`)}
		ms, err := loadMigrations(fsys, "migrations")
		if err != nil {
			t.Fatalf("loadMigrations: %v", err)
		}
		if _, err := s.applyMigrations(ctx, ms); err == nil {
			t.Fatal("applyMigrations with a broken migration: got nil error")
		}
		if v, _ := s.SchemaVersion(ctx); v != next {
			t.Errorf("version after failure: got %d, want %d", v, next)
		}
		if tableExists(t, s, "extra2") {
			t.Error("the table of the failed migration exists")
		}
		if !tableExists(t, s, "extra") {
			t.Error("the table of the good migration is missing")
		}
	})
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}},
		{"no number", []string{"init.sql"}},
		{"starts at 2", []string{"0002_b.sql"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			if _, err := loadMigrations(fsys, "migrations"); err == nil {
				t.Errorf("loadMigrations(%v): got nil error", tt.files)
			}
		})
	}
}

func TestCheckSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "check.db")
	tests := []struct {
		name    string
		dsn     string
		wantErr string // "" for safe settings
	}{
		{"writer DSN", writerDSN(path, 10000), ""},
		{"synchronous NORMAL", "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on", "synchronous is 1"},
		{"journal DELETE", "file:" + path + "?_journal_mode=DELETE&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on", "journal_mode is delete"},
		{"foreign keys off", "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=off", "foreign_keys is 0"},
		{"busy timeout 0", "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=0&_foreign_keys=on", "busy_timeout is 0ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sql.Open("sqlite3", tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			conn, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			err = checkSettings(context.Background(), conn, 10000)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("checkSettings: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnsafeSettings) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkSettings: got %v, want %v mentioning %q", err, ErrUnsafeSettings, tt.wantErr)
			}
		})
	}
}

func TestReadPoolIsQueryOnly(t *testing.T) {
	s := testStore(t, nil)
	_, err := s.reader.Exec(`INSERT INTO control_numbers (partner_id, kind, last_value) VALUES ('p', 'k', 1)`)
	if err == nil {
		t.Fatal("writing through the read pool: got nil error")
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s, err := Open(context.Background(), drv.options(t))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := s.Close(context.Background()); err != nil {
				t.Errorf("Close %d: %v", i, err)
			}
		}
		if err := s.Write(context.Background(), func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Close: got %v, want %v", err, ErrClosed)
		}
	})
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts Options
	}{
		{"no path", Options{ArchiveDir: dir}},
		{"no archive", Options{Path: filepath.Join(dir, "x.db")}},
		{"negative busy timeout", Options{Path: filepath.Join(dir, "x.db"), ArchiveDir: dir, BusyTimeout: -1}},
	}
	for _, tt := range tests {
		if _, err := Open(context.Background(), tt.opts); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want %v", tt.name, err, ErrInvalid)
		}
	}
}

func TestEscapePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd?name#dir%20")
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close(context.Background())
	if _, err := os.Stat(filepath.Join(dir, "og.db")); err != nil {
		t.Errorf("database file not where asked: %v", err)
	}
}

func TestIsBusy(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{sqlite3.Error{Code: sqlite3.ErrBusy}, true},
		{fmt.Errorf("inserting: %w", sqlite3.Error{Code: sqlite3.ErrLocked}), true},
		{errors.New("committing: database is locked"), true},
		{sqlite3.Error{Code: sqlite3.ErrConstraint}, false},
		{ErrNotFound, false},
	}
	for _, tt := range tests {
		if got := isBusy(tt.err); got != tt.want {
			t.Errorf("isBusy(%v): got %t, want %t", tt.err, got, tt.want)
		}
	}
}

func TestWriteRetriesABusyFunction(t *testing.T) {
	s := testStore(t, nil)
	calls := 0
	err := s.Write(context.Background(), func(tx *Tx) error {
		calls++
		if _, err := tx.NextControlNumber(context.Background(), "p", "ISA"); err != nil {
			return err
		}
		if calls == 1 {
			return fmt.Errorf("publishing: %w", sqlite3.Error{Code: sqlite3.ErrBusy})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if calls != 2 {
		t.Errorf("calls: got %d, want 2", calls)
	}
	var last int64
	if err := s.DB().QueryRow(`SELECT last_value FROM control_numbers`).Scan(&last); err != nil || last != 1 {
		t.Errorf("control number after a retried transaction: got %d (%v), want 1 (the first attempt rolled back)", last, err)
	}
}

// retryHandler signals the first log record about a retry.
type retryHandler struct {
	slog.Handler
	retried chan struct{}
}

func (h retryHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h retryHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retrying") {
		select {
		case h.retried <- struct{}{}:
		default:
		}
	}
	return nil
}

func TestWriteWaitsOutALockHeldOutsideTheGate(t *testing.T) {
	dir := t.TempDir()
	h := retryHandler{Handler: slog.DiscardHandler, retried: make(chan struct{}, 1)}
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive"),
		BusyTimeout: 20e6, Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	// A transaction on DB() outside the gate, as the pub/sub adapter may
	// hold, has the write lock.
	held, err := s.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Write(context.Background(), func(tx *Tx) error {
			_, err := tx.NextControlNumber(context.Background(), "p", "GS")
			return err
		})
	}()
	<-h.retried // Write met SQLITE_BUSY at least once and is retrying.
	if err := held.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: got %v, want nil", err)
	}
}

func TestWriteGivesUpWithTheContextNotBusy(t *testing.T) {
	dir := t.TempDir()
	h := retryHandler{Handler: slog.DiscardHandler, retried: make(chan struct{}, 1)}
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive"),
		BusyTimeout: 20e6, Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	held, err := s.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, func(*Tx) error { return nil }) }()
	<-h.retried
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write: got %v, want %v", err, context.Canceled)
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		t.Errorf("Write: an SQLite error reached the caller: %v", err)
	}
}

func TestLockWritesSharesTheGate(t *testing.T) {
	s := testStore(t, nil)
	unlock, err := s.LockWrites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, func(*Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Write while the gate is held: got %v, want %v", err, context.Canceled)
	}
	unlock()
	unlock() // a second call is harmless
	if err := s.Write(context.Background(), func(*Tx) error { return nil }); err != nil {
		t.Errorf("Write after unlock: %v", err)
	}
}

func TestViewReadsASnapshotAndCannotWrite(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		r := insertOrder(t, s, "a", testOrder("1"))
		err := s.View(ctx, func(tx *Tx) error {
			first, err := tx.GetOrder(ctx, r.ID)
			if err != nil {
				return err
			}
			// A commit in between is not seen by this read transaction.
			o, _ := first.Order()
			if err := s.Write(ctx, func(w *Tx) error {
				_, err := w.UpdateOrder(ctx, OrderUpdate{ID: r.ID, Revision: first.Revision, Order: o})
				return err
			}); err != nil {
				return err
			}
			again, err := tx.GetOrder(ctx, r.ID)
			if err != nil {
				return err
			}
			if again.Revision != first.Revision {
				t.Errorf("revision inside one View: got %d, then %d", first.Revision, again.Revision)
			}
			if _, err := tx.NextControlNumber(ctx, "p", "ISA"); err == nil {
				t.Error("writing inside View: got nil error")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
		got, err := s.GetOrder(ctx, r.ID)
		if err != nil || got.Revision != 2 {
			t.Errorf("revision after View: got %d (%v), want 2", got.Revision, err)
		}
	})
}

func TestAckBodyInRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s, err := Open(ctx, drv.options(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		d := insertDoc(t, s, "edi", "po1.edi")
		body := []byte("ISA*00*...~")
		err = s.Write(ctx, func(tx *Tx) error {
			a, created, err := tx.InsertAck(ctx, AckInput{DocumentID: d.ID, Kind: Ack997, Destination: "inbox", Body: body})
			if err != nil || !created {
				t.Fatalf("InsertAck with a body: %v created=%v", err, created)
			}
			if a.SHA256 != archive.Sum(body) || string(a.Body) != string(body) {
				t.Errorf("stored ack: hash %s body %q", a.SHA256, a.Body)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		acks, err := s.PendingAcks(ctx, 10)
		if err != nil || len(acks) != 1 || string(acks[0].Body) != string(body) {
			t.Fatalf("PendingAcks: %v %+v", err, acks)
		}
	})
}

func TestDocumentsByID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s, err := Open(ctx, drv.options(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		var ids []string
		for i := 0; i < 600; i++ {
			ids = append(ids, insertDoc(t, s, "edi", fmt.Sprintf("po%d.edi", i)).ID)
		}
		docs, err := s.DocumentsByID(ctx, append(ids, "doc_missing"))
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 600 {
			t.Errorf("got %d documents, want 600", len(docs))
		}
	})
}

// withOneOrder runs fn in a write transaction of a fresh store of each
// driver that holds one order (revision 1, one line of quantity 1.50).
func withOneOrder(t *testing.T, fn func(t *testing.T, ctx context.Context, tx *Tx, rec OrderRecord) error) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s, err := Open(ctx, drv.options(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		d := insertDoc(t, s, "edi", "po1.edi")
		err = s.Write(ctx, func(tx *Tx) error {
			o := &order.Order{Channel: order.ChannelEDI, Source: order.Source{Standard: "X12"}, PONumber: "P1",
				Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("1.50"), SKU: "A"}}}
			rec, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, Order: o})
			if err != nil {
				return err
			}
			return fn(t, ctx, tx, rec)
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestSetOrderStatus(t *testing.T) {
	withOneOrder(t, func(t *testing.T, ctx context.Context, tx *Tx, rec OrderRecord) error {
		got, err := tx.SetOrderStatus(ctx, rec.ID, rec.Revision, order.StatusAccepted)
		if err != nil {
			return err
		}
		back, err := got.Order()
		if err != nil {
			return err
		}
		if got.Status != order.StatusAccepted || back.Status != order.StatusAccepted || got.Revision != rec.Revision+1 ||
			back.Lines[0].Quantity.String() != "1.50" {
			t.Errorf("after SetOrderStatus: record %+v, order %+v", got, back)
		}
		if _, err := tx.SetOrderStatus(ctx, rec.ID, rec.Revision, order.StatusRouted); !errors.Is(err, ErrConflict) {
			t.Errorf("stale revision: %v, want ErrConflict", err)
		}
		return nil
	})
}

// TestSetOrderStatusRevision checks that it changes the row as
// SetOrderStatus does and reports the revision, a stale revision and a
// missing order as SetOrderStatus does.
func TestSetOrderStatusRevision(t *testing.T) {
	withOneOrder(t, func(t *testing.T, ctx context.Context, tx *Tx, rec OrderRecord) error {
		tests := []struct {
			name     string
			id       string
			revision int64
			status   order.Status
			want     int64
			wantErr  error
		}{
			{"current revision", rec.ID, 1, order.StatusAccepted, 2, nil},
			{"next", rec.ID, 2, order.StatusRouted, 3, nil},
			{"stale revision", rec.ID, 2, order.StatusDelivered, 0, ErrConflict},
			{"no such order", "ord_missing", 1, order.StatusRouted, 0, ErrNotFound},
		}
		for _, tt := range tests {
			got, err := tx.SetOrderStatusRevision(ctx, tt.id, tt.revision, tt.status)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("%s: revision %d, error %v; want %d, %v", tt.name, got, err, tt.want, tt.wantErr)
			}
		}
		back, err := tx.GetOrder(ctx, rec.ID)
		if err != nil {
			return err
		}
		bo, err := back.Order()
		if err != nil {
			return err
		}
		if back.Status != order.StatusRouted || bo.Status != order.StatusRouted || back.Revision != 3 || bo.Lines[0].Quantity.String() != "1.50" {
			t.Errorf("after SetOrderStatusRevision: record %+v, order %+v", back, bo)
		}
		return nil
	})
}

func TestReserveControlNumbers(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s, err := Open(ctx, drv.options(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		var got []int64
		err = s.Write(ctx, func(tx *Tx) error {
			a, err := tx.ReserveControlNumbers(ctx, "p", "x12-interchange", 100)
			if err != nil {
				return err
			}
			b, err := tx.NextControlNumber(ctx, "p", "x12-interchange")
			if err != nil {
				return err
			}
			c, err := tx.ReserveControlNumbers(ctx, "p", "x12-interchange", 10)
			if err != nil {
				return err
			}
			if err := tx.SetControlNumber(ctx, "p", "x12-interchange", MaxControlNumber-5); err != nil {
				return err
			}
			d, err := tx.ReserveControlNumbers(ctx, "p", "x12-interchange", 10)
			if err != nil {
				return err
			}
			got = []int64{a, b, c, d}
			_, err = tx.ReserveControlNumbers(ctx, "p", "x12-interchange", 0)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("n = 0: %v, want ErrInvalid", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 101, 102, 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reservations = %v, want %v", got, want)
		}
	})
}

// TestApproversKeepTheirRoleAcrossMigration11: users with the UI role
// approver decided holds of the rules' role "approver" before users had
// approval roles of their own; migration 0011 gives them that role, and
// no one else any.
func TestApproversKeepTheirRoleAcrossMigration11(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		db := s.testDB()
		// Back to the schema before 0011, with two users made then.
		for _, q := range []string{
			`ALTER TABLE users DROP COLUMN approval_roles`,
			`ALTER TABLE orders DROP COLUMN content_hash`,
			`DROP TABLE exchange_rates`,
			`DELETE FROM schema_migrations WHERE version >= 11`,
			`INSERT INTO users (id, name, password_hash, role, disabled, created_at, updated_at) VALUES ('usr_1', 'anna', 'h', 'approver', 0, 0, 0), ('usr_2', 'dora', 'h', 'desk', 0, 0, 0)`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		ms, err := loadMigrations(migrationFiles, migrationDir(drv.name))
		if err != nil {
			t.Fatal(err)
		}
		// Up to 0011 only: the later ones are applied already (their
		// records are gone, their changes not).
		if _, err := s.applyMigrations(ctx, ms[:11]); err != nil {
			t.Fatalf("migrating again: %v", err)
		}
		for name, want := range map[string][]string{"anna": {"approver"}, "dora": nil} {
			u, err := s.GetUser(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(u.ApprovalRoles, want) {
				t.Errorf("%s: approval roles %q, want %q", name, u.ApprovalRoles, want)
			}
		}
	})
}
