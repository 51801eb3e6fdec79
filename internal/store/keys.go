package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KeyLayer is the level at which a duplicate is recognised.
type KeyLayer string

// The duplicate-key layers.
const (
	// LayerTransport: channel + source key + content hash.
	LayerTransport KeyLayer = "transport"
	// LayerEnvelope: sender + interchange/group/message control numbers.
	LayerEnvelope KeyLayer = "envelope"
	// LayerBusiness: customer + PO number + purpose.
	LayerBusiness KeyLayer = "business"
	// LayerMessage: a mail's sender + Message-ID, or the hash of the mail
	// without its trace header fields when it has no Message-ID.
	LayerMessage KeyLayer = "message"
)

// DuplicateKey is the holder of a key: the document (and order) that
// claimed it first.
type DuplicateKey struct {
	Layer           KeyLayer
	Key             string
	FirstDocumentID string
	FirstOrderID    string
	CreatedAt       time.Time
	ExpiresAt       time.Time // zero: never expires
}

// ClaimKey claims (layer, key) for the document (and order, "" when none)
// for ttl (ttl <= 0: forever). It returns nil when the claim succeeded, or
// when the key is already held by this same document and order (a re-run
// of the stage). It returns the holder when another unexpired claim holds
// the key. An expired claim is replaced.
func (t *Tx) ClaimKey(ctx context.Context, layer KeyLayer, key, docID, orderID string, ttl time.Duration) (existing *DuplicateKey, err error) {
	if layer == "" || key == "" {
		return nil, fmt.Errorf("claiming key: %w: layer and key are required", ErrInvalid)
	}
	now := t.s.clock()
	var expires sql.NullInt64
	if ttl > 0 {
		expires = sql.NullInt64{Int64: nanos(now.Add(ttl)), Valid: true}
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO duplicate_keys (layer, key, first_document_id, first_order_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (layer, key) DO UPDATE SET first_document_id = excluded.first_document_id,
			first_order_id = excluded.first_order_id, created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE duplicate_keys.expires_at IS NOT NULL AND duplicate_keys.expires_at <= ?`,
		layer, key, docID, orderID, nanos(now), expires, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("claiming %s key %q: %w", layer, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("claiming %s key %q: %w", layer, key, err)
	}
	if n == 1 {
		return nil, nil
	}
	holder, err := getKey(ctx, t.tx, layer, key)
	if err != nil {
		return nil, fmt.Errorf("claiming key: %w", err)
	}
	if holder.FirstDocumentID == docID && holder.FirstOrderID == orderID {
		return nil, nil
	}
	return &holder, nil
}

func getKey(ctx context.Context, q querier, layer KeyLayer, key string) (DuplicateKey, error) {
	k := DuplicateKey{Layer: layer, Key: key}
	var created int64
	var expires sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT first_document_id, first_order_id, created_at, expires_at
		FROM duplicate_keys WHERE layer = ? AND key = ?`, layer, key).Scan(&k.FirstDocumentID, &k.FirstOrderID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return DuplicateKey{}, fmt.Errorf("reading %s key %q: %w", layer, key, ErrNotFound)
	}
	if err != nil {
		return DuplicateKey{}, fmt.Errorf("reading %s key %q: %w", layer, key, err)
	}
	k.CreatedAt, k.ExpiresAt = fromNanos(created), fromNullNanos(expires)
	return k, nil
}

// GetKey returns the holder of (layer, key), expired or not, or
// ErrNotFound.
func (t *Tx) GetKey(ctx context.Context, layer KeyLayer, key string) (DuplicateKey, error) {
	return getKey(ctx, t.tx, layer, key)
}

// DeleteExpiredKeys removes the claims that expired at or before now and
// returns how many.
func (t *Tx) DeleteExpiredKeys(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM duplicate_keys WHERE expires_at IS NOT NULL AND expires_at <= ?`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("deleting expired keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("deleting expired keys: %w", err)
	}
	return n, nil
}
