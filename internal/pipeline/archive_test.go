package pipeline_test

import (
	"bytes"
	"io"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/store"
)

// TestIntakeArchiveInDB: on SQLite with the archive in the database, a
// small document (parsed at intake) and one over 1 MiB (parsed by the
// parse stage, which reads it back from the archive) are archived in the
// database, none in archive_dir, and read back as received.
func TestIntakeArchiveInDB(t *testing.T) {
	t.Run(sqliteArchiveInDB, func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		if !h.st.ArchiveInTx() {
			t.Fatal("the store does not archive in the intake transaction")
		}
		small := fixtures.X12850(4711, "PO-SMALL", 3)
		// Over 1 MiB (parsed by the parse stage), cheap to parse: line
		// ends after the interchange.
		large := append(fixtures.X12850(4712, "PO-LARGE", 3), bytes.Repeat([]byte("\r\n"), 600<<10)...)
		if len(large) <= 1<<20 {
			t.Fatalf("the large document has %d bytes, want over 1 MiB", len(large))
		}
		h.src.push("small", small)
		h.src.push("large", large)
		for key, body := range map[string][]byte{"small": small, "large": large} {
			doc := h.documentIn(key, store.DocumentParsed)
			rc, err := h.st.Archive().Open(doc.SHA256)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("%s: read back %d bytes (%v), want the %d received", key, len(got), err, len(body))
			}
		}
		err := filepath.WalkDir(filepath.Join(h.dir, "archive"), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("a file in archive_dir: %s", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
