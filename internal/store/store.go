package store

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/mattn/go-sqlite3"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// DefaultBusyTimeout is the busy_timeout used when Options.BusyTimeout is
// zero.
const DefaultBusyTimeout = 10 * time.Second

// DefaultMaxConns is the PostgreSQL pool size when Options.MaxConns is
// zero.
const DefaultMaxConns = 20

// Options configure Open.
type Options struct {
	// Driver is DriverSQLite ("sqlite", the default when empty) or
	// DriverPostgres ("postgres").
	Driver string
	// Path is the SQLite database file; its parent directories are
	// created. SQLite only.
	Path string
	// DSN is the PostgreSQL connection URL or key=value string (pgx).
	// PostgreSQL only.
	DSN string
	// MaxConns is the PostgreSQL pool size (DefaultMaxConns when zero).
	MaxConns int
	// ArchiveDir is the content-addressed archive of raw bytes. Several
	// gateway nodes on one PostgreSQL database must share it (a shared
	// file system), unless ArchiveInDB is set.
	ArchiveDir string
	// ArchiveInDB keeps the raw bytes in the database (tables
	// archive_blobs and archive_chunks) instead of ArchiveDir. ArchiveDir,
	// when set and present, is then only read: content the database lacks
	// (archived there before the switch) is looked up in it.
	ArchiveInDB bool
	// SkipMigrate makes Open refuse a database whose schema is behind this
	// binary (ErrSchemaTooOld) instead of migrating it; Migrate (the
	// "ordergate migrate" command) applies the migrations.
	SkipMigrate bool
	// BusyTimeout is SQLite's busy_timeout on every connection
	// (DefaultBusyTimeout when zero). SQLite only.
	BusyTimeout time.Duration
	// Logger receives retries and migrations (slog.DiscardHandler when nil).
	Logger *slog.Logger
	// Now is the clock for every time the store records (time.Now when
	// nil). Times are stored in UTC.
	Now func() time.Time
}

