package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// Archive is the content-addressed store of raw bytes that Store.Archive
// returns: the file archive (*archive.Archive) or, with
// Options.ArchiveInDB, the database's tables archive_blobs and
// archive_chunks. Both keep the same promises: Put is idempotent and
// durable when it returns, PutExpect stores nothing when the bytes differ
// from what was announced (archive.ErrMismatch), Open's reader reports
// archive.ErrCorrupt at the end of content that no longer matches its
// hash, and a missing hash is archive.ErrNotFound.
type Archive interface {
	// Put stores the content read from r until EOF and returns its hash
	// and size.
	Put(ctx context.Context, r io.Reader) (archive.Hash, int64, error)
	// PutExpect is Put for content whose size and hash were announced (a
	// negative size or a zero hash is not checked).
	PutExpect(ctx context.Context, r io.Reader, size int64, want archive.Hash) (archive.Hash, int64, error)
	// Open returns the content with hash h.
	Open(h archive.Hash) (io.ReadCloser, error)
	// Stat returns the size of the content with hash h.
	Stat(h archive.Hash) (int64, error)
	// Verify reads the content with hash h and reports archive.ErrCorrupt
	// when it does not match h.
	Verify(ctx context.Context, h archive.Hash) error
}

var (
	_ Archive = (*archive.Archive)(nil)
	_ Archive = (*blobArchive)(nil)
)

// blobArchive keeps the raw bytes in the database: archive_blobs (sha256
// hex primary key, size, body: the first BlobChunk bytes) and, for content
// larger than one chunk, archive_chunks (sha256, seq 1, 2, ..., data: the
// following chunks). Content is streamed chunk by chunk both ways, so a
// document of any size needs about one chunk of memory. Put commits on
// its own; Tx.PutContent writes in the caller's transaction (SQLite's
// intake, whose commit is then the only fsync).
//
// files, when set, is the file archive of an earlier configuration:
// content the database lacks is looked up there (read only), so that
// switching a deployment from files to the database needs no migration.
type blobArchive struct {
	s     *Store
	files *archive.Archive
}

// blobTimeout bounds the archive methods that take no context (Open and
// Stat, whose signatures the file archive fixed): each query of them.
const blobTimeout = time.Minute

// BlobChunk is the size of the pieces the database archive stores content
// in: the whole content when it is smaller, one archive_blobs row.
const BlobChunk = 256 << 10

// chunkPool holds the buffers put reads chunks into.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, BlobChunk); return &b }}

// Put stores the content read from r until EOF in a transaction of its
// own.
func (a *blobArchive) Put(ctx context.Context, r io.Reader) (archive.Hash, int64, error) {
	return a.putOwn(ctx, r, -1, archive.Hash{})
}

// PutExpect is Put that checks the announced size and hash.
func (a *blobArchive) PutExpect(ctx context.Context, r io.Reader, size int64, want archive.Hash) (archive.Hash, int64, error) {
	return a.putOwn(ctx, r, size, want)
}

// putOwn stores the content in a transaction of its own. Without an
// announced hash the content must be hashed before it is stored (the rows
// are keyed by it): the bytes are kept in memory up to one chunk, and a
// larger content is stored under a temporary key and renamed once hashed.
func (a *blobArchive) putOwn(ctx context.Context, r io.Reader, wantSize int64, wantHash archive.Hash) (archive.Hash, int64, error) {
	var h archive.Hash
	var n int64
	err := a.s.Write(ctx, func(tx *Tx) error {
		var err error
		h, n, err = a.put(ctx, tx.tx, r, wantSize, wantHash)
		return err
	})
	if err != nil {
		return archive.Hash{}, 0, err
	}
	return h, n, nil
}

// PutContent stores the content read from r, whose size and hash the
// caller computed (a negative size or a zero hash: not known), in the
// transaction: it is committed with the rows that refer to it or not at
// all. With the file archive it is the archive's PutExpect (durable
// before the transaction commits). Content the database archive already
// has (deduplicated by hash) is not read when its hash is given.
func (t *Tx) PutContent(ctx context.Context, r io.Reader, size int64, h archive.Hash) (archive.Hash, int64, error) {
	b, ok := t.s.archive.(*blobArchive)
	if !ok {
		return t.s.archive.PutExpect(ctx, r, size, h)
	}
	h, n, err := b.put(ctx, t.tx, r, size, h)
	if err == nil {
		t.stored(h, n)
	}
	return h, n, err
}

// stored notes content stored in the transaction: InsertDocument and
// InsertAck check that their content is stored, and in it, it is.
func (t *Tx) stored(h archive.Hash, n int64) {
	if t.put == nil {
		t.put = make(map[archive.Hash]int64)
	}
	t.put[h] = n
}

