package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWriterAutoCheckpoint: every connection of the write pool leaves the
// checkpoints to the background until the log reaches the safety limit.
func TestWriterAutoCheckpoint(t *testing.T) {
	s := testStore(t, nil)
	ctx := context.Background()
	// Two connections at once: each is a new one of the pool.
	for i := range 2 {
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var pages int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if pages != writerAutoCheckpoint {
			t.Errorf("connection %d: wal_autocheckpoint = %d, want %d", i, pages, writerAutoCheckpoint)
		}
	}
}

// TestBackgroundCheckpoint: what the writers commit reaches the database
// file without a writer checkpointing (the log stays below the writers'
// limit): the checkpointer copied it.
func TestBackgroundCheckpoint(t *testing.T) {
	opts := testDriver{DriverSQLite}.options(t)
	s := openStore(t, opts, nil)
	ctx := context.Background()
	before := fileSize(t, opts.Path)
	const n, size = 6, 1 << 20 // about 1,540 pages of log, below writerAutoCheckpoint
	for i := range n {
		if err := s.Checkpoints().Save(ctx, fmt.Sprintf("bulk-%d", i), strings.Repeat("x", size)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, opts.Path) < before+n*size {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes, want at least %d: the log was not checkpointed", fileSize(t, opts.Path), before+n*size)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range n {
		v, err := s.Checkpoints().Load(ctx, fmt.Sprintf("bulk-%d", i))
		if err != nil || len(v) != size {
			t.Fatalf("bulk-%d: %d bytes, %v", i, len(v), err)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
