package store

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
	"github.com/ordergate/ordergate/normalize/order"
)

// fakeClock is a settable clock for the store's Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMain(m *testing.M) { os.Exit(postgres.RunMain(m)) }

// testDriver opens stores of one driver for a test: SQLite in a temporary
// directory, or PostgreSQL in a new database of the test binary's shared
// cluster (skipped when PostgreSQL is not installed).
type testDriver struct{ name string }

var testDrivers = []testDriver{{DriverSQLite}, {DriverPostgres}}

// forEachDriver runs body once per driver, as the subtests "sqlite" and
// "postgres".
func forEachDriver(t *testing.T, body func(t *testing.T, drv testDriver)) {
	t.Helper()
	for _, drv := range testDrivers {
		t.Run(drv.name, func(t *testing.T) { body(t, drv) })
	}
}

// options returns the options of a new, empty database (and archive
// directory) of the driver.
func (d testDriver) options(t testing.TB) Options {
	t.Helper()
	dir := t.TempDir()
	opts := Options{Driver: d.name, ArchiveDir: filepath.Join(dir, "archive")}
	if d.name == DriverPostgres {
		opts.DSN = migratedDatabase(t)
		opts.MaxConns = 10
	} else {
		opts.Path = filepath.Join(dir, "db", "ordergate.db")
	}
	return opts
}

// emptyOptions is options with a database that has no schema yet (on
// PostgreSQL options' databases are copies of a migrated template).
func (d testDriver) emptyOptions(t testing.TB) Options {
	t.Helper()
	opts := d.options(t)
	if d.name == DriverPostgres {
		opts.DSN = postgres.Shared(t).NewDatabase(t)
	}
	return opts
}

// template is the PostgreSQL database, migrated once per test binary,
// that migratedDatabase copies.
var template struct {
	once sync.Once
	name string
	err  error
}

// migratedDatabase returns the DSN of a new PostgreSQL database with the
// current schema, dropped at cleanup: a copy of the template (CREATE
// DATABASE ... TEMPLATE), much faster than migrating each one.
func migratedDatabase(t testing.TB) string {
	t.Helper()
	srv := postgres.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	template.once.Do(func() {
		b := make([]byte, 6)
		crand.Read(b)
		template.name = "tmpl_" + hex.EncodeToString(b)
		if template.err = srv.Exec(ctx, "CREATE DATABASE "+template.name); template.err != nil {
			return
		}
		_, template.err = Migrate(ctx, Options{Driver: DriverPostgres, DSN: srv.DSN(template.name), ArchiveInDB: true})
	})
	if template.err != nil {
		t.Fatalf("migrating the template database: %v", template.err)
	}
	b := make([]byte, 6)
	crand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	for attempt := 0; ; attempt++ {
		// The template's last connections may still be closing.
		err := srv.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template.name)
		if err == nil {
			break
		}
		if attempt == 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			t.Fatalf("creating a database from the template: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping database %s: %v", name, err)
		}
	})
	return srv.DSN(name)
}

// open opens a store on a new database of the driver, closed at cleanup.
func (d testDriver) open(t testing.TB, clock *fakeClock) *Store {
	t.Helper()
	return openStore(t, d.options(t), clock)
}

// openStore opens a store with opts, closed at cleanup.
func openStore(t testing.TB, opts Options, clock *fakeClock) *Store {
	t.Helper()
	if clock != nil {
		opts.Now = clock.Now
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// testStore opens an SQLite store in a temporary directory, closed at
// cleanup (the tests of SQLite's own behaviour, and the benchmarks).
func testStore(t testing.TB, clock *fakeClock) *Store {
	t.Helper()
	return testDriver{DriverSQLite}.open(t, clock)
}

// testDB runs a test's SQL, written with ? placeholders, on the store's
// write pool, rebound for the store's driver.
type testDB struct{ q querier }

func (s *Store) testDB() testDB { return testDB{q: s.writerQuerier()} }

func (d testDB) QueryRow(query string, args ...any) *sql.Row {
	return d.q.QueryRowContext(context.Background(), query, args...)
}

func (d testDB) Query(query string, args ...any) (*sql.Rows, error) {
	return d.q.QueryContext(context.Background(), query, args...)
}

func (d testDB) Exec(query string, args ...any) (sql.Result, error) {
	return d.q.ExecContext(context.Background(), query, args...)
}

func (d testDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.q.ExecContext(ctx, query, args...)
}

// dropTrigger drops a trigger of table in the store's dialect.
func (d testDB) dropTrigger(ctx context.Context, s *Store, trigger, table string) error {
	q := `DROP TRIGGER ` + trigger
	if s.Driver() == DriverPostgres {
		q += ` ON ` + table
	}
	_, err := d.ExecContext(ctx, q)
	return err
}

// tableExists reports whether the store's database has the table.
func tableExists(t testing.TB, s *Store, table string) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if s.Driver() == DriverPostgres {
		q = `SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?`
	}
	var n int
	if err := s.testDB().QueryRow(q, table).Scan(&n); err != nil {
		t.Fatalf("looking for table %s: %v", table, err)
	}
	return n > 0
}

// put archives content and returns its hash and size.
func put(t testing.TB, s *Store, content string) (archive.Hash, int64) {
	t.Helper()
	h, n, err := s.Archive().Put(context.Background(), bytes.NewReader([]byte(content)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return h, n
}

// docInput archives content and returns the input of a document with it.
func docInput(t testing.TB, s *Store, channel, sourceKey, content string) DocumentInput {
	t.Helper()
	h, n := put(t, s, content)
	return DocumentInput{Channel: channel, SourceKey: sourceKey, SHA256: h, Size: n, Filename: sourceKey,
		ContentType: "application/edi-x12", Standard: "X12"}
}

// write runs fn in a write transaction and fails the test on error.
func write(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// insertDoc stores a document and returns it.
func insertDoc(t testing.TB, s *Store, channel, sourceKey string) Document {
	t.Helper()
	in := docInput(t, s, channel, sourceKey, "content of "+channel+"/"+sourceKey)
	var d Document
	write(t, s, func(tx *Tx) (err error) { d, _, err = tx.InsertDocument(context.Background(), in); return err })
	return d
}

func testOrder(po string) *order.Order {
	return &order.Order{
		Channel:    order.ChannelEDI,
		Source:     order.Source{Standard: "X12", SenderID: "BAUMARKTNORD"},
		Purpose:    order.PurposeOriginal,
		PONumber:   po,
		PODate:     order.Date{Year: 2026, Month: 11, Day: 18},
		Currency:   "EUR",
		CustomerID: "C-1000",
		Lines:      []order.Line{{LineNo: "1"}},
	}
}

// insertOrder stores a document and one order of it.
func insertOrder(t testing.TB, s *Store, sourceKey string, o *order.Order) OrderRecord {
	t.Helper()
	d := insertDoc(t, s, "edi", sourceKey)
	var r OrderRecord
	write(t, s, func(tx *Tx) (err error) {
		r, _, err = tx.InsertOrder(context.Background(), OrderInput{DocumentID: d.ID, Order: o, PartnerID: "baumarkt-nord"})
		return err
	})
	return r
}

func count(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.testDB().QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s", table)).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}
