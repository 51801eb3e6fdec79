package channels

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Default limits of a Spool.
const (
	DefaultMaxBytes      int64 = 256 << 20 // the largest document taken
	DefaultInMemoryBytes int64 = 1 << 20   // bodies up to this stay in memory
)

// Body is the bytes of a document: a byte slice for small documents, a
// spooled temporary file for large ones. It is an io.ReaderAt of a known
// Size, safe for concurrent ReadAt calls. A nil *Body is empty.
type Body struct {
	size int64
	mem  []byte

	mu     sync.Mutex
	file   *os.File
	path   string // set when the spool file could not be unlinked at once
	closed bool
}

// BytesBody returns a Body over b (not copied).
func BytesBody(b []byte) *Body { return &Body{size: int64(len(b)), mem: b} }

// Size returns the number of bytes.
func (b *Body) Size() int64 {
	if b == nil {
		return 0
	}
	return b.size
}

// ReadAt implements io.ReaderAt. After Close it returns os.ErrClosed.
func (b *Body) ReadAt(p []byte, off int64) (int, error) {
	if b == nil {
		return 0, io.EOF
	}
	if off < 0 {
		return 0, fmt.Errorf("reading body: negative offset %d", off)
	}
	b.mu.Lock()
	closed, f, mem := b.closed, b.file, b.mem
	b.mu.Unlock()
	if closed {
		return 0, os.ErrClosed
	}
	if f != nil {
		// Bound the read to size: the spool file never grows, but be exact.
		if off >= b.size {
			return 0, io.EOF
		}
		if rest := b.size - off; int64(len(p)) > rest {
			n, err := f.ReadAt(p[:rest], off)
			if err == nil {
				err = io.EOF
			}
			return n, err
		}
		return f.ReadAt(p, off)
	}
	if off >= b.size {
		return 0, io.EOF
	}
	n := copy(p, mem[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Reader returns a new reader over the whole body.
func (b *Body) Reader() *io.SectionReader { return io.NewSectionReader(b, 0, b.Size()) }

// Bytes reads the whole body into memory.
func (b *Body) Bytes() ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	if b.file == nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.closed {
			return nil, os.ErrClosed
		}
		return b.mem, nil
	}
	out := make([]byte, b.size)
	if _, err := b.ReadAt(out, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading spooled body: %w", err)
	}
	return out, nil
}

// Close releases the body: it closes and removes the spool file. It is
// idempotent.
func (b *Body) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.mem = nil
	var errs []error
	if b.file != nil {
		if err := b.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing spool file: %w", err))
		}
	}
	if b.path != "" {
		if err := os.Remove(b.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing spool file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Spool reads document bodies from a stream into a Body, hashing them on
// the way. The zero value is ready to use with the defaults.
type Spool struct {
	// Dir is where large bodies are spooled; default os.TempDir().
	Dir string
	// MaxBytes is the largest body taken; default DefaultMaxBytes.
	MaxBytes int64
	// InMemoryBytes is the largest body kept in memory; default
	// DefaultInMemoryBytes.
	InMemoryBytes int64
}

// Take reads r to its end into a Body and returns it with its SHA-256. It
// honours ctx between chunks. A body longer than MaxBytes returns an
// error wrapping ErrTooLarge. The spool file is unlinked at once where the
// operating system allows it, so a crash leaves nothing behind.
func (s Spool) Take(ctx context.Context, r io.Reader) (*Body, [32]byte, error) {
	maxBytes, inMem := s.MaxBytes, s.InMemoryBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if inMem <= 0 {
		inMem = DefaultInMemoryBytes
	}
	inMem = min(inMem, maxBytes)
	h := sha256.New()
	src := &ctxReader{ctx: ctx, r: io.TeeReader(r, h)}

	// Read up to inMem+1 bytes into memory first.
	mem, err := io.ReadAll(io.LimitReader(src, inMem+1))
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(mem)) <= inMem {
		var sum [32]byte
		h.Sum(sum[:0])
		return BytesBody(mem), sum, nil
	}
	if int64(len(mem)) > maxBytes {
		return nil, [32]byte{}, fmt.Errorf("reading body: more than %d bytes: %w", maxBytes, ErrTooLarge)
	}

	b, err := s.spoolFile()
	if err != nil {
		return nil, [32]byte{}, err
	}
	if _, err := b.file.Write(mem); err != nil {
		b.Close()
		return nil, [32]byte{}, fmt.Errorf("writing spool file: %w", err)
	}
	n, err := io.Copy(b.file, io.LimitReader(src, maxBytes-int64(len(mem))+1))
	if err != nil {
		b.Close()
		return nil, [32]byte{}, fmt.Errorf("spooling body: %w", err)
	}
	b.size = int64(len(mem)) + n
	if b.size > maxBytes {
		b.Close()
		return nil, [32]byte{}, fmt.Errorf("spooling body: more than %d bytes: %w", maxBytes, ErrTooLarge)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return b, sum, nil
}

func (s Spool) spoolFile() (*Body, error) {
	f, err := os.CreateTemp(s.Dir, "ordergate-spool-*")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	b := &Body{file: f}
	if err := os.Remove(f.Name()); err != nil {
		b.path = f.Name() // removed on Close instead
	}
	return b, nil
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
