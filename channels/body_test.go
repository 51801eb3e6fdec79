package channels

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"testing"
)

func TestSpoolTake(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		spool   Spool
		wantErr error
		inFile  bool
	}{
		{name: "empty", size: 0},
		{name: "small in memory", size: 100},
		{name: "exactly in-memory limit", size: 64, spool: Spool{InMemoryBytes: 64}},
		{name: "one over in-memory limit spools", size: 65, spool: Spool{InMemoryBytes: 64}, inFile: true},
		{name: "large spools", size: 3 << 20, inFile: true},
		{name: "exactly max", size: 128, spool: Spool{InMemoryBytes: 16, MaxBytes: 128}, inFile: true},
		{name: "over max", size: 129, spool: Spool{InMemoryBytes: 16, MaxBytes: 128}, wantErr: ErrTooLarge},
		{name: "over max in memory phase", size: 20, spool: Spool{InMemoryBytes: 64, MaxBytes: 10}, wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spool.Dir = t.TempDir()
			data := make([]byte, tt.size)
			for i := range data {
				data[i] = byte(i*7 + i/251)
			}
			b, sum, err := tt.spool.Take(context.Background(), bytes.NewReader(data))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Take error = %v, want %v", err, tt.wantErr)
				}
				assertDirEmpty(t, tt.spool.Dir)
				return
			}
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			defer b.Close()
			if got, want := sum, sha256.Sum256(data); got != want {
				t.Errorf("sha256 = %x, want %x", got, want)
			}
			if got, want := b.Size(), int64(tt.size); got != want {
				t.Errorf("Size = %d, want %d", got, want)
			}
			if got, want := b.file != nil, tt.inFile; got != want {
				t.Errorf("spooled to file = %v, want %v", got, want)
			}
			got, err := io.ReadAll(b.Reader())
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("body differs from input (len %d, want %d)", len(got), len(data))
			}
			all, err := b.Bytes()
			if err != nil || !bytes.Equal(all, data) {
				t.Errorf("Bytes = %d bytes, %v; want %d bytes", len(all), err, len(data))
			}
			// The spool file is unlinked at once: nothing in the dir.
			assertDirEmpty(t, tt.spool.Dir)
			if err := b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := b.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := b.ReadAt(make([]byte, 1), 0); !errors.Is(err, os.ErrClosed) {
				t.Errorf("ReadAt after Close = %v, want os.ErrClosed", err)
			}
		})
	}
}

func TestSpoolTakeHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Spool{Dir: t.TempDir()}.Take(ctx, bytes.NewReader(make([]byte, 10)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Take with cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestBodyReadAt(t *testing.T) {
	data := []byte("0123456789")
	mem := BytesBody(data)
	spooled, _, err := Spool{Dir: t.TempDir(), InMemoryBytes: 4}.Take(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer spooled.Close()
	tests := []struct {
		off     int64
		n       int
		want    string
		wantEOF bool
	}{
		{off: 0, n: 4, want: "0123"},
		{off: 6, n: 4, want: "6789"},
		{off: 8, n: 4, want: "89", wantEOF: true},
		{off: 10, n: 1, want: "", wantEOF: true},
	}
	for _, b := range []*Body{mem, spooled} {
		for _, tt := range tests {
			p := make([]byte, tt.n)
			n, err := b.ReadAt(p, tt.off)
			if got := string(p[:n]); got != tt.want {
				t.Errorf("ReadAt(%d, %d) = %q, want %q", tt.n, tt.off, got, tt.want)
			}
			if got := errors.Is(err, io.EOF); got != tt.wantEOF {
				t.Errorf("ReadAt(%d, %d) err = %v, want EOF %v", tt.n, tt.off, err, tt.wantEOF)
			}
		}
	}
	var nilBody *Body
	if got := nilBody.Size(); got != 0 {
		t.Errorf("nil Size = %d, want 0", got)
	}
	if err := nilBody.Close(); err != nil {
		t.Errorf("nil Close = %v, want nil", err)
	}
}

func assertDirEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("spool dir has %d entries, want 0", len(entries))
	}
}
