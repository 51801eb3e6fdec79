package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

func TestArchiveInDB(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) { testArchiveInDB(t, drv) })
}

func testArchiveInDB(t *testing.T, drv testDriver) {
	ctx := context.Background()
	opts := drv.options(t)
	opts.ArchiveDir = ""
	opts.ArchiveInDB = true
	s := openStore(t, opts, nil)
	content := []byte("UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER'")

	h, n, err := s.Archive().Put(ctx, bytes.NewReader(content))
	if err != nil || h != archive.Sum(content) || n != int64(len(content)) {
		t.Fatalf("Put: %s %d %v", h, n, err)
	}
	if h2, _, err := s.Archive().Put(ctx, bytes.NewReader(content)); err != nil || h2 != h {
		t.Errorf("second Put: %s %v", h2, err)
	}
	if c := count(t, s, "archive_blobs"); c != 1 {
		t.Errorf("archive_blobs: %d rows after two Puts of one content, want 1", c)
	}
	if size, err := s.Archive().Stat(h); err != nil || size != int64(len(content)) {
		t.Errorf("Stat: %d %v", size, err)
	}
	if got, err := readArchived(s, h); err != nil || !bytes.Equal(got, content) {
		t.Errorf("Open: read %q (%v), want %q", got, err, content)
	}
	if err := s.Archive().Verify(ctx, h); err != nil {
		t.Errorf("Verify: %v", err)
	}

	other := []byte("other bytes")
	if _, _, err := s.Archive().PutExpect(ctx, bytes.NewReader(other), int64(len(other)), h); !errors.Is(err, archive.ErrMismatch) {
		t.Errorf("PutExpect with the wrong hash: %v, want ErrMismatch", err)
	}
	if _, _, err := s.Archive().PutExpect(ctx, bytes.NewReader(other), 3, archive.Hash{}); !errors.Is(err, archive.ErrMismatch) {
		t.Errorf("PutExpect with the wrong size: %v, want ErrMismatch", err)
	}
	if _, err := s.Archive().Stat(archive.Sum(other)); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Stat of mismatched content: %v, want ErrNotFound (nothing stored)", err)
	}
	if _, err := s.Archive().Open(archive.Sum(other)); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Open of missing content: %v, want ErrNotFound", err)
	}

	// Rows refer only to content the database archive has.
	missing := DocumentInput{Channel: "edi", SourceKey: "missing", SHA256: archive.Sum(other), Size: int64(len(other))}
	err = s.Write(ctx, func(tx *Tx) error { _, _, err := tx.InsertDocument(ctx, missing); return err })
	if !errors.Is(err, ErrMissingContent) {
		t.Errorf("InsertDocument of content not archived: %v, want ErrMissingContent", err)
	}
	var doc Document
	err = s.Write(ctx, func(tx *Tx) error {
		var err error
		doc, _, err = tx.InsertDocument(ctx, DocumentInput{Channel: "edi", SourceKey: "present", SHA256: h, Size: n})
		return err
	})
	if err != nil {
		t.Fatalf("InsertDocument of archived content: %v", err)
	}
	err = s.Write(ctx, func(tx *Tx) error {
		_, _, err := tx.InsertAck(ctx, AckInput{DocumentID: doc.ID, Kind: AckCONTRL, SHA256: archive.Sum(other), Destination: "edi"})
		return err
	})
	if !errors.Is(err, ErrMissingContent) {
		t.Errorf("InsertAck of content not archived: %v, want ErrMissingContent", err)
	}

	// Bytes changed behind the store's back are reported, not served.
	if _, err := s.testDB().Exec(`UPDATE archive_blobs SET body = ? WHERE sha256 = ?`, bytes.ToLower(content), h.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Archive().Verify(ctx, h); !errors.Is(err, archive.ErrCorrupt) {
		t.Errorf("Verify of changed bytes: %v, want ErrCorrupt", err)
	}
}