// normalize checks opts and fills in the defaults. needArchive is false
// for Migrate, which does not touch the archive.
func (opts Options) normalize(needArchive bool) (Options, error) {
	if opts.Driver == "" {
		opts.Driver = DriverSQLite
	}
	switch opts.Driver {
	case DriverSQLite:
		if opts.Path == "" {
			return opts, fmt.Errorf("%w: no database path", ErrInvalid)
		}
		if opts.BusyTimeout == 0 {
			opts.BusyTimeout = DefaultBusyTimeout
		}
		if opts.BusyTimeout < time.Millisecond {
			return opts, fmt.Errorf("%w: busy timeout %s is below 1ms", ErrInvalid, opts.BusyTimeout)
		}
	case DriverPostgres:
		if opts.DSN == "" {
			return opts, fmt.Errorf("%w: no PostgreSQL DSN", ErrInvalid)
		}
		if opts.MaxConns == 0 {
			opts.MaxConns = DefaultMaxConns
		}
		if opts.MaxConns < 2 {
			return opts, fmt.Errorf("%w: MaxConns %d is below 2", ErrInvalid, opts.MaxConns)
		}
	default:
		return opts, fmt.Errorf("%w: unknown driver %q (want %q or %q)", ErrInvalid, opts.Driver, DriverSQLite, DriverPostgres)
	}
	if needArchive && opts.ArchiveDir == "" && !opts.ArchiveInDB {
		return opts, fmt.Errorf("%w: no archive directory", ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts, nil
}

// target names the database in errors and logs, without a password.
func (opts Options) target() string {
	if opts.Driver != DriverPostgres {
		return opts.Path
	}
	cfg, err := pgconn.ParseConfig(opts.DSN)
	if err != nil {
		return "postgres"
	}
	return fmt.Sprintf("postgres %s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// Store is the gateway's database and archive. Its methods are safe for
// concurrent use.
type Store struct {
	driver  string
	writer  *sql.DB
	reader  *sql.DB // the writer itself on PostgreSQL
	rb      *rebinder
	archive Archive
	log     *slog.Logger
	now     func() time.Time
	entropy *ulid.LockedMonotonicReader

	// gate serializes write transactions made through Write and
	// LockWrites on SQLite, in order of arrival but urgent ones (intake,
	// UrgentWrite) first (SQLite's own lock waiting is not fair).
	// PostgreSQL has none.
	gate *writeGate
	// checkpoints copies SQLite's log into the database in the
	// background (nil on PostgreSQL).
	checkpoints *checkpointer

	closeOnce sync.Once
	closeErr  error
	closed    chan struct{}
}

// Open opens (creating when missing) the database and the archive, runs
// the pending migrations (or, with SkipMigrate, refuses a schema that is
// behind: ErrSchemaTooOld) and checks the connection settings. It refuses
// a database whose schema is newer than this binary (ErrSchemaTooNew) and
// an SQLite connection whose settings are unsafe (ErrUnsafeSettings).
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.normalize(true)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	s, err := connect(ctx, opts, true)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", opts.target(), err)
	}
	if opts.SkipMigrate {
		err = s.checkSchema(ctx)
	} else {
		_, err = s.migrate(ctx)
	}
	if err == nil {
		err = s.openReader(ctx, opts)
	}
	if err != nil {
		s.closePools()
		return nil, fmt.Errorf("opening store %s: %w", opts.target(), err)
	}
	if s.driver != DriverPostgres {
		s.checkpoints = s.startCheckpointer()
	}
	return s, nil
}

// Migrate applies the migrations the database lacks and returns the ones
// it applied ("0009_name"), none when the schema is current. It refuses a
// database migrated by a newer binary (ErrSchemaTooNew). On PostgreSQL
// several processes may run it at once: each migration runs in its own
// transaction under an advisory lock, so each is applied once. The
// archive options are ignored; SkipMigrate too.
func Migrate(ctx context.Context, opts Options) ([]string, error) {
	opts, err := opts.normalize(false)
	if err != nil {
		return nil, fmt.Errorf("migrating store: %w", err)
	}
	s, err := connect(ctx, opts, false)
	if err != nil {
		return nil, fmt.Errorf("migrating store %s: %w", opts.target(), err)
	}
	defer s.closePools()
	applied, err := s.migrate(ctx)
	if err != nil {
		return applied, fmt.Errorf("migrating store %s: %w", opts.target(), err)
	}
	return applied, nil
}

// connect opens the archive (when withArchive) and the write pool (on
// PostgreSQL the only pool) and checks its settings; the schema is not
// touched.
func connect(ctx context.Context, opts Options, withArchive bool) (*Store, error) {
	s := &Store{
		driver:  opts.Driver,
		rb:      &rebinder{dollar: opts.Driver == DriverPostgres},
		log:     opts.Logger,
		now:     opts.Now,
		entropy: &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(crand.Reader, 0)},
		gate:    newWriteGate(),
		closed:  make(chan struct{}),
	}
	if withArchive {
		arch, err := openArchive(s, opts)
		if err != nil {
			return nil, err
		}
		s.archive = arch
	}
	var err error
	switch opts.Driver {
	case DriverPostgres:
		s.writer, err = sql.Open("pgx", opts.DSN)
		if err != nil {
			return nil, err
		}
		s.writer.SetMaxOpenConns(opts.MaxConns)
		s.writer.SetMaxIdleConns(opts.MaxConns)
		s.writer.SetConnMaxIdleTime(5 * time.Minute)
		if err := s.writer.PingContext(ctx); err != nil {
			s.writer.Close()
			return nil, err
		}
		s.reader = s.writer
	default:
		if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
			return nil, err
		}
		busyMS := opts.BusyTimeout.Milliseconds()
		s.writer, err = openSQLiteWriter(writerDSN(opts.Path, busyMS))
		if err != nil {
			return nil, err
		}
		s.writer.SetMaxIdleConns(4)
		if err := s.checkWriter(ctx, busyMS); err != nil {
			s.writer.Close()
			return nil, err
		}
	}
	return s, nil
}

