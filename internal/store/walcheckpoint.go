package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SQLite copies the pages of its write-ahead log back into the database
// file in checkpoints. By default the connection whose commit takes the
// log past 1,000 pages runs one, inside its COMMIT: on the gateway's
// single writer that is under the write lock every transaction waits
// for, and at intake's rate (an order writes about 15 pages to the log) a
// checkpoint of up to 4 MB, with the database file's fsync, fell into
// every second or third intake transaction.
//
// So the store's writer connections checkpoint by themselves only past
// writerAutoCheckpoint pages, a safety net, and a checkpointer goroutine
// runs passive checkpoints on a connection of its own after commits,
// outside the write lock: SQLite lets a checkpoint run while a writer
// appends to the log (it copies the frames committed when it started).
// When the writer's own checkpoint comes, most of the log is copied
// already, and the next transaction starts the log over.
const (
	// writerAutoCheckpoint is the log size, in pages (16 MB), past which
	// a writer's commit checkpoints what the checkpointer has not.
	writerAutoCheckpoint = 4096
	// checkpointEvery is how often the checkpointer looks for commits.
	checkpointEvery = 100 * time.Millisecond
)

// sqliteConnector opens the write pool's connections through the
// registered sqlite3 driver (so that a ConnectHook set on it still runs)
// and sets the checkpoint threshold on each.
type sqliteConnector struct {
	drv driver.Driver
	dsn string
}

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("the sqlite3 driver's connection cannot run statements")
	}
	if _, err := ex.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpoint), nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("setting wal_autocheckpoint: %w", err)
	}
	return conn, nil
}

func (c sqliteConnector) Driver() driver.Driver { return c.drv }

// openSQLiteWriter opens the write pool on dsn.
func openSQLiteWriter(dsn string) (*sql.DB, error) {
	probe, err := sql.Open("sqlite3", ":memory:") // no connection yet: only its driver is used
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	return sql.OpenDB(sqliteConnector{drv: drv, dsn: dsn}), nil
}

// checkpointer runs passive checkpoints in the background until close.
type checkpointer struct {
	s    *Store
	stop chan struct{}
	done sync.WaitGroup
}

func (s *Store) startCheckpointer() *checkpointer {
	c := &checkpointer{s: s, stop: make(chan struct{})}
	c.done.Go(c.run)
	return c
}

// run checkpoints every checkpointEvery when a write transaction ended
// since the last checkpoint. A failure is logged once, until a checkpoint
// succeeds again; the writers' own checkpoints go on meanwhile.
func (c *checkpointer) run() {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var seen uint64
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		released := c.s.gate.releases.Load()
		if released == seen {
			continue
		}
		err := c.once(context.Background())
		switch {
		case err != nil && !failing:
			c.s.log.Warn("store: background checkpoint failed; commits checkpoint the log themselves past the limit",
				"limit_pages", writerAutoCheckpoint, "err", err)
			failing = true
		case err == nil:
			if failing {
				c.s.log.Info("store: background checkpoints work again")
			}
			failing = false
			seen = released
		}
	}
}

// once runs a passive checkpoint: it copies the frames the log holds
// beyond the last checkpoint, never waiting for the writer nor blocking
// it.
func (c *checkpointer) once(ctx context.Context) error {
	var busy, logPages, copied int64
	if err := c.s.writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &copied); err != nil {
		return fmt.Errorf("checkpointing: %w", err)
	}
	return nil
}

// close stops the checkpointer and waits for it.
func (c *checkpointer) close() {
	close(c.stop)
	c.done.Wait()
}