// dbArchiveStore opens a store of the driver with the archive in the
// database and no archive directory.
func dbArchiveStore(t testing.TB, drv testDriver) *Store {
	t.Helper()
	return dbArchiveStoreAt(t, drv, nil)
}

// dbArchiveStoreAt is dbArchiveStore with the clock (nil: the real one).
func dbArchiveStoreAt(t testing.TB, drv testDriver, clock *fakeClock) *Store {
	t.Helper()
	opts := drv.options(t)
	opts.ArchiveDir = ""
	opts.ArchiveInDB = true
	return openStore(t, opts, clock)
}

// pattern is n deterministic pseudo-random bytes, produced as read (a
// large content without a buffer of its size).
type pattern struct {
	rng  *rand.ChaCha8
	left int64
}

func newPattern(seed byte, n int64) *pattern {
	var s [32]byte
	s[0] = seed
	return &pattern{rng: rand.NewChaCha8(s), left: n}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.rng.Read(b)
	p.left -= int64(n)
	return n, nil
}

// patternHash hashes pattern(seed, n).
func patternHash(t testing.TB, seed byte, n int64) archive.Hash {
	t.Helper()
	h, size, err := hashReader(newPattern(seed, n))
	if err != nil || size != n {
		t.Fatalf("hashing the pattern: %d bytes, %v", size, err)
	}
	return h
}

func hashReader(r io.Reader) (archive.Hash, int64, error) {
	dir, err := os.MkdirTemp("", "hash")
	if err != nil {
		return archive.Hash{}, 0, err
	}
	defer os.RemoveAll(dir)
	a, err := archive.New(dir)
	if err != nil {
		return archive.Hash{}, 0, err
	}
	return a.Put(context.Background(), r)
}

// TestArchiveInDBSizes: content of every shape of chunking is stored,
// deduplicated and read back the same, with Put and with PutContent.
func TestArchiveInDBSizes(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := dbArchiveStore(t, drv)
		ctx := context.Background()
		tests := []struct {
			name   string
			size   int64
			chunks int // rows in archive_chunks
		}{
			{"empty", 0, 0},
			{"small", 3500, 0},
			{"one chunk less one", BlobChunk - 1, 0},
			{"one chunk", BlobChunk, 0},
			{"one chunk and one byte", BlobChunk + 1, 1},
			{"three chunks and some", 3*BlobChunk + 7, 3},
		}
		for i, tc := range tests {
			for _, how := range []string{"Put", "PutContent"} {
				t.Run(tc.name+"/"+how, func(t *testing.T) {
					seed := byte(2*i + len(how))
					want := patternHash(t, seed, tc.size)
					var h archive.Hash
					var n int64
					var err error
					if how == "Put" {
						h, n, err = s.Archive().Put(ctx, newPattern(seed, tc.size))
					} else {
						err = s.Write(ctx, func(tx *Tx) error {
							h, n, err = tx.PutContent(ctx, newPattern(seed, tc.size), tc.size, want)
							return err
						})
					}
					if err != nil || h != want || n != tc.size {
						t.Fatalf("%s = %s, %d, %v; want %s, %d", how, h, n, err, want, tc.size)
					}
					var chunks int
					if err := s.testDB().QueryRow(`SELECT count(*) FROM archive_chunks WHERE sha256 = ?`, h.String()).Scan(&chunks); err != nil {
						t.Fatal(err)
					}
					if chunks != tc.chunks {
						t.Errorf("archive_chunks: %d rows, want %d", chunks, tc.chunks)
					}
					blobs := count(t, s, "archive_blobs")
					allChunks := count(t, s, "archive_chunks")
					// Again: deduplicated, nothing stored twice.
					if h2, n2, err := s.Archive().Put(ctx, newPattern(seed, tc.size)); err != nil || h2 != h || n2 != n {
						t.Errorf("second Put = %s, %d, %v", h2, n2, err)
					}
					if b, c := count(t, s, "archive_blobs"), count(t, s, "archive_chunks"); b != blobs || c != allChunks {
						t.Errorf("after storing the content again: %d blobs, %d chunks; want %d, %d", b, c, blobs, allChunks)
					}
					if size, err := s.Archive().Stat(h); err != nil || size != tc.size {
						t.Errorf("Stat = %d, %v; want %d", size, err, tc.size)
					}
					rc, err := s.Archive().Open(h)
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(rc)
					rc.Close()
					wantBytes, _ := io.ReadAll(newPattern(seed, tc.size))
					if err != nil || !bytes.Equal(got, wantBytes) {
						t.Errorf("read back %d bytes (%v), want %d equal bytes", len(got), err, len(wantBytes))
					}
				})
			}
		}
		if c := count(t, s, "archive_blobs"); c != 2*len(tests)-1 { // "empty" twice is one content
			t.Errorf("archive_blobs: %d rows, want %d", c, 2*len(tests)-1)
		}
	})
}

