package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// AckStatus is where an outgoing acknowledgement stands.
type AckStatus string

// The ack statuses.
const (
	AckPending AckStatus = "pending"
	AckSent    AckStatus = "sent"
	AckFailed  AckStatus = "failed" // given up on
)

// Ack kinds; other kinds are allowed.
const (
	AckTA1    = "TA1"
	Ack997    = "997"
	Ack999    = "999"
	AckCONTRL = "CONTRL"
	Ack855    = "855"
	AckORDRSP = "ORDRSP"
	AckEmail  = "email"
)

// AckInput is an acknowledgement produced for a document, whose bytes are
// already in the archive.
type AckInput struct {
	DocumentID  string
	PartnerID   string
	Kind        string
	SHA256      archive.Hash
	Destination string // channel name to send it through
	// Body, when set, is kept in the row and SHA256 is computed from it;
	// the archive is not consulted. Meant for small acks written under the
	// write lock, where an archive fsync per ack would hold it too long.
	Body []byte
}

// Ack is an acknowledgement in the outbox.
type Ack struct {
	ID            string
	DocumentID    string
	PartnerID     string
	Kind          string
	SHA256        archive.Hash
	Destination   string
	Status        AckStatus
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	SentAt        time.Time // zero until sent
	LastError     string
	// Body is the ack's bytes when they are kept in the row (nil when they
	// are in the archive under SHA256).
	Body []byte
}

const ackColumns = `id, document_id, partner_id, kind, sha256, destination, status, attempts, next_attempt_at,
	created_at, sent_at, last_error, body`

func scanAck(row interface{ Scan(...any) error }) (Ack, error) {
	var a Ack
	var sum string
	var next, created int64
	var sent sql.NullInt64
	err := row.Scan(&a.ID, &a.DocumentID, &a.PartnerID, &a.Kind, &sum, &a.Destination, &a.Status, &a.Attempts,
		&next, &created, &sent, &a.LastError, &a.Body)
	if err != nil {
		return Ack{}, err
	}
	if a.SHA256, err = archive.ParseHash(sum); err != nil {
		return Ack{}, fmt.Errorf("ack %s: %w", a.ID, err)
	}
	a.NextAttemptAt, a.CreatedAt, a.SentAt = fromNanos(next), fromNanos(created), fromNullNanos(sent)
	return a, nil
}

