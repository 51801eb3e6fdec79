package store

import (
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
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
	// tens of microseconds, at about a seventh of its size.
	canonicalEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	canonicalDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(64<<20))
)

// canonicalValue is the column value that stores canonical JSON b.
func (s *Store) canonicalValue(b []byte) any {
	if s.driver != DriverSQLite || len(b) <= compressAbove {
		return string(b)
	}
	return canonicalEncoder.EncodeAll(b, make([]byte, 0, len(b)/4))
}

// canonicalText returns the JSON text a canonical column value stores.
func canonicalText(v string) (string, error) {
	if !strings.HasPrefix(v, zstdMagic) {
		return v, nil
	}
	b, err := canonicalDecoder.DecodeAll([]byte(v), make([]byte, 0, 8*len(v)))
	if err != nil {
		return "", fmt.Errorf("decompressing canonical JSON: %w", err)
	}
	return string(b), nil
}