// TestPutContentCommitsWithTheTransaction: content stored in a
// transaction that rolls back is gone with it; content of a mismatched
// announcement leaves nothing in a transaction that goes on; two
// documents of one content in one transaction share one blob.
func TestPutContentCommitsWithTheTransaction(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := dbArchiveStore(t, drv)
		ctx := context.Background()
		small := []byte("ISA*00*ROLLED BACK~")
		large := int64(2*BlobChunk + 5)
		errStop := errors.New("stop")
		err := s.Write(ctx, func(tx *Tx) error {
			h, n, err := tx.PutContent(ctx, bytes.NewReader(small), int64(len(small)), archive.Sum(small))
			if err != nil {
				return err
			}
			if _, _, err := tx.PutContent(ctx, newPattern(1, large), large, patternHash(t, 1, large)); err != nil {
				return err
			}
			if _, _, err := tx.InsertDocument(ctx, DocumentInput{Channel: "edi", SourceKey: "rolled-back", SHA256: h, Size: n}); err != nil {
				return err
			}
			return errStop // the intake fails after archiving: a crash before the commit
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("Write = %v, want the function's error", err)
		}
		for _, table := range []string{"archive_blobs", "archive_chunks", "documents"} {
			if c := count(t, s, table); c != 0 {
				t.Errorf("%s: %d rows after the rollback, want 0", table, c)
			}
		}
		if _, err := s.Archive().Stat(archive.Sum(small)); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("Stat after the rollback: %v, want ErrNotFound", err)
		}

		// A mismatch (the announced hash or size is wrong) stores nothing,
		// also when the transaction commits its other work.
		doc := []byte("UNA:+.? 'UNB+UNOC:3+S+R'")
		err = s.Write(ctx, func(tx *Tx) error {
			if _, _, err := tx.PutContent(ctx, newPattern(2, large), large, archive.Sum(doc)); !errors.Is(err, archive.ErrMismatch) {
				t.Errorf("PutContent of large content with the wrong hash: %v, want ErrMismatch", err)
			}
			if _, _, err := tx.PutContent(ctx, newPattern(2, large), large-1, archive.Hash{}); !errors.Is(err, archive.ErrMismatch) {
				t.Errorf("PutContent of large content with the wrong size: %v, want ErrMismatch", err)
			}
			if _, _, err := tx.PutContent(ctx, bytes.NewReader(small), int64(len(small)), archive.Sum(doc)); !errors.Is(err, archive.ErrMismatch) {
				t.Errorf("PutContent of small content with the wrong hash: %v, want ErrMismatch", err)
			}
			for _, key := range []string{"a", "b"} {
				h, n, err := tx.PutContent(ctx, bytes.NewReader(doc), int64(len(doc)), archive.Sum(doc))
				if err != nil {
					return err
				}
				if _, _, err := tx.InsertDocument(ctx, DocumentInput{Channel: "edi", SourceKey: key, SHA256: h, Size: n}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if b, c, d := count(t, s, "archive_blobs"), count(t, s, "archive_chunks"), count(t, s, "documents"); b != 1 || c != 0 || d != 2 {
			t.Errorf("after two documents of one content and mismatches: %d blobs, %d chunks, %d documents; want 1, 0, 2", b, c, d)
		}
	})
}

// TestArchiveInDBBoundedMemory: a 64 MiB document is stored in an intake
// transaction and read back through a few chunks of memory, not its size.
func TestArchiveInDBBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB through the database")
	}
	const size = 64 << 20
	const budget = 8 << 20 // allocated bytes allowed for each direction
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := dbArchiveStore(t, drv)
		ctx := context.Background()
		want := patternHash(t, 9, size)
		var h archive.Hash
		var n int64
		alloc, peak := measureHeap(t, func() {
			err := s.Write(ctx, func(tx *Tx) error {
				var err error
				h, n, err = tx.PutContent(ctx, newPattern(9, size), size, want)
				if err != nil {
					return err
				}
				_, _, err = tx.InsertDocument(ctx, DocumentInput{Channel: "edi", SourceKey: "big", SHA256: h, Size: n})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("storing %d MiB: %.1f MiB allocated, heap in use peaked %.1f MiB above the start", size>>20, mib(alloc), mib(peak))
		// pgx copies the parameters into its write buffer; SQLite's
		// driver hands them to C: only there is the total bounded too.
		if peak > budget || (drv.name == DriverSQLite && alloc > budget) {
			t.Errorf("storing %d MiB allocated %.1f MiB, heap peak +%.1f MiB; want both under %d MiB", size>>20, mib(alloc), mib(peak), budget>>20)
		}
		alloc, peak = measureHeap(t, func() {
			rc, err := s.Archive().Open(h)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, m, err := hashReader(rc)
			if err != nil || got != want || m != size {
				t.Errorf("read back %d bytes hashing to %s (%v), want %d bytes, %s", m, got, err, size, want)
			}
		})
		t.Logf("reading %d MiB: %.1f MiB allocated, heap in use peaked %.1f MiB above the start", size>>20, mib(alloc), mib(peak))
		// Both drivers copy each chunk out of their buffers (garbage at
		// once): the heap in use is what is bounded.
		if peak > budget {
			t.Errorf("reading %d MiB: heap peak +%.1f MiB, want under %d MiB", size>>20, mib(peak), budget>>20)
		}
	})
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// measureHeap runs fn and returns the bytes it allocated and the peak of
// HeapInuse above its value at the start, sampled by a goroutine.
func measureHeap(t testing.TB, fn func()) (alloc, peak uint64) {
	t.Helper()
	// The collector runs once the heap grew a tenth: the peak is what fn
	// keeps in use, not the slack the default pacing leaves above a live
	// heap that the package's earlier tests made larger or smaller.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	done := make(chan struct{})
	peaked := make(chan uint64)
	go func() {
		var top uint64
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > m0.HeapInuse && m.HeapInuse-m0.HeapInuse > top {
				top = m.HeapInuse - m0.HeapInuse
			}
			select {
			case <-done:
				peaked <- top
				return
			default:
			}
			runtime.Gosched()
		}
	}()
	fn()
	close(done)
	peak = <-peaked
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc, peak
}

// TestArchiveSwitchFromFiles: a deployment that archived files and then
// keeps the archive in the database reads the earlier documents from
// archive_dir and stores new ones in the database only.
func TestArchiveSwitchFromFiles(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		opts := drv.options(t)
		old := []byte("ISA*00*ARCHIVED AS A FILE~")
		files := openStore(t, opts, nil)
		h, n := put(t, files, string(old))
		doc := insertDocWith(t, files, "edi", "old", h, n)
		if err := files.Close(ctx); err != nil {
			t.Fatal(err)
		}

		opts.ArchiveInDB = true
		s := openStore(t, opts, nil)
		if size, err := s.Archive().Stat(h); err != nil || size != n {
			t.Errorf("Stat of a file-archived document = %d, %v; want %d", size, err, n)
		}
		rc, err := s.Archive().Open(h)
		if err != nil {
			t.Fatalf("Open of a file-archived document: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, old) {
			t.Errorf("read %q (%v), want %q", got, err, old)
		}
		if err := s.Archive().Verify(ctx, h); err != nil {
			t.Errorf("Verify of a file-archived document: %v", err)
		}
		if d, err := s.GetDocument(ctx, doc.ID); err != nil || d.SHA256 != h {
			t.Errorf("GetDocument = %+v, %v", d, err)
		}
		// A row may still refer to file-archived content (a redelivery,
		// an ack), and new content goes to the database only.
		insertDocWith(t, s, "edi", "old-again", h, n)
		fresh := []byte("ISA*00*ARCHIVED IN THE DATABASE~")
		hf, nf := put(t, s, string(fresh))
		insertDocWith(t, s, "edi", "new", hf, nf)
		if _, err := os.Stat(filepath.Join(opts.ArchiveDir, hf.String()[0:2], hf.String()[2:4], hf.String())); !os.IsNotExist(err) {
			t.Errorf("new content as a file: %v, want none", err)
		}
		if c := count(t, s, "archive_blobs"); c != 1 {
			t.Errorf("archive_blobs: %d rows, want 1 (the new content)", c)
		}
		if _, err := s.Archive().Open(archive.Sum([]byte("never stored"))); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("Open of content in neither: %v, want ErrNotFound", err)
		}
	})
}

