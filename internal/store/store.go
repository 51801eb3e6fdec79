package store

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// DefaultBusyTimeout is the busy_timeout used when Options.BusyTimeout is
// zero.
const DefaultBusyTimeout = 10 * time.Second

// Options configure Open.
type Options struct {
	// Path is the SQLite database file; its parent directories are created.
	Path string
	// ArchiveDir is the content-addressed archive of raw bytes.
	ArchiveDir string
	// BusyTimeout is SQLite's busy_timeout on every connection
	// (DefaultBusyTimeout when zero).
	BusyTimeout time.Duration
	// Logger receives retries and migrations (slog.DiscardHandler when nil).
	Logger *slog.Logger
	// Now is the clock for every time the store records (time.Now when
	// nil). Times are stored in UTC.
	Now func() time.Time
}

// Store is the gateway's database and archive. Its methods are safe for
// concurrent use.
type Store struct {
	writer  *sql.DB
	reader  *sql.DB
	archive *archive.Archive
	log     *slog.Logger
	now     func() time.Time
	entropy *ulid.LockedMonotonicReader

	// gate serializes write transactions made through Write and
	// LockWrites: a channel because waiting on it must respect a context,
	// and because blocked senders are served in order (SQLite's own lock
	// waiting is not fair).
	gate chan struct{}

	closeOnce sync.Once
	closeErr  error
	closed    chan struct{}
}

// Open opens (creating when missing) the database and the archive, runs
// the pending migrations and checks the connection settings. It refuses a
// database whose schema is newer than this binary (ErrSchemaTooNew) and a
// connection whose settings are unsafe (ErrUnsafeSettings).
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("opening store: %w: no database path", ErrInvalid)
	}
	if opts.ArchiveDir == "" {
		return nil, fmt.Errorf("opening store: %w: no archive directory", ErrInvalid)
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.BusyTimeout < time.Millisecond {
		return nil, fmt.Errorf("opening store: %w: busy timeout %s is below 1ms", ErrInvalid, opts.BusyTimeout)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	arch, err := archive.New(opts.ArchiveDir)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	s := &Store{
		archive: arch,
		log:     opts.Logger,
		now:     opts.Now,
		entropy: &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(crand.Reader, 0)},
		gate:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
	busyMS := opts.BusyTimeout.Milliseconds()
	s.writer, err = sql.Open("sqlite3", writerDSN(opts.Path, busyMS))
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", opts.Path, err)
	}
	s.writer.SetMaxIdleConns(4)
	if err := s.checkWriter(ctx, busyMS); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("opening store %s: %w", opts.Path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("opening store %s: %w", opts.Path, err)
	}
	s.reader, err = sql.Open("sqlite3", readerDSN(opts.Path, busyMS))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("opening store %s: read pool: %w", opts.Path, err)
	}
	s.reader.SetMaxOpenConns(8)
	s.reader.SetMaxIdleConns(4)
	if err := s.reader.PingContext(ctx); err != nil {
		s.writer.Close()
		s.reader.Close()
		return nil, fmt.Errorf("opening store %s: read pool: %w", opts.Path, err)
	}
	return s, nil
}

// writerDSN is the DSN of the write pool: every transaction begins
// IMMEDIATE (takes the write lock at BEGIN, so busy_timeout applies),
// WAL, synchronous=FULL (a commit survives power loss), foreign keys on.
func writerDSN(path string, busyMS int64) string {
	return fmt.Sprintf("file:%s?_txlock=immediate&_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d&_foreign_keys=on&_stmt_cache_size=256",
		escapePath(path), busyMS)
}

// readerDSN is the DSN of the read pool: deferred transactions on
// query-only connections, which never take the write lock.
func readerDSN(path string, busyMS int64) string {
	return fmt.Sprintf("file:%s?_txlock=deferred&_query_only=1&_busy_timeout=%d&_foreign_keys=on&_stmt_cache_size=256",
		escapePath(path), busyMS)
}

// escapePath escapes the characters that would end or change an SQLite
// URI file name.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// DB returns the write pool, for the pub/sub adapter that publishes inside
// the store's transactions. Its connections carry the writer settings
// (BEGIN IMMEDIATE, WAL, synchronous=FULL). Never write through it while
// holding a transaction from Write or LockWrites: that waits for itself.
func (s *Store) DB() *sql.DB { return s.writer }

// Archive returns the raw-content archive. Put content there before
// committing the row that refers to it.
func (s *Store) Archive() *archive.Archive { return s.archive }

