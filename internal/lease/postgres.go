package lease

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// initLockKey is the advisory lock that serializes Init across nodes
// (CREATE TABLE IF NOT EXISTS alone can fail when two sessions race).
const initLockKey int64 = 0x6f67_6c65_6173_65 // "oglease"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS ordergate_leases (
	name        text PRIMARY KEY CHECK (name <> ''),
	token       bigint NOT NULL CHECK (token > 0),
	node        text NOT NULL,
	acquired_at timestamptz NOT NULL,
	renewed_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ordergate_lease_history (
	name        text NOT NULL,
	token       bigint NOT NULL,
	node        text NOT NULL,
	acquired_at timestamptz NOT NULL,
	released_at timestamptz,
	reason      text,
	PRIMARY KEY (name, token)
)`,
}

// acquireSQL takes the lease when it is free or expired by the server's
// clock, in one statement: the row is created with token 1 or its token
// incremented; the previous holder's open history row is closed as
// expired and a history row opened for the new one. When the lease is
// busy it returns the holder's remaining time (from the statement's
// snapshot: a hint for when to try again).
const acquireSQL = `
WITH acq AS (
	INSERT INTO ordergate_leases AS l (name, token, node, acquired_at, renewed_at, expires_at)
	VALUES ($1, 1, $2, clock_timestamp(), clock_timestamp(), clock_timestamp() + $3::bigint * interval '1 microsecond')
	ON CONFLICT (name) DO UPDATE
		SET token = l.token + 1, node = excluded.node, acquired_at = excluded.acquired_at,
			renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
		WHERE l.expires_at <= clock_timestamp()
	RETURNING l.name, l.token, l.node, l.acquired_at
), closed AS (
	UPDATE ordergate_lease_history h SET released_at = acq.acquired_at, reason = 'expired'
	FROM acq WHERE h.name = acq.name AND h.token < acq.token AND h.released_at IS NULL
), opened AS (
	INSERT INTO ordergate_lease_history (name, token, node, acquired_at)
	SELECT name, token, node, acquired_at FROM acq
)
SELECT true, token, acquired_at, 0::bigint FROM acq
UNION ALL
SELECT false, l.token, l.acquired_at,
	GREATEST(0, EXTRACT(EPOCH FROM l.expires_at - clock_timestamp()) * 1000000)::bigint
