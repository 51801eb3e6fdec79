package store

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// TestInsertDocumentReturnsRow: the document InsertDocument returns
// without reading its row back is the row as stored, also for text that
// PostgreSQL stores escaped (invalid UTF-8, NUL) and metadata that JSON
// stores with replacement characters.
func TestInsertDocumentReturnsRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := dbArchiveStoreAt(t, drv, clock)
		ctx := context.Background()
		body := []byte("ISA*00*RETURNED ROW~")
		for _, in := range []DocumentInput{
			{Channel: "edi", SourceKey: "plain", Filename: "po.edi", ContentType: "application/edi-x12", Standard: "X12", PartnerID: "acme"},
			{Channel: "edi", SourceKey: "odd\xff\x00key", Filename: "po\xe9\x00.edi", ContentType: "text/plain", PartnerID: "p\xfe",
				ReceivedAt: clock.Now().Add(-time.Hour), Metadata: map[string]string{"remote_path": "/out/\xff.edi", "k": "v"}},
		} {
			var got Document
			var created bool
			write(t, s, func(tx *Tx) error {
				h, n, err := tx.PutContent(ctx, bytes.NewReader(body), int64(len(body)), archive.Sum(body))
				if err != nil {
					return err
				}
				in.SHA256, in.Size = h, n
				got, created, err = tx.InsertDocument(ctx, in)
				return err
			})
			if !created {
				t.Fatalf("%q: not created", in.SourceKey)
			}
			stored, err := s.GetDocument(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, stored) {
				t.Errorf("%q: InsertDocument returned\n%+v\nthe row is\n%+v", in.SourceKey, got, stored)
			}
		}
	})
}

// TestInsertAckReturnsRow: the ack InsertAck returns without reading its
// row back is the row as stored, with its bytes in the row or in the
// archive.
func TestInsertAckReturnsRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, newFakeClock())
		ctx := context.Background()
		doc := insertDoc(t, s, "edi", "acked.edi")
		archived, _ := put(t, s, "ISA*00*ARCHIVED ACK~")
		for _, in := range []AckInput{
			{DocumentID: doc.ID, PartnerID: "acme", Kind: Ack997, Destination: "edi", Body: []byte("ISA*00*997~")},
			{DocumentID: doc.ID, PartnerID: "p\xff", Kind: AckTA1, Destination: "out\x00box", SHA256: archived},
		} {
			write(t, s, func(tx *Tx) error {
				got, created, err := tx.InsertAck(ctx, in)
				if err != nil {
					return err
				}
				if !created {
					t.Fatalf("%s: not created", in.Kind)
				}
				stored, err := tx.GetAck(ctx, got.ID)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(got, stored) {
					t.Errorf("%s: InsertAck returned\n%+v\nthe row is\n%+v", in.Kind, got, stored)
				}
				return nil
			})
		}
	})
}

// TestPutContentSmallStoredBefore: small content stored before is
// touched, not stored again (PruneArchive's grace period starts over),
// and a stored row of another size under its hash is a mismatch.
func TestPutContentSmallStoredBefore(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := dbArchiveStoreAt(t, drv, clock)
		ctx := context.Background()
		body := []byte("ISA*00*TWICE~")
		h := archive.Sum(body)
		putIn := func() (archive.Hash, int64, error) {
			var gh archive.Hash
			var gn int64
			err := s.Write(ctx, func(tx *Tx) (err error) {
				gh, gn, err = tx.PutContent(ctx, bytes.NewReader(body), int64(len(body)), h)
				return err
			})
			return gh, gn, err
		}
		if gh, gn, err := putIn(); err != nil || gh != h || gn != int64(len(body)) {
			t.Fatalf("first PutContent: %s %d %v", gh, gn, err)
		}
		clock.Advance(time.Hour)
		if gh, gn, err := putIn(); err != nil || gh != h || gn != int64(len(body)) {
			t.Fatalf("second PutContent: %s %d %v", gh, gn, err)
		}
		var created int64
		if err := s.testDB().QueryRow(`SELECT created_at FROM archive_blobs WHERE sha256 = ?`, h.String()).Scan(&created); err != nil {
			t.Fatal(err)
		}
		if want := nanos(clock.Now()); created != want {
			t.Errorf("created_at after the second PutContent: %d, want %d (touched)", created, want)
		}
		if c := count(t, s, "archive_blobs"); c != 1 {
			t.Errorf("archive_blobs: %d rows, want 1", c)
		}
		if _, err := s.testDB().Exec(`UPDATE archive_blobs SET size = size + 1 WHERE sha256 = ?`, h.String()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := putIn(); !errors.Is(err, archive.ErrMismatch) {
			t.Errorf("PutContent over a row of another size: %v, want ErrMismatch", err)
		}
	})
}

// TestPutContentRolledBackInAttempt: content stored in a savepoint that
// is rolled back is not taken for stored by a later insert of the
// transaction.
func TestPutContentRolledBackInAttempt(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := dbArchiveStore(t, drv)
		ctx := context.Background()
		body := []byte("ISA*00*ROLLED BACK IN A SAVEPOINT~")
		errStop := errors.New("stop")
		err := s.Write(ctx, func(tx *Tx) error {
			failed, err := tx.Attempt(ctx, func() error {
				if _, _, err := tx.PutContent(ctx, bytes.NewReader(body), int64(len(body)), archive.Sum(body)); err != nil {
					return err
				}
				return errStop
			})
			if err != nil || !errors.Is(failed, errStop) {
				t.Fatalf("Attempt: %v, %v", failed, err)
			}
			_, _, err = tx.InsertDocument(ctx, DocumentInput{Channel: "edi", SourceKey: "k", SHA256: archive.Sum(body), Size: int64(len(body))})
			return err
		})
		if !errors.Is(err, ErrMissingContent) {
			t.Errorf("InsertDocument after the savepoint's rollback: %v, want ErrMissingContent", err)
		}
	})
}