// TestArchiveInDBCorruptChunks: a chunk changed or lost behind the store's
// back is reported at the end of the read, not served as the content.
func TestArchiveInDBCorruptChunks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := dbArchiveStore(t, drv)
		ctx := context.Background()
		tests := []struct{ name, sql string }{
			{"changed chunk", `UPDATE archive_chunks SET data = ? WHERE sha256 = ? AND seq = 1`},
			{"missing chunk", `DELETE FROM archive_chunks WHERE length(?) > 0 AND sha256 = ? AND seq = 2`},
			{"extra chunk", `INSERT INTO archive_chunks (data, sha256, seq) VALUES (?, ?, 9)`},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				h, _, err := s.Archive().Put(ctx, newPattern(byte(40+i), 3*BlobChunk))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.testDB().Exec(tc.sql, []byte("tampered"), h.String()); err != nil {
					t.Fatal(err)
				}
				if tc.name == "extra chunk" {
					// The size recorded wrongly instead: more than recorded.
					if _, err := s.testDB().Exec(`UPDATE archive_blobs SET size = size - 1 WHERE sha256 = ?`, h.String()); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Archive().Verify(ctx, h); !errors.Is(err, archive.ErrCorrupt) {
					t.Errorf("Verify = %v, want ErrCorrupt", err)
				}
			})
		}
	})
}