// putSmall stores content of one chunk, of hash h and size bytes, whose
// body column value is body (smallBody). It is stored once, also by a
// concurrent Put of the same content (PostgreSQL); content stored before
// is touched instead (as stored does), and its size must be this one.
func (a *blobArchive) putSmall(ctx context.Context, q querier, h archive.Hash, size int64, body []byte) error {
	var n int64
	err := q.QueryRowContext(ctx, `INSERT INTO archive_blobs (sha256, size, body, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at
		RETURNING size`, h.String(), size, body, nanos(a.s.clock())).Scan(&n)
	if err != nil {
		return fmt.Errorf("archiving %s in the database: %w", h, err)
	}
	if n != size {
		return fmt.Errorf("archiving %s in the database: %d bytes, stored content has %d: %w",
			h, size, n, archive.ErrMismatch)
	}
	return nil
}

// PreparedContent is raw content of one chunk made ready for
// Tx.PutPrepared outside the write lock: read, hashed, and compressed
// where the column stores it so (smallBody).
type PreparedContent struct {
	hash archive.Hash
	size int64
	body []byte
}

// Hash is the content's hash.
func (c *PreparedContent) Hash() archive.Hash { return c.hash }

// Size is the content's size in bytes.
func (c *PreparedContent) Size() int64 { return c.size }

// PrepareContent reads r and returns its content prepared for
// Tx.PutPrepared when the transaction stores it (ArchiveInTx) and it fits
// in one chunk; nil otherwise, having read at most one chunk (the caller
// then stores it with Tx.PutContent).
func (s *Store) PrepareContent(ctx context.Context, r io.Reader) (*PreparedContent, error) {
	a, ok := s.archive.(*blobArchive)
	if !ok || !s.ArchiveInTx() {
		return nil, nil
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	k, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("archiving: reading: %w", err)
	}
	if k == len(buf) {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("archiving: %w", err)
	}
	body := a.smallBody(buf[:k])
	if len(body) == k {
		body = bytes.Clone(body) // buf goes back to the pool
	}
	return &PreparedContent{hash: archive.Sum(buf[:k]), size: int64(k), body: body}, nil
}

// PutPrepared stores content PrepareContent prepared in the transaction,
// as PutContent does.
func (t *Tx) PutPrepared(ctx context.Context, c *PreparedContent) error {
	b, ok := t.s.archive.(*blobArchive)
	if !ok {
		return errors.New("archiving prepared content: the archive is not the database's")
	}
	if err := b.putSmall(ctx, t.tx, c.hash, c.size, c.body); err != nil {
		return err
	}
	t.stored(c.hash, c.size)
	return nil
}

// ArchiveInTx reports whether intake should store raw content with
// Tx.PutContent in its transaction rather than with Archive().Put before
// it: true for the database archive on SQLite, where the transaction's
// commit is then the only fsync (a Put of its own is one more commit per
// document, serialized behind the write lock). On PostgreSQL a Put of its
// own runs concurrently with other transactions, and the file archive
// fsyncs in parallel outside the write lock.
func (s *Store) ArchiveInTx() bool {
	_, ok := s.archive.(*blobArchive)
	return ok && s.driver != DriverPostgres
}

