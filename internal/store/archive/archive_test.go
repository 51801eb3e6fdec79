package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func newArchive(t *testing.T) *Archive {
	t.Helper()
	a, err := New(filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return n
}

func TestPutAndOpen(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"small", []byte("ISA*00*          *00*~")},
		{"several chunks", bytes.Repeat([]byte("0123456789abcdef"), 20000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newArchive(t)
			h, n, err := a.Put(context.Background(), bytes.NewReader(tt.content))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if want := Sum(tt.content); h != want {
				t.Errorf("hash: got %s, want %s", h, want)
			}
			if n != int64(len(tt.content)) {
				t.Errorf("size: got %d, want %d", n, len(tt.content))
			}
			s := h.String()
			if got, want := a.Path(h), filepath.Join(a.Dir(), s[:2], s[2:4], s); got != want {
				t.Errorf("path: got %s, want %s", got, want)
			}
			rc, err := a.Open(h)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if !bytes.Equal(got, tt.content) {
				t.Errorf("content: got %d bytes, want %d", len(got), len(tt.content))
			}
			if size, err := a.Stat(h); err != nil || size != n {
				t.Errorf("Stat: got %d, %v, want %d, nil", size, err, n)
			}
			if n := countFiles(t, filepath.Join(a.Dir(), tmpDir)); n != 0 {
				t.Errorf("temporary files left: got %d, want 0", n)
			}
		})
	}
}

func TestPutIsIdempotent(t *testing.T) {
	a := newArchive(t)
	content := []byte("UNB+UNOC:3+SENDER+RECEIVER'")
	for i := range 3 {
		h, _, err := a.Put(context.Background(), bytes.NewReader(content))
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		if h != Sum(content) {
			t.Fatalf("Put %d: got %s, want %s", i, h, Sum(content))
		}
	}
	if got, want := countFiles(t, a.Dir()), 1; got != want {
		t.Errorf("files: got %d, want %d", got, want)
	}
}

func TestConcurrentPutsOfSameContent(t *testing.T) {
	a := newArchive(t)
	content := bytes.Repeat([]byte("same content "), 10000)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			h, _, err := a.Put(context.Background(), bytes.NewReader(content))
			if err == nil && h != Sum(content) {
				err = errors.New("wrong hash " + h.String())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Put: %v", err)
		}
	}
	if got, want := countFiles(t, a.Dir()), 1; got != want {
		t.Errorf("files: got %d, want %d", got, want)
	}
	if err := a.Verify(context.Background(), Sum(content)); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestPutExpect(t *testing.T) {
	content := []byte("0123456789")
	tests := []struct {
		name    string
		size    int64
		hash    Hash
		wantErr error
	}{
		{"matching", 10, Sum(content), nil},
		{"unchecked", -1, Hash{}, nil},
		{"short read", 11, Hash{}, ErrMismatch},
		{"other hash", -1, Sum([]byte("other")), ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newArchive(t)
			_, _, err := a.PutExpect(context.Background(), bytes.NewReader(content), tt.size, tt.hash)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PutExpect: got %v, want %v", err, tt.wantErr)
			}
			wantFiles := 1
			if tt.wantErr != nil {
				wantFiles = 0
			}
			if got := countFiles(t, a.Dir()); got != wantFiles {
				t.Errorf("files: got %d, want %d", got, wantFiles)
			}
		})
	}
}

func TestOpenDetectsCorruption(t *testing.T) {
	a := newArchive(t)
	h, _, err := a.Put(context.Background(), strings.NewReader("the original bytes"))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := os.WriteFile(a.Path(h), []byte("the 0riginal bytes"), 0o600); err != nil {
		t.Fatalf("corrupting: %v", err)
	}
	rc, err := a.Open(h)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrCorrupt) {
		t.Errorf("reading a corrupted file: got %v, want %v", err, ErrCorrupt)
	}
	if err := a.Verify(context.Background(), h); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Verify: got %v, want %v", err, ErrCorrupt)
	}
}

func TestOpenMissing(t *testing.T) {
	a := newArchive(t)
	if _, err := a.Open(Sum([]byte("never stored"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open: got %v, want %v", err, ErrNotFound)
	}
	if _, err := a.Stat(Sum([]byte("never stored"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat: got %v, want %v", err, ErrNotFound)
	}
}

func TestPutStopsOnCanceledContext(t *testing.T) {
	a := newArchive(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := a.Put(ctx, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: got %v, want %v", err, context.Canceled)
	}
	if got := countFiles(t, a.Dir()); got != 0 {
		t.Errorf("files: got %d, want 0", got)
	}
}

func TestNewRemovesLeftoverTemporaryFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "archive")
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tmpDir, "put-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := countFiles(t, dir); got != 0 {
		t.Errorf("files after New: got %d, want 0", got)
	}
}

func TestParseHash(t *testing.T) {
	h := Sum([]byte("abc"))
	tests := []struct {
		in      string
		want    Hash
		wantErr bool
	}{
		{h.String(), h, false},
		{"abc", Hash{}, true},
		{strings.Repeat("zz", 32), Hash{}, true},
	}
	for _, tt := range tests {
		got, err := ParseHash(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseHash(%q): got %s, %v, want %s, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ n, off int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = byte((r.off + int64(i)) % 251)
	}
	r.off += int64(len(p))
	return len(p), nil
}

func TestPutStreamsWithoutBufferingTheContent(t *testing.T) {
	a := newArchive(t)
	const size = 32 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h, n, err := a.Put(context.Background(), &patternReader{n: size})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if n != size {
		t.Errorf("size: got %d, want %d", n, size)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
		t.Errorf("allocated while storing %d bytes: got %d bytes, want under 4 MiB", size, allocated)
	}
	hw := sha256.New()
	if _, err := io.Copy(hw, &patternReader{n: size}); err != nil {
		t.Fatal(err)
	}
	if want := Hash(hw.Sum(nil)); h != want {
		t.Errorf("hash: got %s, want %s", h, want)
	}
}
