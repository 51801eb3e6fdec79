package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles are the migrations of both drivers: migrations/sqlite and
// migrations/postgres hold the same versions under the same names, each in
// its dialect. The names are what schema_migrations records.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serializes
// migrations of several processes ("ordergate" in ASCII).
const migrationLockKey int64 = 0x6f72646572676174

// migration is one numbered schema change, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func (m migration) String() string { return fmt.Sprintf("%04d_%s", m.version, m.name) }

// migrationDir is the directory of the driver's migrations.
func migrationDir(driver string) string {
	if driver == DriverPostgres {
		return "migrations/postgres"
	}
	return "migrations/sqlite"
}

// loadMigrations reads the migrations in dir in version order and checks
// that the versions are 1, 2, 3, ... without gaps.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(rest, ".sql"), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d (no gaps, no duplicates)", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the embedded migrations the database lacks and returns
// the ones it applied.
func (s *Store) migrate(ctx context.Context) ([]string, error) {
	ms, err := loadMigrations(migrationFiles, migrationDir(s.driver))
	if err != nil {
		return nil, err
	}
	return s.applyMigrations(ctx, ms)
}

// lockMigrations takes, on PostgreSQL, the advisory lock that serializes
// migrations across processes until the transaction ends. SQLite's write
// transactions are serialized already.
func (t *Tx) lockMigrations(ctx context.Context) error {
	if t.s.driver != DriverPostgres {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLockKey); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	return nil
}

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL)`

const createSchemaMigrationsPG = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			name       TEXT   NOT NULL,
			applied_at BIGINT NOT NULL)`

// applyMigrations creates schema_migrations when missing, refuses a
// database with a version newer than the last of ms, and applies each
// missing migration in its own transaction, which also records it. It
// returns the migrations it applied.
func (s *Store) applyMigrations(ctx context.Context, ms []migration) ([]string, error) {
	create := createSchemaMigrations
	if s.driver == DriverPostgres {
		create = createSchemaMigrationsPG
	}
	err := s.Write(ctx, func(tx *Tx) error {
		if err := tx.lockMigrations(ctx); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, create)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}
	latest := len(ms)
	var current int
	if err := s.writerQuerier().QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return nil, fmt.Errorf("reading schema version: %w", err)
	}
	if current > latest {
		return nil, fmt.Errorf("%w: database is at version %d, this binary knows %d", ErrSchemaTooNew, current, latest)
	}
	var applied []string
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		var did bool
		err := s.Write(ctx, func(tx *Tx) error {
			did = false
			if err := tx.lockMigrations(ctx); err != nil {
				return err
			}
			var current int
			if err := tx.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return fmt.Errorf("reading schema version: %w", err)
			}
			if current > latest {
				return fmt.Errorf("%w: database is at version %d, this binary knows %d", ErrSchemaTooNew, current, latest)
			}
			if current >= m.version {
				return nil
			}
			if _, err := tx.raw.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("applying migration %s: %w", m, err)
			}
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, nanos(s.clock())); err != nil {
				return fmt.Errorf("recording migration %s: %w", m, err)
			}
			did = true
			return nil
		})
		if err != nil {
			return applied, err
		}
		if did {
			s.log.Info("store: applied migration", "version", m.version, "name", m.name)
			applied = append(applied, m.String())
		}
	}
	return applied, nil
}

// checkSchema refuses a database whose schema is behind this binary
// (ErrSchemaTooOld, naming the command that migrates it) or ahead of it
// (ErrSchemaTooNew); it changes nothing.
func (s *Store) checkSchema(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, migrationDir(s.driver))
	if err != nil {
		return err
	}
	latest := len(ms)
	exists := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if s.driver == DriverPostgres {
		exists = `SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`
	}
	q := s.writerQuerier()
	var n, current int
	if err := q.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if n > 0 {
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
	}
	switch {
	case current > latest:
		return fmt.Errorf("%w: database is at version %d, this binary knows %d", ErrSchemaTooNew, current, latest)
	case current < latest:
		return fmt.Errorf("%w: database is at version %d, this binary needs %d: run `ordergate migrate` first",
			ErrSchemaTooOld, current, latest)
	}
	return nil
}

// writerQuerier runs the store's SQL on the write pool.
func (s *Store) writerQuerier() querier { return querier{q: s.writer, rb: s.rb} }

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	})
	if err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}