// Close closes both pools. It waits (until ctx is done) for a running
// write transaction to finish. Calling Close again returns the first
// result.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.closed)
		select {
		case s.gate <- struct{}{}:
			defer func() { <-s.gate }()
		case <-ctx.Done():
			s.log.Warn("store: closing while a write transaction is still running", "err", ctx.Err())
		}
		s.closeErr = errors.Join(s.reader.Close(), s.writer.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("closing store: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// LockWrites takes the store's write gate, the one Write holds around its
// transactions, and returns the function that releases it. An adapter that
// runs its own write transactions on DB() (a watermill-sql Beginner) can
// take it around each transaction so that all writers queue in one fair
// line. Do not call Write while holding it.
func (s *Store) LockWrites(ctx context.Context) (unlock func(), err error) {
	select {
	case <-s.closed:
		return nil, ErrClosed
	default:
	}
	select {
	case s.gate <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-s.gate }) }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the write lock: %w", ctx.Err())
	}
}

// Write runs fn in one write transaction (BEGIN IMMEDIATE) and commits it.
// Write transactions are serialized by the store. When SQLite reports the
// database busy or locked, anywhere in the transaction, Write rolls back
// and runs fn again after a capped, jittered backoff until ctx is done: no
// SQLITE_BUSY reaches the caller. So fn may run more than once: it must
// have no effects outside the transaction other than idempotent ones (an
// archive Put) and must wrap errors with %w. An error from fn rolls back
// everything fn wrote and is returned as is.
//
// Never call Write from inside fn, nor from a pipeline handler that holds
// a transaction on DB() (use WrapTx there).
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !isBusy(err) {
			return err
		}
		delay := backoff(attempt)
		s.log.Warn("store: database busy, retrying the write transaction", "attempt", attempt, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("writing: database stayed busy for %d attempts: %w", attempt, ctx.Err())
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(tx *Tx) error) error {
	unlock, err := s.LockWrites(ctx)
	if err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	defer unlock()
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning write transaction: %w", err)
	}
	committed := false
	defer func() {
		// Also when fn panics: the connection must not keep the lock.
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(s.WrapTx(sqlTx)); err != nil {
		return err
	}
	committed = true // Commit ends the transaction even when it fails.
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("committing write transaction: %w", err)
	}
	return nil
}

// backoff returns the wait before retry attempt+1: exponential from 2ms,
// capped at 500ms, with up to 50% jitter.
func backoff(attempt int) time.Duration {
	d := 2 * time.Millisecond << min(attempt-1, 8)
	d = min(d, 500*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

// isBusy reports whether err is SQLite's "database is busy/locked".
func isBusy(err error) bool {
	if err == nil {
		return false
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	// A caller that formatted the error with %v instead of %w loses the
	// type; the message still says what happened.
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "database table is locked")
}

// read runs fn against the read pool, retrying while SQLite reports busy
// (a reader can meet a checkpoint or WAL recovery).
func (s *Store) read(ctx context.Context, fn func(q querier) error) error {
	for attempt := 1; ; attempt++ {
		err := fn(s.reader)
		if err == nil || !isBusy(err) {
			return err
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("reading: database stayed busy for %d attempts: %w", attempt, ctx.Err())
		}
	}
}

// View runs fn in one read transaction on the read pool: several reads
// see one consistent snapshot of committed data. The write methods of the
// Tx fail there (the read pool is query-only). fn runs again when SQLite
// reports busy, like Write's.
func (s *Store) View(ctx context.Context, fn func(tx *Tx) error) error {
	return s.read(ctx, func(q querier) error {
		sqlTx, err := s.reader.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("beginning read transaction: %w", err)
		}
		defer sqlTx.Rollback()
		return fn(s.WrapTx(sqlTx))
	})
}

// newID returns a prefixed ULID such as "ord_01J...".
func (s *Store) newID(prefix string, at time.Time) string {
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(at), s.entropy).String()
}

func (s *Store) clock() time.Time { return s.now().UTC() }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction with the store's repository methods. Get one
// from Write, or wrap a transaction someone else owns with WrapTx.
type Tx struct {
	tx *sql.Tx
	s  *Store
}

// WrapTx returns the repository methods over a transaction the caller owns
// and commits, such as the one a watermill handler gets from its message
// context. The transaction must have been begun on DB().
func (s *Store) WrapTx(sqlTx *sql.Tx) *Tx { return &Tx{tx: sqlTx, s: s} }

// SQL returns the underlying transaction, for publishing messages in it.
func (t *Tx) SQL() *sql.Tx { return t.tx }

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}
