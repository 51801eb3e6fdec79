package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// The drivers Options.Driver accepts.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// PostgreSQL error codes the store acts on.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// rawQuerier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type rawQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier runs the store's SQL, written with ? placeholders, on a pool, a
// connection or a transaction, rebinding the placeholders to the driver's
// ($1, $2, ... for PostgreSQL). Every repository query goes through one,
// so no call site can forget the rebinding.
type querier struct {
	q  rawQuerier
	rb *rebinder
	// whole: the statements run to their end whatever their context
	// (the statements of an SQLite transaction, which its owner ends: the
	// driver would start a goroutine per statement to watch a context
	// that can be cancelled, and the write lock's holder would wait for
	// it to be scheduled).
	whole bool
}

func (q querier) ctx(ctx context.Context) context.Context {
	if q.whole {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// ExecContext runs query (with ? placeholders) without returning rows.
func (q querier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.q.ExecContext(q.ctx(ctx), q.rb.bind(query), q.rb.texts(args)...)
}

// QueryContext runs query (with ? placeholders) and returns its rows.
func (q querier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.q.QueryContext(q.ctx(ctx), q.rb.bind(query), q.rb.texts(args)...)
}

// QueryRowContext runs query (with ? placeholders) and returns its first row.
func (q querier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return q.q.QueryRowContext(q.ctx(ctx), q.rb.bind(query), q.rb.texts(args)...)
}

// texts makes the string arguments storable as PostgreSQL text, which
// refuses NUL and invalid UTF-8 (SQLite stores any bytes): such bytes
// come from partners (a Latin-1 file name, a control character quoted in
// a parse error) and must not make a document unstorable. Each NUL and
// each byte of an invalid sequence becomes the escape \xNN; valid text
// passes unchanged, so the mapping only merges a raw byte with the same
// escape written out literally. On SQLite args pass unchanged.
func (r *rebinder) texts(args []any) []any {
	if r == nil || !r.dollar {
		return args
	}
	var out []any
	for i, a := range args {
		s, ok := a.(string)
		if !ok || (utf8.ValidString(s) && strings.IndexByte(s, 0) < 0) {
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = escapeText(s)
	}
	if out == nil {
		return args
	}
	return out
}

// text is what a string argument s becomes in its column (texts): what
// reading the column back gives, so that an insert need not read its row
// back.
func (r *rebinder) text(s string) string {
	if r == nil || !r.dollar || (utf8.ValidString(s) && strings.IndexByte(s, 0) < 0) {
		return s
	}
	return escapeText(s)
}

// escapeText writes NUL and the bytes of invalid UTF-8 sequences as \xNN.
func escapeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0 {
			fmt.Fprintf(&b, "\\x%02X", s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// rebinder turns ? placeholders into $n for PostgreSQL, caching the
// result per query text (the store's queries are a small, fixed set, and
// the few built from filters repeat). For SQLite it returns the query as
// is.
type rebinder struct {
	dollar bool
	cache  sync.Map // query -> rebound query
}

func (r *rebinder) bind(query string) string {
	if r == nil || !r.dollar {
		return query
	}
	if v, ok := r.cache.Load(query); ok {
		return v.(string)
	}
	out := rebindDollar(query)
	r.cache.Store(query, out)
	return out
}

// rebindDollar replaces each ? outside quoted strings, quoted identifiers
// and comments with $1, $2, ... in order.
func rebindDollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// A quoted string or identifier; a doubled quote inside is an
			// escaped one and simply continues it.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+4])
			i += j + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isUniqueViolation reports whether err is a UNIQUE constraint violation
// of either driver (PostgreSQL's 23505 also covers primary keys).
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// isRetryablePG reports whether err is a PostgreSQL serialization failure
// or deadlock: the server rolled the transaction back, and running it
// again may succeed.
func isRetryablePG(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected)
}

// lockSuffix returns clause (" FOR UPDATE", " FOR SHARE") on PostgreSQL
// and "" on SQLite, whose single writer needs no row locks (and whose
// grammar has none).
func (s *Store) lockSuffix(clause string) string {
	if s.driver == DriverPostgres {
		return clause
	}
	return ""
}
