package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// Archive is the content-addressed store of raw bytes that Store.Archive
// returns: the file archive (*archive.Archive) or, with
// Options.ArchiveInDB, the database's table archive_blobs. Both keep the
// same promises: Put is idempotent and durable when it returns, PutExpect
// stores nothing when the bytes differ from what was announced
// (archive.ErrMismatch), Open's reader reports archive.ErrCorrupt at the
// end of content that no longer matches its hash, and a missing hash is
// archive.ErrNotFound.
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

// blobArchive keeps the raw bytes in the database (archive_blobs: sha256
// hex primary key, size, body), for nodes that share a PostgreSQL
// database but no file system. Each Put commits on its own, before the
// row that refers to the content, like the file archive's fsync.
type blobArchive struct {
	s *Store
}

// blobTimeout bounds the archive methods that take no context (Open and
// Stat, whose signatures the file archive fixed).
const blobTimeout = time.Minute

// MaxBlobSize is the largest content the database archive keeps (a BYTEA
// value is at most 1 GB; the bytes are held in memory while stored).
const MaxBlobSize = 256 << 20

// Put stores the content read from r until EOF.
func (a *blobArchive) Put(ctx context.Context, r io.Reader) (archive.Hash, int64, error) {
	return a.put(ctx, r, -1, archive.Hash{})
}

// PutExpect is Put that checks the announced size and hash first.
func (a *blobArchive) PutExpect(ctx context.Context, r io.Reader, size int64, want archive.Hash) (archive.Hash, int64, error) {
	return a.put(ctx, r, size, want)
}

func (a *blobArchive) put(ctx context.Context, r io.Reader, wantSize int64, wantHash archive.Hash) (archive.Hash, int64, error) {
	var buf bytes.Buffer
	hw := sha256.New()
	n, err := archive.CopyContext(ctx, io.MultiWriter(&buf, hw), io.LimitReader(r, MaxBlobSize+1))
	if err != nil {
		return archive.Hash{}, 0, fmt.Errorf("archiving in the database: reading: %w", err)
	}
	if n > MaxBlobSize {
		return archive.Hash{}, 0, fmt.Errorf("archiving in the database: %w: content is larger than %d bytes", ErrInvalid, MaxBlobSize)
	}
	var got archive.Hash
	hw.Sum(got[:0])
	if (wantSize >= 0 && n != wantSize) || (!wantHash.IsZero() && got != wantHash) {
		return archive.Hash{}, 0, fmt.Errorf("archiving in the database: got %d bytes with hash %s, want %d bytes with hash %s: %w",
			n, got, wantSize, wantHash, archive.ErrMismatch)
	}
	err = a.s.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO archive_blobs (sha256, size, body, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (sha256) DO NOTHING`, got.String(), n, buf.Bytes(), nanos(a.s.clock()))
		return err
	})
	if err != nil {
		return archive.Hash{}, 0, fmt.Errorf("archiving %s in the database: %w", got, err)
	}
	return got, n, nil
}

// Stat returns the size of the content with hash h.
func (a *blobArchive) Stat(h archive.Hash) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout)
	defer cancel()
	return a.stat(ctx, querier{q: a.s.reader, rb: a.s.rb}, h)
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

// Open returns the content with hash h; the reader reports
// archive.ErrCorrupt at its end when the bytes do not match h.
func (a *blobArchive) Open(h archive.Hash) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout)
	defer cancel()
	var body []byte
	var size int64
	err := querier{q: a.s.reader, rb: a.s.rb}.QueryRowContext(ctx, `SELECT size, body FROM archive_blobs WHERE sha256 = ?`,
		h.String()).Scan(&size, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("opening %s: %w", h, archive.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", h, err)
	}
	return &checkedBlob{r: bytes.NewReader(body), size: size, want: h, body: body}, nil
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

// checkedBlob reads a blob and, at its end, checks its hash and size.
type checkedBlob struct {
	r    *bytes.Reader
	body []byte
	size int64
	want archive.Hash
	err  error
}

func (c *checkedBlob) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if err == io.EOF {
		if got := archive.Sum(c.body); got != c.want || int64(len(c.body)) != c.size {
			c.err = fmt.Errorf("reading %s: %d bytes hash to %s: %w", c.want, len(c.body), got, archive.ErrCorrupt)
			return n, c.err
		}
		c.err = io.EOF
	}
	return n, err
}

func (c *checkedBlob) Close() error { return nil }

// statContent returns the size of the content with hash h in the store's
// archive, read in the transaction when the archive is the database's.
func (t *Tx) statContent(ctx context.Context, h archive.Hash) (int64, error) {
	if b, ok := t.s.archive.(*blobArchive); ok {
		return b.stat(ctx, t.tx, h)
	}
	return t.s.archive.Stat(h)
}