// insertDocWith inserts a document of archived content.
func insertDocWith(t testing.TB, s *Store, channel, key string, h archive.Hash, n int64) Document {
	t.Helper()
	var d Document
	write(t, s, func(tx *Tx) error {
		var err error
		d, _, err = tx.InsertDocument(context.Background(), DocumentInput{Channel: channel, SourceKey: key, SHA256: h, Size: n})
		return err
	})
	return d
}

// TestPruneArchive: content that no document or archived ack refers to
// goes once older than the cutoff, with its chunks; referenced, recent
// and re-stored content stays; the file archive is not pruned.
func TestPruneArchive(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		clock := newFakeClock()
		opts := drv.options(t)
		opts.ArchiveInDB = true
		s := openStore(t, opts, clock)
		putBytes := func(b []byte) archive.Hash {
			t.Helper()
			h, _, err := s.Archive().Put(ctx, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		docContent := []byte("ISA*00*REFERENCED BY A DOCUMENT~")
		ackContent := []byte("ISA*00*REFERENCED BY AN ACK~")
		orphan := []byte("ISA*00*NOBODY REFERS TO IT~")
		again := []byte("ISA*00*STORED AGAIN LATER~")
		hDoc, hAck, hOrphan, hAgain := putBytes(docContent), putBytes(ackContent), putBytes(orphan), putBytes(again)
		hLarge, _, err := s.Archive().Put(ctx, newPattern(7, 2*BlobChunk+1))
		if err != nil {
			t.Fatal(err)
		}
		doc := insertDocWith(t, s, "edi", "referenced", hDoc, int64(len(docContent)))
		write(t, s, func(tx *Tx) error {
			_, _, err := tx.InsertAck(ctx, AckInput{DocumentID: doc.ID, Kind: AckCONTRL, SHA256: hAck, Destination: "edi"})
			return err
		})
		clock.Advance(2 * time.Hour)
		putBytes(again) // renewed
		recent := []byte("ISA*00*TOO RECENT TO GO~")
		hRecent := putBytes(recent)

		n, err := s.PruneArchive(ctx, clock.Now().Add(-time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("PruneArchive = %d, %v; want 2 (the orphan, the large orphan)", n, err)
		}
		tests := []struct {
			name string
			h    archive.Hash
			kept bool
		}{
			{"referenced by a document", hDoc, true},
			{"referenced by an ack", hAck, true},
			{"stored again since", hAgain, true},
			{"recent", hRecent, true},
			{"orphan", hOrphan, false},
			{"large orphan", hLarge, false},
		}
		for _, tc := range tests {
			_, err := s.Archive().Stat(tc.h)
			if kept := err == nil; kept != tc.kept {
				t.Errorf("%s: Stat = %v, want kept=%v", tc.name, err, tc.kept)
			}
		}
		if c := count(t, s, "archive_chunks"); c != 0 {
			t.Errorf("archive_chunks: %d rows left, want the large orphan's gone", c)
		}
		if n, err := s.PruneArchive(ctx, clock.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("second PruneArchive = %d, %v; want 0", n, err)
		}

		files := openStore(t, drv.options(t), clock)
		put(t, files, "a file")
		if n, err := files.PruneArchive(ctx, clock.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("PruneArchive of the file archive = %d, %v; want 0, nil", n, err)
		}
	})
}

// TestArchiveInDBCompressed: on SQLite compressible content of one chunk
// is stored as a zstd frame (its body shorter than its size), read back
// as it was, and a damaged frame reads as corrupt; on PostgreSQL it is
// stored as it is.
func TestArchiveInDBCompressed(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := dbArchiveStore(t, drv)
		ctx := context.Background()
		content := []byte(strings.Repeat("PO1*1*10*EA*2.50**BP*SCR-100~\n", 100))
		h, n, err := s.Archive().Put(ctx, bytes.NewReader(content))
		if err != nil || n != int64(len(content)) {
			t.Fatalf("Put = %d, %v", n, err)
		}
		var body int
		if err := s.testDB().QueryRow(`SELECT length(body) FROM archive_blobs WHERE sha256 = ?`, h.String()).Scan(&body); err != nil {
			t.Fatal(err)
		}
		if compressed := body < len(content)/4; compressed != (drv.name == DriverSQLite) {
			t.Errorf("%s: body of %d bytes for %d bytes of content", drv.name, body, len(content))
		}
		if got, err := readArchived(s, h); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("read back %d bytes (%v), want the %d stored", len(got), err, len(content))
		}
		if drv.name != DriverSQLite {
			return
		}
		if _, err := s.testDB().Exec(`UPDATE archive_blobs SET body = substr(body, 1, length(body) - 3) WHERE sha256 = ?`, h.String()); err != nil {
			t.Fatal(err)
		}
		if err := s.Archive().Verify(ctx, h); !errors.Is(err, archive.ErrCorrupt) {
			t.Errorf("Verify of a damaged frame = %v, want ErrCorrupt", err)
		}
	})
}