// put stores the content read from r with the queries of q (a
// transaction). Content whose hash is known (announced, or computed
// because it fits in one chunk) and already stored is not stored again
// (and not read at all when the hash was announced).
// Larger content of unknown hash is stored under a temporary key, unique
// to the call, and renamed once hashed.
func (a *blobArchive) put(ctx context.Context, q querier, r io.Reader, wantSize int64, wantHash archive.Hash) (archive.Hash, int64, error) {
	// Small content of known size is read and stored (or its stored
	// copy touched) in one statement; other content announced by its
	// hash is looked for first, so that it is not read when stored.
	small := wantSize >= 0 && wantSize < BlobChunk
	if !wantHash.IsZero() && !small {
		if h, n, found, err := a.stored(ctx, q, wantHash, wantSize); found || err != nil {
			return h, n, err
		}
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	k, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return archive.Hash{}, 0, fmt.Errorf("archiving in the database: reading: %w", err)
	}
	h := wantHash
	if k < len(buf) {
		// All of it: checked and hashed before anything is stored.
		got := archive.Sum(buf[:k])
		if (wantSize >= 0 && int64(k) != wantSize) || (!wantHash.IsZero() && got != wantHash) {
			return archive.Hash{}, 0, mismatch(int64(k), got, wantSize, wantHash)
		}
		if err := a.putSmall(ctx, q, got, int64(k), a.smallBody(buf[:k])); err != nil {
			return archive.Hash{}, 0, err
		}
		return got, int64(k), nil
	}

	// More than one chunk: streamed.
	key := h.String()
	if h.IsZero() {
		// Unique, and 64 characters (PostgreSQL checks the length) that
		// are never 64 lower-case hex digits.
		key = a.s.newID("tmp", a.s.clock())
		key += strings.Repeat("_", max(0, 64-len(key)))
	}
	hw := sha256.New()
	var n int64
	for seq := 0; ; seq++ {
		hw.Write(buf[:k])
		n += int64(k)
		if wantSize >= 0 && n > wantSize {
			break // a mismatch, reported below
		}
		if seq == 0 {
			_, err = q.ExecContext(ctx, `INSERT INTO archive_blobs (sha256, size, body, created_at) VALUES (?, ?, ?, ?)`,
				key, n, buf[:k], nanos(a.s.clock()))
		} else {
			_, err = q.ExecContext(ctx, `INSERT INTO archive_chunks (sha256, seq, data) VALUES (?, ?, ?)`, key, seq, buf[:k])
		}
		if err != nil {
			return archive.Hash{}, 0, fmt.Errorf("archiving in the database: storing chunk %d: %w", seq, err)
		}
		if k < len(buf) {
			break
		}
		if err := ctx.Err(); err != nil {
			return archive.Hash{}, 0, fmt.Errorf("archiving in the database: %w", err)
		}
		k, err = io.ReadFull(r, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return archive.Hash{}, 0, fmt.Errorf("archiving in the database: reading: %w", err)
		}
		if k == 0 {
			break
		}
	}
	var got archive.Hash
	hw.Sum(got[:0])
	if (wantSize >= 0 && n != wantSize) || (!wantHash.IsZero() && got != wantHash) {
		// Nothing of it may stay: the transaction goes on (a batch's
		// other documents), so its rows are removed here.
		if err := a.remove(ctx, q, key); err != nil {
			return archive.Hash{}, 0, fmt.Errorf("archiving in the database: removing mismatched content: %w", err)
		}
		return archive.Hash{}, 0, mismatch(n, got, wantSize, wantHash)
	}
	if h.IsZero() {
		// Hashed now: kept under its hash, unless it was there already.
		_, err := a.touch(ctx, q, got)
		switch {
		case err == nil:
			if err := a.remove(ctx, q, key); err != nil {
				return archive.Hash{}, 0, fmt.Errorf("archiving %s in the database: %w", got, err)
			}
			return got, n, nil
		case !errors.Is(err, archive.ErrNotFound):
			return archive.Hash{}, 0, fmt.Errorf("archiving %s in the database: %w", got, err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE archive_chunks SET sha256 = ? WHERE sha256 = ?`, got.String(), key); err != nil {
			return archive.Hash{}, 0, fmt.Errorf("archiving %s in the database: %w", got, err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE archive_blobs SET sha256 = ? WHERE sha256 = ?`, got.String(), key); err != nil {
			return archive.Hash{}, 0, fmt.Errorf("archiving %s in the database: %w", got, err)
		}
		key = got.String()
	}
	if _, err := q.ExecContext(ctx, `UPDATE archive_blobs SET size = ? WHERE sha256 = ?`, n, key); err != nil {
		return archive.Hash{}, 0, fmt.Errorf("archiving %s in the database: %w", got, err)
	}
	return got, n, nil
}

func mismatch(n int64, got archive.Hash, wantSize int64, wantHash archive.Hash) error {
	return fmt.Errorf("archiving in the database: got %d bytes with hash %s, want %d bytes with hash %s: %w",
		n, got, wantSize, wantHash, archive.ErrMismatch)
}

// stored reports whether the content with hash h is stored (and renews
// it, see touch), with its size; found with an error when the size
// differs from the announced one.
func (a *blobArchive) stored(ctx context.Context, q querier, h archive.Hash, wantSize int64) (archive.Hash, int64, bool, error) {
	n, err := a.touch(ctx, q, h)
	switch {
	case errors.Is(err, archive.ErrNotFound):
		return archive.Hash{}, 0, false, nil
	case err != nil:
		return archive.Hash{}, 0, false, fmt.Errorf("archiving %s in the database: %w", h, err)
	case wantSize >= 0 && n != wantSize:
		return archive.Hash{}, 0, true, fmt.Errorf("archiving %s in the database: announced %d bytes, stored content has %d: %w",
			h, wantSize, n, archive.ErrMismatch)
	}
	return h, n, true, nil
}

// touch is stat for content about to be referred to again: it renews
// the content's created_at, so that PruneArchive, which deletes only
// content unreferenced and older than its grace period, leaves it alone
// (on PostgreSQL the row lock also orders it with a concurrent prune: a
// content deleted first is not found and stored again).
func (a *blobArchive) touch(ctx context.Context, q querier, h archive.Hash) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `UPDATE archive_blobs SET created_at = ? WHERE sha256 = ? RETURNING size`,
		nanos(a.s.clock()), h.String()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("stating %s: %w", h, archive.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stating %s: %w", h, err)
	}
	return n, nil
}