// openArchive opens the file archive, or the database's with the file
// archive of an earlier configuration, when its directory exists, to read
// what the database lacks.
func openArchive(s *Store, opts Options) (Archive, error) {
	if !opts.ArchiveInDB {
		return archive.New(opts.ArchiveDir)
	}
	b := &blobArchive{s: s}
	if opts.ArchiveDir == "" {
		return b, nil
	}
	_, err := os.Stat(opts.ArchiveDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return b, nil
	case err != nil:
		return nil, fmt.Errorf("opening the archive directory to read earlier content: %w", err)
	}
	b.files = archive.OpenExisting(opts.ArchiveDir)
	return b, nil
}

// openReader opens SQLite's read pool (after the migrations, as before);
// PostgreSQL reads on its one pool.
func (s *Store) openReader(ctx context.Context, opts Options) error {
	if s.driver == DriverPostgres {
		return nil
	}
	r, err := sql.Open("sqlite3", readerDSN(opts.Path, opts.BusyTimeout.Milliseconds()))
	if err != nil {
		return fmt.Errorf("read pool: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(4)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		return fmt.Errorf("read pool: %w", err)
	}
	s.reader = r
	return nil
}

// closePools closes the pools of a store that is not handed out.
func (s *Store) closePools() {
	if s.reader != nil && s.reader != s.writer {
		s.reader.Close()
	}
	s.writer.Close()
}

// Driver returns the database driver: DriverSQLite or DriverPostgres.
func (s *Store) Driver() string { return s.driver }

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
// the store's transactions. On SQLite its connections carry the writer
// settings (BEGIN IMMEDIATE, WAL, synchronous=FULL); never write through
// it while holding a transaction from Write or LockWrites: that waits for
// itself. On PostgreSQL it is the store's one pool, and its transactions
// must stay READ COMMITTED (the default) for the repository methods'
// idempotent inserts to see rows committed concurrently.
func (s *Store) DB() *sql.DB { return s.writer }

// ReadDB returns the read pool: on SQLite query-only connections that
// never wait for the write lock (WAL readers see the last commit); on
// PostgreSQL the one pool.
func (s *Store) ReadDB() *sql.DB { return s.reader }

// Archive returns the raw-content archive: the file archive in ArchiveDir,
// or, with ArchiveInDB, the database's. Put content there before
// committing the row that refers to it, or, where ArchiveInTx says so,
// store it with Tx.PutContent in that row's transaction.
func (s *Store) Archive() Archive { return s.archive }

// Close closes the pools. On SQLite it waits (until ctx is done) for a
// running write transaction to finish. Calling Close again returns the
// first result.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.driver != DriverPostgres {
			if err := s.gate.acquire(ctx, false); err != nil {
				s.log.Warn("store: closing while a write transaction is still running", "err", err)
			} else {
				defer s.gate.release()
			}
		}
		if s.checkpoints != nil {
			s.checkpoints.close()
		}
		if s.reader != s.writer {
			s.closeErr = s.reader.Close()
		}
		s.closeErr = errors.Join(s.closeErr, s.writer.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("closing store: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// LockWrites takes the store's write gate, the one Write holds around its
// transactions, and returns the function that releases it. An adapter that
// runs its own write transactions on DB() (a watermill-sql Beginner) can
// take it around each transaction so that all writers queue in one line
// (urgent ones, UrgentWrite, first). Do not call Write while holding it. On PostgreSQL there is no
// gate (concurrent write transactions are the point): it returns at once
// with a release that does nothing.
func (s *Store) LockWrites(ctx context.Context) (unlock func(), err error) {
	select {
	case <-s.closed:
		return nil, ErrClosed
	default:
	}
	if s.driver == DriverPostgres {
		return func() {}, nil
	}
	if err := s.gate.acquire(ctx, isUrgent(ctx)); err != nil {
		return nil, fmt.Errorf("waiting for the write lock: %w", err)
	}
	var once sync.Once
	return func() { once.Do(s.gate.release) }, nil
}

// Write runs fn in one write transaction and commits it. fn may run more
// than once: it must have no effects outside the transaction other than
// idempotent ones (an archive Put) and must wrap errors with %w. An error
// from fn rolls back everything fn wrote and is returned as is.
//
// On SQLite the transaction begins IMMEDIATE and write transactions are
// serialized by the store. When SQLite reports the database busy or
// locked, anywhere in the transaction, Write rolls back and runs fn again
// after a capped, jittered backoff until ctx is done: no SQLITE_BUSY
// reaches the caller.
//
// On PostgreSQL the transaction is READ COMMITTED and runs concurrently
// with others (of this process and of other nodes). When PostgreSQL
// reports a serialization failure (40001) or a deadlock (40P01) before
// the commit, or rejects the COMMIT itself with one of them, Write runs fn
// again after the same backoff; a COMMIT that failed otherwise (its
// outcome unknown) is returned, never retried.
//
// Never call Write from inside fn, nor from a pipeline handler that holds
// a transaction on DB() (use WrapTx there).
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) error {
	retryable, what := isBusy, "database busy"
	if s.driver == DriverPostgres {
		retryable, what = isRetryablePG, "serialization failure or deadlock"
	}
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		delay := backoff(attempt)
		s.log.Warn("store: "+what+", retrying the write transaction", "attempt", attempt, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("writing: %s for %d attempts: %w", what, attempt, ctx.Err())
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
// (a reader can meet a checkpoint or WAL recovery). On PostgreSQL it runs
// fn once on the pool.
func (s *Store) read(ctx context.Context, fn func(q querier) error) error {
	q := querier{q: s.reader, rb: s.rb}
	if s.driver == DriverPostgres {
		return fn(q)
	}
	for attempt := 1; ; attempt++ {
		err := fn(q)
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

// View runs fn in one read transaction: several reads see one consistent
// snapshot of committed data. The write methods of the Tx fail there. On
// SQLite it runs on the query-only read pool and fn runs again when
// SQLite reports busy, like Write's; on PostgreSQL the transaction is
// READ ONLY and REPEATABLE READ (one snapshot for all its statements).
func (s *Store) View(ctx context.Context, fn func(tx *Tx) error) error {
	var opts *sql.TxOptions
	if s.driver == DriverPostgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return s.read(ctx, func(querier) error {
		sqlTx, err := s.reader.BeginTx(ctx, opts)
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

// Tx is a write transaction with the store's repository methods. Get one
// from Write, or wrap a transaction someone else owns with WrapTx.
type Tx struct {
	raw *sql.Tx
	tx  querier
	s   *Store

	deferID string     // DeferOrderWrites: the order whose row writes are held back
	held    *heldOrder // those writes, until flushOrders

	deferEvents bool  // DeferEvents: AddEvent holds its inserts back
	events      []any // the held events' parameters, eight per event

	// put is the content PutContent stored in the database archive in
	// this transaction, with its size: statContent need not look for it.
	put map[archive.Hash]int64
}

// WrapTx returns the repository methods over a transaction the caller owns
// and commits, such as the one a watermill handler gets from its message
// context. The transaction must have been begun on DB(); on PostgreSQL at
// the default READ COMMITTED isolation.
func (s *Store) WrapTx(sqlTx *sql.Tx) *Tx {
	return &Tx{raw: sqlTx, tx: querier{q: sqlTx, rb: s.rb, whole: s.driver != DriverPostgres}, s: s}
}

// SQL returns the underlying transaction, for publishing messages in it.
// Queries on it directly use the driver's own placeholders ($1 on
// PostgreSQL).
func (t *Tx) SQL() *sql.Tx { return t.raw }

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}