// readArchived reads the archived content with hash h.
func readArchived(s *Store, h archive.Hash) ([]byte, error) {
	rc, err := s.Archive().Open(h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestPrepareContent: content of one chunk prepared outside the
// transaction is stored by PutPrepared as PutContent stores it
// (compressed where that is smaller), rolls back with its transaction,
// and is read back whole; larger content, and a store whose transaction
// does not archive, are not prepared.
func TestPrepareContent(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		content    []byte
		prepared   bool
		compressed bool
	}{
		{"empty", nil, true, false},
		{"short", []byte("ISA*00*~"), true, false},
		{"compressible", []byte(strings.Repeat("PO1*1*10*EA*2.50**BP*SCR-100~\n", 100)), true, true},
		{"incompressible", patternBytes(t, 7, 4000), true, false},
		{"one chunk minus one", patternBytes(t, 8, BlobChunk-1), true, false},
		{"one chunk", patternBytes(t, 9, BlobChunk), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dbArchiveStore(t, testDriver{DriverSQLite})
			pc, err := s.PrepareContent(ctx, bytes.NewReader(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if (pc != nil) != tt.prepared {
				t.Fatalf("prepared = %v, want %v", pc != nil, tt.prepared)
			}
			if pc == nil {
				return
			}
			if pc.Hash() != archive.Sum(tt.content) || pc.Size() != int64(len(tt.content)) {
				t.Fatalf("prepared %s, %d bytes; want %s, %d", pc.Hash(), pc.Size(), archive.Sum(tt.content), len(tt.content))
			}
			errRollback := errors.New("roll back")
			if err := s.Write(ctx, func(tx *Tx) error {
				if err := tx.PutPrepared(ctx, pc); err != nil {
					return err
				}
				return errRollback
			}); !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
			if _, err := s.Archive().Stat(pc.Hash()); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("content of a rolled back transaction: Stat = %v, want ErrNotFound", err)
			}
			for range 2 { // stored, then touched
				if err := s.Write(ctx, func(tx *Tx) error {
					if err := tx.PutPrepared(ctx, pc); err != nil {
						return err
					}
					_, _, err := tx.InsertDocument(ctx, DocumentInput{Channel: "edi", SourceKey: "k", Filename: "f",
						ReceivedAt: time.Now(), SHA256: pc.Hash(), Size: pc.Size()})
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			var body int
			if err := s.testDB().QueryRow(`SELECT length(body) FROM archive_blobs WHERE sha256 = ?`, pc.Hash().String()).Scan(&body); err != nil {
				t.Fatal(err)
			}
			if compressed := body < len(tt.content); compressed != tt.compressed {
				t.Errorf("body of %d bytes for %d bytes of content: compressed %v, want %v", body, len(tt.content), compressed, tt.compressed)
			}
			if got, err := readArchived(s, pc.Hash()); err != nil || !bytes.Equal(got, tt.content) {
				t.Errorf("read back %d bytes (%v), want the %d prepared", len(got), err, len(tt.content))
			}
		})
	}
	notInTx := map[string]*Store{
		"file archive": openStore(t, testDriver{DriverSQLite}.options(t), nil),
		"postgres":     dbArchiveStore(t, testDriver{DriverPostgres}),
	}
	for name, s := range notInTx {
		if pc, err := s.PrepareContent(ctx, bytes.NewReader([]byte("x"))); pc != nil || err != nil {
			t.Errorf("PrepareContent, %s = %v, %v; want nil", name, pc, err)
		}
	}
}

// patternBytes is n bytes of newPattern(seed, n).
func patternBytes(t testing.TB, seed byte, n int64) []byte {
	t.Helper()
	b, err := io.ReadAll(newPattern(seed, n))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