// PruneArchive deletes the database archive's content that no document
// or ack refers to and that was last stored before the given time, in
// batches, and returns how many contents it deleted. Such content is
// left by a Put whose row was never committed (PostgreSQL's intake, a
// caller that failed in between); keep a grace period of hours, as a Put
// of its own commits before the row that refers to it. With the file
// archive it deletes nothing (the file archive keeps everything).
func (s *Store) PruneArchive(ctx context.Context, before time.Time) (int64, error) {
	if _, ok := s.archive.(*blobArchive); !ok {
		return 0, nil
	}
	var total int64
	for {
		var n int64
		err := s.Write(ctx, func(tx *Tx) error {
			n = 0
			rows, err := tx.tx.QueryContext(ctx, `SELECT sha256 FROM archive_blobs b WHERE created_at < ?
				AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.sha256 = b.sha256)
				AND NOT EXISTS (SELECT 1 FROM acks k WHERE k.sha256 = b.sha256 AND k.body IS NULL)
				LIMIT 200`, nanos(before))
			if err != nil {
				return err
			}
			var keys []string
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					rows.Close()
					return err
				}
				keys = append(keys, k)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, k := range keys {
				// Checked again in the statement: on PostgreSQL a row may
				// have been committed since the query, or the content
				// stored again (touched).
				res, err := tx.tx.ExecContext(ctx, `DELETE FROM archive_blobs WHERE sha256 = ? AND created_at < ?
					AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.sha256 = archive_blobs.sha256)
					AND NOT EXISTS (SELECT 1 FROM acks k WHERE k.sha256 = archive_blobs.sha256 AND k.body IS NULL)`, k, nanos(before))
				if err != nil {
					return err
				}
				if c, _ := res.RowsAffected(); c == 0 {
					continue
				}
				if _, err := tx.tx.ExecContext(ctx, `DELETE FROM archive_chunks WHERE sha256 = ?`, k); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("pruning the archive: %w", err)
		}
		if n <= 0 {
			return total, nil
		}
		total += n
	}
}

// remove deletes the content stored under key.
func (a *blobArchive) remove(ctx context.Context, q querier, key string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM archive_chunks WHERE sha256 = ?`, key); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM archive_blobs WHERE sha256 = ?`, key)
	return err
}

// Stat returns the size of the content with hash h.
func (a *blobArchive) Stat(h archive.Hash) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout)
	defer cancel()
	return a.statOrFile(ctx, a.s.readQuerier(), h)
}

// statOrFile is stat, then the file archive of an earlier configuration.
func (a *blobArchive) statOrFile(ctx context.Context, q querier, h archive.Hash) (int64, error) {
	n, err := a.stat(ctx, q, h)
	if errors.Is(err, archive.ErrNotFound) && a.files != nil {
		return a.files.Stat(h)
	}
	return n, err
}

