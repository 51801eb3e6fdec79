package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

func TestMain(m *testing.M) { os.Exit(postgres.RunMain(m)) }

// TestCrashKeepsCommittedRows: a committed row survives an immediate stop
// (no checkpoint) and the restart's WAL recovery.
func TestCrashKeepsCommittedRows(t *testing.T) {
	srv := postgres.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := srv.NewDatabase(t)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')"); err != nil {
		t.Fatal(err)
	}
	if err := srv.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err == nil {
		t.Error("a connection still answers after the immediate stop")
	}
	c.Close(ctx)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "committed" {
		t.Fatalf("after recovery: %q, %v; want the committed row", v, err)
	}
}

// TestSharedDatabasesAreSeparate: two databases of the shared cluster do
// not see each other's tables.
func TestSharedDatabasesAreSeparate(t *testing.T) {
	srv := postgres.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := srv.NewDatabase(t), srv.NewDatabase(t)
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE only_a (v int)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	if _, err := cb.Exec(ctx, "SELECT * FROM only_a"); err == nil {
		t.Error("database b sees database a's table")
	}
}
