package sqliteq_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	_ "github.com/mattn/go-sqlite3"

	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
)

// writerDSN is the store's writer DSN (see doc.go).
const writerDSN = "?_txlock=immediate&_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on"

// openDB opens a fresh database file with the writer DSN and returns its
// Writer and the *sql.DB (for reads in assertions).
func openDB(t testing.TB) (*sqliteq.Writer, *sql.DB) {
	t.Helper()
	_, w, db := openDBAt(t)
	return w, db
}

// openDBAt is openDB that also returns the database file's path.
func openDBAt(t testing.TB) (string, *sqliteq.Writer, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "queue.db")
	db, err := sql.Open("sqlite3", "file:"+path+writerDSN)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("pinging %s: %v", path, err)
	}
	return path, sqliteq.NewWriter(db, 0), db
}

func initTopics(t testing.TB, w *sqliteq.Writer, topics ...string) {
	t.Helper()
	if err := sqliteq.InitializeSchema(context.Background(), w, topics...); err != nil {
		t.Fatalf("InitializeSchema: %v", err)
	}
}

func newSubscriber(t testing.TB, w *sqliteq.Writer, cfg sqliteq.Config) *sqliteq.Subscriber {
	t.Helper()
	sub, err := sqliteq.NewSubscriber(w, cfg, watermill.NopLogger{})
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
