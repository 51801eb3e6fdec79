package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ordergate/ordergate/normalize/order"
)

// On SQLite the canonical JSON of an order larger than compressAbove is
// stored as a zstd frame (a BLOB in the canonical column); smaller orders,
// and every order on PostgreSQL (whose TOAST compresses large values
// itself), as the JSON text. A 30-line order's 17 KB of JSON spread over
// five overflow pages, written to the log at its insert, at every status
// change and again at each checkpoint; compressed to about 2 KB it fits
// its table page, and the log a burst writes shrinks by more than half
// (docs/benchmarks.md). Readers get the JSON text either way
// (OrderRecord.Canonical): the column tells them apart by the frame's
// magic number, which JSON text cannot start with.
const compressAbove = 2048

// zstdMagic starts every zstd frame (RFC 8878).
const zstdMagic = "\x28\xb5\x2f\xfd"

var (
	// zstd's encoder and decoder may be used concurrently (EncodeAll,
	// DecodeAll); the fastest level compresses 17 KB of order JSON in
	// tens of microseconds, at about a seventh of its size. The archive's
	// small content goes through them too (blobArchive.smallBody).
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(64<<20))
)

// canonicalValue is the column value that stores canonical JSON b.
func (s *Store) canonicalValue(b []byte) any {
	if s.driver != DriverSQLite || len(b) <= compressAbove {
		return string(b)
	}
	return zstdEncoder.EncodeAll(b, make([]byte, 0, len(b)/4))
}

// canonicalText returns the JSON text a canonical column value stores.
func canonicalText(v string) (string, error) {
	if !strings.HasPrefix(v, zstdMagic) {
		return v, nil
	}
	b, err := zstdDecoder.DecodeAll([]byte(v), make([]byte, 0, 8*len(v)))
	if err != nil {
		return "", fmt.Errorf("decompressing canonical JSON: %w", err)
	}
	return string(b), nil
}

// StatusChange is an order's status change prepared from the record read
// (PrepareStatus), outside the write lock, for SetPreparedStatus to write
// under it: the JSON patched and encoded for the column beforehand.
type StatusChange struct {
	ID       string
	Revision int64 // the revision the change was prepared from
	Status   order.Status
	value    any // the patched canonical JSON as the column stores it
}

// PrepareStatus prepares the change of rec's status to status: the
// costly part of SetOrderStatus (patching and compressing the JSON),
// which needs no transaction.
func (s *Store) PrepareStatus(rec OrderRecord, status order.Status) (StatusChange, error) {
	return s.prepareStatus(rec.ID, rec.Revision, string(rec.Canonical), status)
}

// prepareStatus is PrepareStatus for the order id at revision whose JSON
// is canonical.
func (s *Store) prepareStatus(id string, revision int64, canonical string, status order.Status) (StatusChange, error) {
	patched, err := jsonSetTop(canonical, "status", string(status))
	if err != nil {
		return StatusChange{}, fmt.Errorf("setting status of order %s: %w", id, err)
	}
	return StatusChange{ID: id, Revision: revision, Status: status, value: s.canonicalValue([]byte(patched))}, nil
}

// SetPreparedStatus writes c if the order is still at the revision c was
// prepared from (its content and status as read then), and, with
// unlessOpen, has no delivery pending or being sent. It reports whether
// it wrote; when not, nothing changed and the caller goes the long way
// (OrderState, SetOrderStatusRevision).
func (t *Tx) SetPreparedStatus(ctx context.Context, c StatusChange, unlessOpen bool) (bool, error) {
	if err := t.flushOrders(ctx); err != nil {
		return false, err
	}
	return t.writeStatus(ctx, c, unlessOpen)
}

// writeStatus is SetPreparedStatus once the held writes are written.
func (t *Tx) writeStatus(ctx context.Context, c StatusChange, unlessOpen bool) (bool, error) {
	query := `UPDATE orders SET revision = revision + 1, status = ?, updated_at = ?, canonical = ? WHERE id = ? AND revision = ?`
	args := []any{c.Status, nanos(t.s.clock()), c.value, c.ID, c.Revision}
	if unlessOpen {
		query += ` AND NOT EXISTS (SELECT 1 FROM deliveries WHERE order_id = orders.id AND status IN (?, ?))`
		args = append(args, DeliveryPending, DeliverySending)
	}
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("setting status of order %s: %w", c.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("setting status of order %s: %w", c.ID, err)
	}
	return n == 1, nil
}
