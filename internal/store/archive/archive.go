package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Errors reported by the archive.
var (
	ErrNotFound = errors.New("archive: content not found")
	ErrCorrupt  = errors.New("archive: stored content does not match its hash")
	ErrMismatch = errors.New("archive: content does not match the expected size or hash")
)

// Hash is the SHA-256 of a content, its address in the archive.
type Hash [sha256.Size]byte

// Sum returns the Hash of b.
func Sum(b []byte) Hash { return Hash(sha256.Sum256(b)) }

// ParseHash reads a hash written as 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, fmt.Errorf("parsing hash %q: want %d hex digits, got %d", s, 2*len(h), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("parsing hash %q: %w", s, err)
	}
	return h, nil
}

// String returns the hash as 64 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the zero Hash (no content).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText writes the hash as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads a hash written as hex.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Archive is a content-addressed directory. Its methods are safe for
// concurrent use.
type Archive struct {
	dir string
	tmp string
}

const tmpDir = "tmp"

// New opens the archive in dir, creating it when missing, and removes the
// temporary files an interrupted Put left in dir/tmp.
func New(dir string) (*Archive, error) {
	if dir == "" {
		return nil, errors.New("opening archive: no directory given")
	}
	a := &Archive{dir: dir, tmp: filepath.Join(dir, tmpDir)}
	if err := os.MkdirAll(a.tmp, 0o750); err != nil {
		return nil, fmt.Errorf("opening archive %s: %w", dir, err)
	}
	leftovers, err := os.ReadDir(a.tmp)
	if err != nil {
		return nil, fmt.Errorf("opening archive %s: %w", dir, err)
	}
	for _, e := range leftovers {
		if err := os.Remove(filepath.Join(a.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening archive %s: removing leftover temporary file: %w", dir, err)
		}
	}
	return a, nil
}

// OpenExisting returns the archive in dir for reading, creating and
// removing nothing: the store's database archive reads there the content
// archived before a deployment switched to it (while another process may
// still Put there, whose temporary files New would remove).
func OpenExisting(dir string) *Archive {
	return &Archive{dir: dir, tmp: filepath.Join(dir, tmpDir)}
}

// Dir returns the archive's directory.
func (a *Archive) Dir() string { return a.dir }

// Path returns the file name under which the content with hash h is kept.
func (a *Archive) Path(h Hash) string {
	s := h.String()
	return filepath.Join(a.dir, s[0:2], s[2:4], s)
}

// Put stores the content read from r until EOF and returns its hash and
// size. The content is durable (file and directory entry fsynced) when Put
// returns. Storing content that is already there is a no-op.
func (a *Archive) Put(ctx context.Context, r io.Reader) (Hash, int64, error) {
	return a.put(ctx, r, -1, Hash{})
}

// PutExpect is Put for content whose size and hash the sender announced:
// it fails with ErrMismatch, storing nothing, when the bytes read differ.
// A negative size or a zero hash is not checked.
func (a *Archive) PutExpect(ctx context.Context, r io.Reader, size int64, want Hash) (Hash, int64, error) {
	return a.put(ctx, r, size, want)
}

func (a *Archive) put(ctx context.Context, r io.Reader, wantSize int64, wantHash Hash) (_ Hash, _ int64, err error) {
	f, err := os.CreateTemp(a.tmp, "put-*")
	if err != nil {
		return Hash{}, 0, fmt.Errorf("archiving: creating temporary file: %w", err)
	}
	tmpName := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmpName)
		}
	}()
	hw := sha256.New()
	n, err := CopyContext(ctx, io.MultiWriter(f, hw), r)
	if err != nil {
		return Hash{}, 0, fmt.Errorf("archiving: writing %s: %w", tmpName, err)
	}
	var got Hash
	hw.Sum(got[:0])
	if (wantSize >= 0 && n != wantSize) || (!wantHash.IsZero() && got != wantHash) {
		return Hash{}, 0, fmt.Errorf("archiving: got %d bytes with hash %s, want %d bytes with hash %s: %w",
			n, got, wantSize, wantHash, ErrMismatch)
	}
	if err := f.Sync(); err != nil {
		return Hash{}, 0, fmt.Errorf("archiving: syncing %s: %w", tmpName, err)
	}
	if err := f.Close(); err != nil {
		return Hash{}, 0, fmt.Errorf("archiving: closing %s: %w", tmpName, err)
	}
	final := a.Path(got)
	if _, err := os.Stat(final); err == nil {
		// Same content, already durable (it was renamed only after fsync).
		_ = os.Remove(tmpName)
		return got, n, nil
	}
	if err := a.makeFanOut(final); err != nil {
		return Hash{}, 0, err
	}
	if err := os.Rename(tmpName, final); err != nil {
		return Hash{}, 0, fmt.Errorf("archiving: renaming to %s: %w", final, err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Hash{}, 0, fmt.Errorf("archiving %s: %w", got, err)
	}
	return got, n, nil
}

// makeFanOut creates the two fan-out directories of final when missing and
// fsyncs the parent of each directory it created, so the new entries are
// durable too.
func (a *Archive) makeFanOut(final string) error {
	inner := filepath.Dir(final)
	outer := filepath.Dir(inner)
	for _, d := range []string{outer, inner} {
		err := os.Mkdir(d, 0o750)
		switch {
		case err == nil:
			if err := syncDir(filepath.Dir(d)); err != nil {
				return fmt.Errorf("archiving: %w", err)
			}
		case errors.Is(err, fs.ErrExist):
		default:
			return fmt.Errorf("archiving: creating %s: %w", d, err)
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// CopyContext copies like io.Copy and stops with ctx's error between
// chunks (the store's database archive uses it too).
func CopyContext(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// Stat returns the size of the content with hash h, or ErrNotFound.
func (a *Archive) Stat(h Hash) (int64, error) {
	fi, err := os.Stat(a.Path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("stating %s: %w", h, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stating %s: %w", h, err)
	}
	return fi.Size(), nil
}

// Open returns the content with hash h. The reader hashes what it reads and
// returns ErrCorrupt instead of io.EOF when the bytes do not match h.
func (a *Archive) Open(h Hash) (io.ReadCloser, error) {
	f, err := os.Open(a.Path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("opening %s: %w", h, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", h, err)
	}
	return &verifyingReader{f: f, h: sha256.New(), want: h}, nil
}

// Verify reads the content with hash h to its end and reports ErrCorrupt
// when it does not match h.
func (a *Archive) Verify(ctx context.Context, h Hash) error {
	rc, err := a.Open(h)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := CopyContext(ctx, io.Discard, rc); err != nil {
		return fmt.Errorf("verifying %s: %w", h, err)
	}
	return nil
}

type verifyingReader struct {
	f    *os.File
	h    hash.Hash
	want Hash
	err  error
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.f.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF {
		var got Hash
		r.h.Sum(got[:0])
		if got != r.want {
			r.err = fmt.Errorf("reading %s: content hashes to %s: %w", r.want, got, ErrCorrupt)
			return n, r.err
		}
		r.err = io.EOF
	}
	return n, err
}

func (r *verifyingReader) Close() error { return r.f.Close() }