FROM ordergate_leases l WHERE l.name = $1 AND NOT EXISTS (SELECT 1 FROM acq)`

// renewSQL extends the lease this node holds with this token, unless it
// expired in the meantime.
const renewSQL = `
UPDATE ordergate_leases
SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + $4::bigint * interval '1 microsecond'
WHERE name = $1 AND token = $2 AND node = $3 AND expires_at > clock_timestamp()`

const checkSQL = `
SELECT EXISTS (SELECT 1 FROM ordergate_leases
WHERE name = $1 AND token = $2 AND node = $3 AND expires_at > clock_timestamp())`

// releaseSQL expires the lease now (when this node still holds it with
// this token) and closes its history row with the reason.
const releaseSQL = `
WITH rel AS (
	UPDATE ordergate_leases SET expires_at = clock_timestamp()
	WHERE name = $1 AND token = $2 AND node = $3 AND expires_at > clock_timestamp()
	RETURNING name
), hist AS (
	UPDATE ordergate_lease_history SET released_at = clock_timestamp(), reason = $4
	WHERE name = $1 AND token = $2 AND node = $3 AND released_at IS NULL
)
SELECT count(*) FROM rel`

// errLogEvery bounds the logging of database errors: at most one line per
// interval and elector, with the count of the lines left out.
const errLogEvery = 30 * time.Second

// PG elects leaders through a lease table in PostgreSQL.
type PG struct {
	db     *sql.DB
	cfg    Config
	margin time.Duration
	log    *slog.Logger

	mu   sync.Mutex
	held map[*pgLease]struct{}

	errMu      sync.Mutex
	errLast    time.Time
	errSkipped int
}

var _ Elector = (*PG)(nil)

// NewPostgres returns an elector over db (a PostgreSQL pool, e.g. opened
// with the pgx stdlib driver). Call Init once before Lead.
func NewPostgres(db *sql.DB, cfg Config, logger *slog.Logger) (*PG, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil database", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &PG{db: db, cfg: cfg, margin: cfg.margin(), log: logger, held: map[*pgLease]struct{}{}}, nil
}

// Init creates the lease tables when they do not exist. Nodes starting at
// once take turns on an advisory lock.
func (e *PG) Init(ctx context.Context) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lease: init: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", initLockKey); err != nil {
		return fmt.Errorf("lease: init: lock: %w", err)
	}
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("lease: init: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("lease: init: commit: %w", err)
	}
	return nil
}

// Config returns the configuration with its defaults filled in.
func (e *PG) Config() Config { return e.cfg }

// Node is this node's identity.
func (e *PG) Node() string { return e.cfg.Node }

// Held lists the leases this node holds now, by name.
func (e *PG) Held() []Held {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Held, 0, len(e.held))
	for l := range e.held {
		out = append(out, Held{Name: l.name, Token: l.token, Since: l.since})
	}
	slices.SortFunc(out, func(a, b Held) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Token, b.Token)
	})
	return out
}

// Lead campaigns for name and runs fn while this node holds the lease,
// again and again until ctx ends; see Elector.
func (e *PG) Lead(ctx context.Context, name string, fn func(ctx context.Context, l Lease) error) error {
	if name == "" {
		return fmt.Errorf("%w: empty lease name", ErrConfig)
	}
	for {
		a, err := e.campaign(ctx, name)
		if err != nil {
			return err
		}
		returned := e.run(ctx, name, a, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if returned {
			// fn gave up on its own: give the other nodes the first
			// chance and do not spin on a function that fails at once.
			if err := sleep(ctx, e.jitter(e.cfg.Retry)); err != nil {
				return err
			}
		}
	}
}

type acquisition struct {
	token int64
	since time.Time
	sent  time.Time // local (monotonic) time the acquiring statement was sent
}

// campaign tries to acquire name every Retry (sooner when the holder's
// lease is about to expire) until it succeeds or ctx ends.
func (e *PG) campaign(ctx context.Context, name string) (acquisition, error) {
	for {
		a, ok, wait, err := e.tryAcquire(ctx, name)
		if ok && ctx.Err() != nil {
			e.release(ctx, name, a.token, "stopped")
		}
		if ctx.Err() != nil {
			return acquisition{}, ctx.Err()
		}
		if err != nil {
			e.logDBError("lease campaign failed", name, err)
		}
		if ok {
			if time.Since(a.sent) < e.cfg.TTL-e.margin {
				return a, nil
			}
			// The answer came too late to run anything under it.
			e.release(ctx, name, a.token, "acquired too late")
			wait = e.jitter(e.cfg.Retry)
		}
		if err := sleep(ctx, wait); err != nil {
			return acquisition{}, err
		}
	}
}

// tryAcquire runs the acquiring statement once. wait is how long to wait
// before the next attempt. When ctx ends during the statement, its answer
// is still awaited for a short grace, so that a lease the server granted
// meanwhile is known and can be released instead of blocking the name for
// TTL.
func (e *PG) tryAcquire(ctx context.Context, name string) (a acquisition, ok bool, wait time.Duration, err error) {
	wait = e.jitter(e.cfg.Retry)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL-e.margin)
	defer cancel()
	grace := min(e.margin, time.Second)
	defer context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })()
	a.sent = time.Now()
	var remainingMicros int64
	err = e.db.QueryRowContext(actx, acquireSQL, name, e.cfg.Node, e.cfg.TTL.Microseconds()).
		Scan(&ok, &a.token, &a.since, &remainingMicros)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A first acquisition committed concurrently: try again later.
		return a, false, wait, nil
	case err != nil:
		return a, false, wait, fmt.Errorf("lease %q: acquire: %w", name, err)
	case ok:
		a.since = a.since.UTC()
		return a, true, 0, nil
	}
	// Busy: come back just after the holder's expiry when that is sooner
	// than Retry (a crashed holder is replaced without waiting Retry).
	const slack = 20 * time.Millisecond
	if hint := time.Duration(remainingMicros)*time.Microsecond + slack; hint < wait {
		wait = hint
	}
	return a, false, wait, nil
}

// run runs fn under the acquired lease, renewing it meanwhile, and releases
// it afterwards. It reports whether fn returned on its own (neither the
// lease lost nor ctx ended).
func (e *PG) run(ctx context.Context, name string, a acquisition, fn func(ctx context.Context, l Lease) error) bool {
	fctx, stop := context.WithCancelCause(ctx)
	l := &pgLease{e: e, name: name, token: a.token, since: a.since, stop: stop, deadline: a.sent.Add(e.cfg.TTL - e.margin)}
	e.mu.Lock()
	e.held[l] = struct{}{}
	e.mu.Unlock()
	e.log.Info("lease acquired", "name", name, "node", e.cfg.Node, "token", l.token)

	kept := make(chan struct{})
	go func() {
		defer close(kept)
		e.keep(fctx, l)
	}()
	ferr := fn(fctx, l)
	stop(fmt.Errorf("lease %q token %d: %w: released", name, l.token, ErrLost))
	<-kept

	lost := l.end(fmt.Errorf("lease %q token %d: %w: released", name, l.token, ErrLost), "")
	e.drop(l)
	var reason string
	switch {
	case lost != nil:
		reason = "lost: " + l.reason()
	case ctx.Err() != nil:
		reason = "stopped"
	default:
		reason = "released"
		if ferr != nil {
			e.log.Warn("lease work failed", "name", name, "node", e.cfg.Node, "token", l.token, "err", ferr)
		}
	}
	e.release(ctx, name, l.token, reason)
	return lost == nil && ctx.Err() == nil
}

// keep renews l every Renew and cancels fn's context (l.stop) when the lease
// is refused or no renewal was confirmed by l's deadline: the send time of
// the last confirmed renewal plus TTL minus the margin, on the local
// monotonic clock.
func (e *PG) keep(ctx context.Context, l *pgLease) {
	deadline := time.NewTimer(time.Until(l.deadlineAt()))
	defer deadline.Stop()
	// The acquisition was sent TTL - margin before the first deadline.
	renew := time.NewTimer(time.Until(l.deadlineAt().Add(e.cfg.Renew - (e.cfg.TTL - e.margin))))
	defer renew.Stop()
	type result struct {
		sent time.Time
		ok   bool
		err  error
	}
	var results chan result // non-nil while a renewal is in flight
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			e.lose(l, "renewal not confirmed in time")
			return
		case <-renew.C:
			res := make(chan result, 1)
			results = res
			rctx, cancel := context.WithDeadline(ctx, l.deadlineAt())
			sent := time.Now()
			go func() {
				defer cancel()
				ok, err := e.renew(rctx, l)
				res <- result{sent: sent, ok: ok, err: err}
			}()
		case r := <-results:
			results = nil
			switch {
			case r.err != nil:
				if ctx.Err() != nil {
					return
				}
				e.logDBError("lease renewal failed", l.name, r.err)
				renew.Reset(min(max(e.cfg.Renew/4, 10*time.Millisecond), time.Until(l.deadlineAt())))
			case !r.ok:
				e.lose(l, "renewal refused: expired or taken over")
				return
			default:
				l.extend(r.sent.Add(e.cfg.TTL - e.margin))
				deadline.Reset(time.Until(l.deadlineAt()))
				renew.Reset(time.Until(r.sent.Add(e.cfg.Renew)))
			}
		}
	}
}

func (e *PG) renew(ctx context.Context, l *pgLease) (bool, error) {
	res, err := e.db.ExecContext(ctx, renewSQL, l.name, l.token, e.cfg.Node, e.cfg.TTL.Microseconds())
	if err != nil {
		return false, fmt.Errorf("lease %q token %d: renew: %w", l.name, l.token, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease %q token %d: renew: %w", l.name, l.token, err)
	}
	return n == 1, nil
}

// lose ends l as lost and cancels fn's context, once.
func (e *PG) lose(l *pgLease, reason string) {
	err := fmt.Errorf("lease %q token %d: %w: %s", l.name, l.token, ErrLost, reason)
	if l.end(err, reason) != nil {
		return
	}
	e.drop(l)
	l.stop(err)
	e.log.Warn("lease lost", "name", l.name, "node", e.cfg.Node, "token", l.token, "reason", reason)
}

func (e *PG) drop(l *pgLease) {
	e.mu.Lock()
	delete(e.held, l)
	e.mu.Unlock()
}

// release expires the lease now so another node can take it at its next
// attempt, and closes its history row. It is best effort, bounded by TTL/2
// even when ctx ended: a lease that cannot be released expires after TTL.
func (e *PG) release(ctx context.Context, name string, token int64, reason string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL/2)
	defer cancel()
	var n int64
	err := e.db.QueryRowContext(rctx, releaseSQL, name, token, e.cfg.Node, reason).Scan(&n)
	if err != nil {
		e.logDBError("lease release failed", name, fmt.Errorf("lease %q token %d: release: %w", name, token, err))
		return
	}
	e.log.Info("lease released", "name", name, "node", e.cfg.Node, "token", token, "reason", reason, "expired_now", n == 1)
}

// logDBError logs database errors at most once per errLogEvery, so an
// outage of the database yields a bounded number of lines.
func (e *PG) logDBError(msg, name string, err error) {
	e.errMu.Lock()
	now := time.Now()
	if !e.errLast.IsZero() && now.Sub(e.errLast) < errLogEvery {
		e.errSkipped++
		e.errMu.Unlock()
		return
	}
	skipped := e.errSkipped
	e.errLast, e.errSkipped = now, 0
	e.errMu.Unlock()
	e.log.Warn(msg, "name", name, "node", e.cfg.Node, "err", err, "suppressed", skipped)
}

// jitter returns d shortened by up to a tenth, so campaigning nodes do not
// stay in step.
func (e *PG) jitter(d time.Duration) time.Duration {
	if d < 10 {
		return d
	}
	return d - rand.N(d/10)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pgLease is one acquisition by a PG elector.
type pgLease struct {
	e     *PG
	name  string
	token int64
	since time.Time
	stop  context.CancelCauseFunc // cancels fn's context

	mu       sync.Mutex
	deadline time.Time // local monotonic: work must have stopped by then
	ended    error     // wraps ErrLost once the lease is lost or released
	why      string
}

func (l *pgLease) Name() string { return l.name }
func (l *pgLease) Token() int64 { return l.token }

// Check confirms in the database that this node still holds the lease
// with this token and that the local deadline has not passed. When it
// returns nil, the lease stays valid on the server for at least TTL/4.
// When the database answers that the lease expired or passed to another
// node, the lease ends as lost at once: fn's context is cancelled.
func (l *pgLease) Check(ctx context.Context) error {
	if err := l.localErr(); err != nil {
		return err
	}
	cctx, cancel := context.WithDeadline(ctx, l.deadlineAt())
	defer cancel()
	var ok bool
	err := l.e.db.QueryRowContext(cctx, checkSQL, l.name, l.token, l.e.cfg.Node).Scan(&ok)
	if err != nil {
		return fmt.Errorf("lease %q token %d: %w: not confirmed: %w", l.name, l.token, ErrLost, err)
	}
	if !ok {
		l.e.lose(l, "check: expired or taken over")
		return fmt.Errorf("lease %q token %d: %w: expired or taken over", l.name, l.token, ErrLost)
	}
	return l.localErr()
}

func (l *pgLease) localErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended != nil {
		return l.ended
	}
	if !time.Now().Before(l.deadline) {
		return fmt.Errorf("lease %q token %d: %w: renewal not confirmed in time", l.name, l.token, ErrLost)
	}
	return nil
}

func (l *pgLease) deadlineAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deadline
}

func (l *pgLease) extend(d time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended == nil && d.After(l.deadline) {
		l.deadline = d
	}
}

// end marks the lease ended with err unless it already was; it returns the
// earlier error (nil when this call ended it).
func (l *pgLease) end(err error, why string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended != nil {
		return l.ended
	}
	l.ended, l.why = err, why
	return nil
}

func (l *pgLease) reason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.why
}

// PruneHistory deletes the history of acquisitions released before
// keep ago (by the database server's clock) and returns how many rows
// went. Open acquisitions are kept whatever their age.
func (e *PG) PruneHistory(ctx context.Context, keep time.Duration) (int64, error) {
	res, err := e.db.ExecContext(ctx, `DELETE FROM ordergate_lease_history
		WHERE released_at IS NOT NULL AND released_at < clock_timestamp() - $1::bigint * interval '1 microsecond'`, keep.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("pruning the lease history: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("pruning the lease history: %w", err)
	}
	return n, nil
}