// InsertAck puts an acknowledgement in the outbox, pending and due now. It
// is idempotent on (DocumentID, Kind): an ack is produced once per document
// and kind; a second insert returns the stored one and created=false. The
// content must be in the archive (ErrMissingContent otherwise).
func (t *Tx) InsertAck(ctx context.Context, in AckInput) (ack Ack, created bool, err error) {
	if in.Body != nil {
		in.SHA256 = archive.Sum(in.Body)
	}
	if in.DocumentID == "" || in.Kind == "" || in.Destination == "" || in.SHA256.IsZero() {
		return Ack{}, false, fmt.Errorf("inserting ack: %w: document id, kind, destination and hash are required", ErrInvalid)
	}
	if in.Body != nil {
		// kept in the row
	} else if _, err := t.statContent(ctx, in.SHA256); errors.Is(err, archive.ErrNotFound) {
		return Ack{}, false, fmt.Errorf("inserting %s ack of %s: %w: %s", in.Kind, in.DocumentID, ErrMissingContent, in.SHA256)
	} else if err != nil {
		return Ack{}, false, fmt.Errorf("inserting %s ack of %s: %w", in.Kind, in.DocumentID, err)
	}
	now := t.s.clock()
	id := t.s.newID("ack", now)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO acks (`+ackColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, '', ?)
		ON CONFLICT (document_id, kind) DO NOTHING`,
		id, in.DocumentID, in.PartnerID, in.Kind, in.SHA256.String(), in.Destination, AckPending,
		nanos(now), nanos(now), in.Body)
	if err != nil {
		return Ack{}, false, fmt.Errorf("inserting %s ack of %s: %w", in.Kind, in.DocumentID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Ack{}, false, fmt.Errorf("inserting %s ack of %s: %w", in.Kind, in.DocumentID, err)
	}
	if n == 1 {
		// The row is what was inserted (TestInsertAckReturnsRow).
		tx := t.tx.rb.text
		return Ack{ID: id, DocumentID: tx(in.DocumentID), PartnerID: tx(in.PartnerID), Kind: tx(in.Kind), SHA256: in.SHA256,
			Destination: tx(in.Destination), Status: AckPending, NextAttemptAt: fromNanos(nanos(now)),
			CreatedAt: fromNanos(nanos(now)), Body: bytes.Clone(in.Body)}, true, nil
	}
	// The ack was there: the stored row.
	ack, err = scanAck(t.tx.QueryRowContext(ctx, `SELECT `+ackColumns+` FROM acks WHERE document_id = ? AND kind = ?`,
		in.DocumentID, in.Kind))
	if err != nil {
		return Ack{}, false, fmt.Errorf("reading %s ack of %s: %w", in.Kind, in.DocumentID, err)
	}
	return ack, false, nil
}

func queryAcks(ctx context.Context, q querier, doing, where string, args ...any) ([]Ack, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ackColumns+` FROM acks WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	defer rows.Close()
	var out []Ack
	for rows.Next() {
		a, err := scanAck(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", doing, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

func pendingAcks(ctx context.Context, q querier, now time.Time, limit int) ([]Ack, error) {
	return queryAcks(ctx, q, "listing pending acks", `status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
		AckPending, nanos(now), pageSize(limit))
}

// PendingAcks returns up to limit pending acks that are due by the store's
// clock, the longest-waiting first.
func (t *Tx) PendingAcks(ctx context.Context, limit int) ([]Ack, error) {
	return pendingAcks(ctx, t.tx, t.s.clock(), limit)
}

// PendingAcks is Tx.PendingAcks over committed data.
func (s *Store) PendingAcks(ctx context.Context, limit int) ([]Ack, error) {
	var out []Ack
	err := s.read(ctx, func(q querier) (err error) { out, err = pendingAcks(ctx, q, s.clock(), limit); return err })
	return out, err
}

// AcksOfDocument returns the acks produced for a document.
func (s *Store) AcksOfDocument(ctx context.Context, docID string) ([]Ack, error) {
	var out []Ack
	err := s.read(ctx, func(q querier) (err error) {
		out, err = queryAcks(ctx, q, "listing acks of "+docID, `document_id = ? ORDER BY created_at, id`, docID)
		return err
	})
	return out, err
}

// GetAck returns the ack with id, or ErrNotFound.
func (t *Tx) GetAck(ctx context.Context, id string) (Ack, error) {
	acks, err := queryAcks(ctx, t.tx, "reading ack "+id, `id = ?`, id)
	if err != nil {
		return Ack{}, err
	}
	if len(acks) == 0 {
		return Ack{}, fmt.Errorf("reading ack %s: %w", id, ErrNotFound)
	}
	return acks[0], nil
}

// MarkAckSent records that a pending ack was sent (ErrTransition when it is
// not pending).
func (t *Tx) MarkAckSent(ctx context.Context, id string) error {
	now := nanos(t.s.clock())
	res, err := t.tx.ExecContext(ctx, `UPDATE acks SET status = ?, sent_at = ?, attempts = attempts + 1, last_error = ''
		WHERE id = ? AND status = ?`, AckSent, now, id, AckPending)
	if err != nil {
		return fmt.Errorf("marking ack %s sent: %w", id, err)
	}
	return t.ackTransition(ctx, res, id, "marking ack "+id+" sent")
}

