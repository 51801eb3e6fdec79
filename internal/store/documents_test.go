package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

func TestInsertDocumentIsIdempotentOnSourceKey(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		in := docInput(t, s, "nord-sftp", "/out/po_4711.edi", "ISA*00*...")
		in.Metadata = map[string]string{"remote_path": "/out/po_4711.edi"}

		var first, second Document
		var created1, created2 bool
		write(t, s, func(tx *Tx) (err error) { first, created1, err = tx.InsertDocument(ctx, in); return err })
		clock.Advance(time.Minute)
		again := in
		again.Filename = "changed.edi" // a re-delivery changes nothing
		write(t, s, func(tx *Tx) (err error) { second, created2, err = tx.InsertDocument(ctx, again); return err })

		if !created1 || created2 {
			t.Errorf("created: got %t, %t, want true, false", created1, created2)
		}
		if second.ID != first.ID || second.Filename != in.Filename || !second.ReceivedAt.Equal(first.ReceivedAt) {
			t.Errorf("second insert: got %+v, want the first row %+v", second, first)
		}
		if !strings.HasPrefix(first.ID, "doc_") {
			t.Errorf("id: got %q, want prefix doc_", first.ID)
		}
		if first.Status != DocumentReceived || first.SHA256 != in.SHA256 || first.Size != in.Size ||
			first.Metadata["remote_path"] != "/out/po_4711.edi" || !first.ReceivedAt.Equal(clock.Now().Add(-time.Minute)) {
			t.Errorf("stored document: got %+v", first)
		}
		if got := count(t, s, "documents"); got != 1 {
			t.Errorf("documents: got %d, want 1", got)
		}
		// The same source key on another channel is another document.
		other := in
		other.Channel = "mailbox"
		var created3 bool
		write(t, s, func(tx *Tx) (err error) { _, created3, err = tx.InsertDocument(ctx, other); return err })
		if !created3 {
			t.Error("same source key on another channel: got created=false, want true")
		}
	})
}

func TestInsertDocumentChecksTheArchive(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		good := docInput(t, s, "edi", "a.edi", "abc")
		tests := []struct {
			name string
			in   func() DocumentInput
			want error
		}{
			{"content not archived", func() DocumentInput {
				in := good
				in.SHA256 = archive.Sum([]byte("never archived"))
				return in
			}, ErrMissingContent},
			{"size differs", func() DocumentInput { in := good; in.Size++; return in }, ErrInvalid},
			{"no source key", func() DocumentInput { in := good; in.SourceKey = ""; return in }, ErrInvalid},
			{"no channel", func() DocumentInput { in := good; in.Channel = ""; return in }, ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Write(ctx, func(tx *Tx) error { _, _, err := tx.InsertDocument(ctx, tt.in()); return err })
				if !errors.Is(err, tt.want) {
					t.Errorf("InsertDocument: got %v, want %v", err, tt.want)
				}
			})
		}
	})
}

func TestDocumentStatusAndPartner(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		d := insertDoc(t, s, "edi", "x.edi")
		clock.Advance(time.Second)
		write(t, s, func(tx *Tx) error {
			if err := tx.SetDocumentPartner(ctx, d.ID, "baumarkt-nord", "X12"); err != nil {
				return err
			}
			return tx.SetDocumentStatus(ctx, d.ID, DocumentRejected, "segment 3 (BEG) element 3: missing")
		})
		got, err := s.GetDocument(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != DocumentRejected || got.Error != "segment 3 (BEG) element 3: missing" || got.PartnerID != "baumarkt-nord" {
			t.Errorf("document: got %+v", got)
		}
		if !got.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("updated_at: got %s, want %s", got.UpdatedAt, clock.Now())
		}

		tests := []struct {
			name   string
			id     string
			status DocumentStatus
			want   error
		}{
			{"unknown status", d.ID, "lost", ErrInvalid},
			{"unknown document", "doc_nope", DocumentParsed, ErrNotFound},
		}
		for _, tt := range tests {
			err := s.Write(ctx, func(tx *Tx) error { return tx.SetDocumentStatus(ctx, tt.id, tt.status, "") })
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
		if _, err := s.GetDocument(ctx, "doc_nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetDocument of a missing id: got %v, want %v", err, ErrNotFound)
		}
	})
}

func TestListDocuments(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		for i := range 30 {
			channel := "edi"
			if i%3 == 0 {
				channel = "mailbox"
			}
			d := insertDoc(t, s, channel, fmt.Sprintf("k%02d", i))
			if i%5 == 0 {
				write(t, s, func(tx *Tx) error { return tx.SetDocumentStatus(ctx, d.ID, DocumentParsed, "") })
			}
			clock.Advance(time.Second)
		}
		tests := []struct {
			name string
			f    DocumentFilter
			want int
		}{
			{"all", DocumentFilter{}, 30},
			{"channel", DocumentFilter{Channel: "mailbox"}, 10},
			{"status", DocumentFilter{Status: DocumentParsed}, 6},
			{"channel and status", DocumentFilter{Channel: "mailbox", Status: DocumentParsed}, 2},
			{"time range", DocumentFilter{From: newFakeClock().Now().Add(10 * time.Second), To: newFakeClock().Now().Add(20 * time.Second)}, 10},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []Document
				cursor := ""
				for {
					page, err := s.ListDocuments(ctx, tt.f, cursor, 4)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page.Documents...)
					if page.Next == "" {
						break
					}
					cursor = page.Next
				}
				if len(got) != tt.want {
					t.Fatalf("documents: got %d, want %d", len(got), tt.want)
				}
				for i := 1; i < len(got); i++ {
					if !got[i].ReceivedAt.Before(got[i-1].ReceivedAt) {
						t.Errorf("order: %s at %s is not before %s", got[i].ID, got[i].ReceivedAt, got[i-1].ReceivedAt)
					}
				}
			})
		}
	})
}

// TestPartnerBytesAreStorable: a Latin-1 file name and source key and a
// NUL quoted in an error are stored on both drivers (PostgreSQL text
// refuses them raw: they are kept as \xNN escapes there), and two names
// that differ only in such bytes stay two documents.
func TestPartnerBytesAreStorable(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, newFakeClock())
		ctx := context.Background()
		var ids []string
		for _, name := range []string{"/in/bestellung-m\xfcller.edi", "/in/bestellung-m\xe4ller.edi"} {
			in := docInput(t, s, "nord-sftp", name, "ISA*00*"+name)
			in.Filename = name
			var d Document
			write(t, s, func(tx *Tx) (err error) { d, _, err = tx.InsertDocument(ctx, in); return err })
			write(t, s, func(tx *Tx) error {
				return tx.SetDocumentStatus(ctx, d.ID, DocumentRejected, "segment 3: unexpected byte \x00 in "+name)
			})
			ids = append(ids, d.ID)
		}
		if ids[0] == ids[1] {
			t.Fatalf("two names differing in a Latin-1 byte became one document %s", ids[0])
		}
		got, err := s.GetDocument(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{
			DriverSQLite:   {"/in/bestellung-m\xfcller.edi", "segment 3: unexpected byte \x00 in /in/bestellung-m\xfcller.edi"},
			DriverPostgres: {`/in/bestellung-m\xFCller.edi`, `segment 3: unexpected byte \x00 in /in/bestellung-m\xFCller.edi`},
		}[drv.name]
		if got.Filename != want[0] || got.Error != want[1] || got.Status != DocumentRejected {
			t.Errorf("stored %q, %q, %s; want %q, %q, rejected", got.Filename, got.Error, got.Status, want[0], want[1])
		}
	})
}