func (a *blobArchive) stat(ctx context.Context, q querier, h archive.Hash) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT size FROM archive_blobs WHERE sha256 = ?`, h.String()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("stating %s: %w", h, archive.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stating %s: %w", h, err)
	}
	return n, nil
}

// Open returns the content with hash h, read one chunk at a time; the
// reader reports archive.ErrCorrupt at its end when the bytes do not
// match h. Content the database lacks is opened in the file archive of
// an earlier configuration, if any.
func (a *blobArchive) Open(h archive.Hash) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout)
	defer cancel()
	var body []byte
	var size int64
	err := a.s.readQuerier().QueryRowContext(ctx, `SELECT size, body FROM archive_blobs WHERE sha256 = ?`,
		h.String()).Scan(&size, &body)
	if errors.Is(err, sql.ErrNoRows) {
		if a.files != nil {
			return a.files.Open(h)
		}
		return nil, fmt.Errorf("opening %s: %w", h, archive.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", h, err)
	}
	if compressedBody(body, size) {
		if body, err = zstdDecoder.DecodeAll(body, make([]byte, 0, size)); err != nil {
			return nil, fmt.Errorf("opening %s: decompressing: %v: %w", h, err, archive.ErrCorrupt)
		}
	}
	r := &blobReader{a: a, want: h, size: size, hw: sha256.New()}
	r.load(body)
	return r, nil
}

// compressContentAbove: on SQLite, content of one chunk larger than this
// is stored as a zstd frame when that is smaller (a 30-line X12 850 of
// 2.5 KB takes about 700 bytes: four to a page instead of one). On
// PostgreSQL TOAST compresses large values itself.
const compressContentAbove = 512

// smallBody is the body column of content b of one chunk: b, or on
// SQLite b compressed when that is smaller.
func (a *blobArchive) smallBody(b []byte) []byte {
	if a.s.driver != DriverSQLite || len(b) <= compressContentAbove {
		return b
	}
	if z := zstdEncoder.EncodeAll(b, make([]byte, 0, len(b)/2)); len(z) < len(b) {
		return z
	}
	return b
}

// compressedBody reports whether the body of content of size bytes is
// compressed (smallBody): shorter than the content, which fits in one
// chunk (a longer content's body is its first chunk, of BlobChunk bytes).
func compressedBody(body []byte, size int64) bool {
	return int64(len(body)) < size && size < BlobChunk
}

// Verify reads the content with hash h and reports archive.ErrCorrupt when
// it does not match h.
func (a *blobArchive) Verify(ctx context.Context, h archive.Hash) error {
	rc, err := a.Open(h)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := archive.CopyContext(ctx, io.Discard, rc); err != nil {
		return fmt.Errorf("verifying %s: %w", h, err)
	}
	return nil
}

// blobReader reads a content chunk by chunk (one query per chunk, so no
// read transaction stays open while a slow client downloads) and, at its
// end, checks its hash and size.
type blobReader struct {
	a    *blobArchive
	want archive.Hash
	size int64
	hw   hash.Hash
	buf  []byte // the current chunk's unread bytes
	own  []byte // the buffer chunks after the first are read into
	read int64  // bytes of the content loaded so far
	seq  int    // the current chunk
	err  error
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for len(r.buf) == 0 {
		if r.read >= r.size {
			var got archive.Hash
			r.hw.Sum(got[:0])
			if got != r.want || r.read != r.size {
				r.err = fmt.Errorf("reading %s: %d bytes hash to %s: %w", r.want, r.read, got, archive.ErrCorrupt)
				return 0, r.err
			}
			r.err = io.EOF
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// load makes chunk the current one.
func (r *blobReader) load(chunk []byte) {
	r.hw.Write(chunk)
	r.read += int64(len(chunk))
	if r.read > r.size {
		r.err = fmt.Errorf("reading %s: more than the %d bytes recorded: %w", r.want, r.size, archive.ErrCorrupt)
	}
	r.buf = chunk
}

// next loads the following chunk into the reader's own buffer.
func (r *blobReader) next() error {
	r.seq++
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout)
	defer cancel()
	rows, err := r.a.s.readQuerier().QueryContext(ctx, `SELECT data FROM archive_chunks WHERE sha256 = ? AND seq = ?`,
		r.want.String(), r.seq)
	if err != nil {
		return fmt.Errorf("reading %s: chunk %d: %w", r.want, r.seq, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading %s: chunk %d: %w", r.want, r.seq, err)
		}
		return fmt.Errorf("reading %s: chunk %d is missing after %d of %d bytes: %w", r.want, r.seq, r.read, r.size, archive.ErrCorrupt)
	}
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return fmt.Errorf("reading %s: chunk %d: %w", r.want, r.seq, err)
	}
	if len(raw) == 0 {
		return fmt.Errorf("reading %s: chunk %d is empty: %w", r.want, r.seq, archive.ErrCorrupt)
	}
	chunk := append(r.own[:0], raw...)
	r.own = chunk[:0]
	r.load(chunk)
	if r.err != nil {
		return r.err
	}
	return rows.Close()
}

func (r *blobReader) Close() error { return nil }

// readQuerier is the read pool.
func (s *Store) readQuerier() querier { return querier{q: s.reader, rb: s.rb} }

// statContent returns the size of the content with hash h in the store's
// archive, read in the transaction when the archive is the database's.
func (t *Tx) statContent(ctx context.Context, h archive.Hash) (int64, error) {
	if n, ok := t.put[h]; ok {
		return n, nil
	}
	if b, ok := t.s.archive.(*blobArchive); ok {
		return b.statOrFile(ctx, t.tx, h)
	}
	return t.s.archive.Stat(h)
}