// MarkAckFailed records a failed attempt to send a pending ack: it stays
// pending and is due again at nextAt, or, when nextAt is zero, is given up
// (status failed).
func (t *Tx) MarkAckFailed(ctx context.Context, id, cause string, nextAt time.Time) error {
	status, next := AckPending, nextAt
	if nextAt.IsZero() {
		status, next = AckFailed, t.s.clock()
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE acks SET status = ?, next_attempt_at = ?, attempts = attempts + 1, last_error = ?
		WHERE id = ? AND status = ?`, status, nanos(next), cause, id, AckPending)
	if err != nil {
		return fmt.Errorf("marking ack %s failed: %w", id, err)
	}
	return t.ackTransition(ctx, res, id, "marking ack "+id+" failed")
}

// ackTransition turns "no row changed" into ErrNotFound or ErrTransition.
func (t *Tx) ackTransition(ctx context.Context, res sql.Result, id, doing string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if n == 1 {
		return nil
	}
	a, err := t.GetAck(ctx, id)
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return fmt.Errorf("%s: ack is %s: %w", doing, a.Status, ErrTransition)
}

// NextControlNumber returns the next control number for (partner, kind)
// (an ISA13, GS06, ST02, UNB 0020 counter), starting at 1 and wrapping
// from 999999999 to 1. It is atomic: two transactions never get the same
// number while it has not wrapped.
func (t *Tx) NextControlNumber(ctx context.Context, partnerID, kind string) (int64, error) {
	if kind == "" {
		return 0, fmt.Errorf("next control number: %w: kind is required", ErrInvalid)
	}
	var v int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO control_numbers (partner_id, kind, last_value) VALUES (?, ?, 1)
		ON CONFLICT (partner_id, kind) DO UPDATE SET last_value =
			CASE WHEN control_numbers.last_value >= ? THEN 1 ELSE control_numbers.last_value + 1 END
		RETURNING last_value`, partnerID, kind, MaxControlNumber).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next %s control number of %s: %w", kind, partnerID, err)
	}
	return v, nil
}

// MaxControlNumber is the last control number before wrapping to 1 (nine
// digits, the width of ISA13).
const MaxControlNumber = 999999999

// SetControlNumber sets the last control number used for (partner, kind),
// for an import from a previous system.
func (t *Tx) SetControlNumber(ctx context.Context, partnerID, kind string, last int64) error {
	if kind == "" || last < 0 || last > MaxControlNumber {
		return fmt.Errorf("setting control number: %w: kind %q, value %d", ErrInvalid, kind, last)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO control_numbers (partner_id, kind, last_value) VALUES (?, ?, ?)
		ON CONFLICT (partner_id, kind) DO UPDATE SET last_value = excluded.last_value`, partnerID, kind, last)
	if err != nil {
		return fmt.Errorf("setting %s control number of %s: %w", kind, partnerID, err)
	}
	return nil
}

// ReserveControlNumbers reserves the next n control numbers of a partner
// and kind at once and returns the first: the caller hands out first ..
// first+n-1 itself (a block allocator outside the write transactions that
// use them). Numbers left unused when a process stops are skipped, never
// reused. At the wrap the block starts again at 1.
func (t *Tx) ReserveControlNumbers(ctx context.Context, partnerID, kind string, n int64) (first int64, err error) {
	if kind == "" || n < 1 || n > MaxControlNumber {
		return 0, fmt.Errorf("reserving control numbers: %w: a kind and 1 <= n <= %d are required", ErrInvalid, MaxControlNumber)
	}
	var last int64
	err = t.tx.QueryRowContext(ctx, `INSERT INTO control_numbers (partner_id, kind, last_value) VALUES (?, ?, ?)
		ON CONFLICT (partner_id, kind) DO UPDATE SET last_value =
			CASE WHEN control_numbers.last_value + ? > ? THEN ? ELSE control_numbers.last_value + ? END
		RETURNING last_value`, partnerID, kind, n, n, MaxControlNumber, n, n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserving %d %s control numbers of %s: %w", n, kind, partnerID, err)
	}
	return last - n + 1, nil
}
