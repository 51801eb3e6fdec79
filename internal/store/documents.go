package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
)

// DocumentStatus is where a received document stands.
type DocumentStatus string

// The document statuses.
const (
	DocumentReceived    DocumentStatus = "received"
	DocumentParsed      DocumentStatus = "parsed"
	DocumentRejected    DocumentStatus = "rejected"
	DocumentDuplicate   DocumentStatus = "duplicate"
	DocumentQuarantined DocumentStatus = "quarantined"
)

func (s DocumentStatus) valid() bool {
	switch s {
	case DocumentReceived, DocumentParsed, DocumentRejected, DocumentDuplicate, DocumentQuarantined:
		return true
	}
	return false
}

// DocumentInput is what intake knows about a document it received.
type DocumentInput struct {
	Channel     string // channel name, e.g. "nord-sftp"
	SourceKey   string // stable key of the document at its source (unique per channel)
	SHA256      archive.Hash
	Size        int64
	Filename    string
	ContentType string
	ReceivedAt  time.Time // the store's clock when zero
	PartnerID   string    // when the channel already knows it
	Standard    string    // X12, EDIFACT, EMAIL, PDF, JSON, DESK, when known
	Metadata    map[string]string
}

// Document is a received document: the row that refers to its raw bytes
// in the archive.
type Document struct {
	ID          string
	Channel     string
	SourceKey   string
	SHA256      archive.Hash
	Size        int64
	Filename    string
	ContentType string
	ReceivedAt  time.Time
	PartnerID   string
	Standard    string
	Status      DocumentStatus
	Error       string
	Metadata    map[string]string
	UpdatedAt   time.Time
}

const documentColumns = `id, channel, source_key, sha256, size, filename, content_type, received_at,
	partner_id, standard, status, error, metadata, updated_at`

func scanDocument(row interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var sum string
	var received, updated int64
	var meta sql.NullString
	err := row.Scan(&d.ID, &d.Channel, &d.SourceKey, &sum, &d.Size, &d.Filename, &d.ContentType, &received,
		&d.PartnerID, &d.Standard, &d.Status, &d.Error, &meta, &updated)
	if err != nil {
		return Document{}, err
	}
	if d.SHA256, err = archive.ParseHash(sum); err != nil {
		return Document{}, fmt.Errorf("document %s: %w", d.ID, err)
	}
	if meta.Valid {
		if err := json.Unmarshal([]byte(meta.String), &d.Metadata); err != nil {
			return Document{}, fmt.Errorf("document %s: metadata: %w", d.ID, err)
		}
	}
	d.ReceivedAt, d.UpdatedAt = fromNanos(received), fromNanos(updated)
	return d, nil
}

func marshalMap(m map[string]string) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// InsertDocument records a received document with status "received". It is
// idempotent on (Channel, SourceKey): when that document is already there
// it returns the existing row and created=false, changing nothing (the
// re-delivery no-op). The content must already be in the archive
// (ErrMissingContent otherwise), so no row ever refers to missing bytes.
func (t *Tx) InsertDocument(ctx context.Context, in DocumentInput) (doc Document, created bool, err error) {
	if in.Channel == "" || in.SourceKey == "" || in.SHA256.IsZero() {
		return Document{}, false, fmt.Errorf("inserting document: %w: channel, source key and hash are required", ErrInvalid)
	}
	size, err := t.statContent(ctx, in.SHA256)
	if errors.Is(err, archive.ErrNotFound) {
		return Document{}, false, fmt.Errorf("inserting document %s/%s: %w: %s", in.Channel, in.SourceKey, ErrMissingContent, in.SHA256)
	}
	if err != nil {
		return Document{}, false, fmt.Errorf("inserting document %s/%s: %w", in.Channel, in.SourceKey, err)
	}
	if size != in.Size {
		return Document{}, false, fmt.Errorf("inserting document %s/%s: %w: size %d, archive has %d bytes", in.Channel, in.SourceKey, ErrInvalid, in.Size, size)
	}
	meta, err := marshalMap(in.Metadata)
	if err != nil {
		return Document{}, false, fmt.Errorf("inserting document %s/%s: metadata: %w", in.Channel, in.SourceKey, err)
	}
	now := t.s.clock()
	received := in.ReceivedAt
	if received.IsZero() {
		received = now
	}
	id := t.s.newID("doc", now)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO documents (`+documentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)
		ON CONFLICT (channel, source_key) DO NOTHING`,
		id, in.Channel, in.SourceKey, in.SHA256.String(), in.Size, in.Filename, in.ContentType, nanos(received),
		in.PartnerID, in.Standard, DocumentReceived, meta, nanos(now))
	if err != nil {
		return Document{}, false, fmt.Errorf("inserting document %s/%s: %w", in.Channel, in.SourceKey, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Document{}, false, fmt.Errorf("inserting document %s/%s: %w", in.Channel, in.SourceKey, err)
	}
	if n == 1 {
		// The row is what was inserted (TestInsertDocumentReturnsRow).
		tx := t.tx.rb.text
		doc = Document{ID: id, Channel: tx(in.Channel), SourceKey: tx(in.SourceKey), SHA256: in.SHA256, Size: in.Size,
			Filename: tx(in.Filename), ContentType: tx(in.ContentType), ReceivedAt: fromNanos(nanos(received)),
			PartnerID: tx(in.PartnerID), Standard: tx(in.Standard), Status: DocumentReceived, UpdatedAt: fromNanos(nanos(now))}
		if meta.Valid {
			if err := json.Unmarshal([]byte(meta.String), &doc.Metadata); err != nil {
				return Document{}, false, fmt.Errorf("document %s: metadata: %w", id, err)
			}
		}
		return doc, true, nil
	}
	// The document was there: the stored row.
	row := t.tx.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE channel = ? AND source_key = ?`,
		in.Channel, in.SourceKey)
	doc, err = scanDocument(row)
	if err != nil {
		return Document{}, false, fmt.Errorf("reading document %s/%s: %w", in.Channel, in.SourceKey, err)
	}
	return doc, false, nil
}

func getDocument(ctx context.Context, q querier, id string) (Document, error) {
	d, err := scanDocument(q.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, fmt.Errorf("reading document %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Document{}, fmt.Errorf("reading document %s: %w", id, err)
	}
	return d, nil
}

// GetDocument returns the document with id, or ErrNotFound.
func (t *Tx) GetDocument(ctx context.Context, id string) (Document, error) {
	return getDocument(ctx, t.tx, id)
}

// GetDocument returns the committed document with id, or ErrNotFound.
func (s *Store) GetDocument(ctx context.Context, id string) (Document, error) {
	var d Document
	err := s.read(ctx, func(q querier) (err error) { d, err = getDocument(ctx, q, id); return err })
	return d, err
}

// SetDocumentStatus sets the status of a document and its error text
// ("" clears it).
func (t *Tx) SetDocumentStatus(ctx context.Context, id string, status DocumentStatus, errText string) error {
	if !status.valid() {
		return fmt.Errorf("setting status of document %s: %w: status %q", id, ErrInvalid, status)
	}
	return t.updateDocument(ctx, id, `status = ?, error = ?`, status, errText)
}

// SetDocumentOutcome is SetDocumentPartner and SetDocumentStatus in one
// statement: what parsing a document found.
func (t *Tx) SetDocumentOutcome(ctx context.Context, id, partnerID, standard string, status DocumentStatus, errText string) error {
	if !status.valid() {
		return fmt.Errorf("setting status of document %s: %w: status %q", id, ErrInvalid, status)
	}
	return t.updateDocument(ctx, id, `partner_id = ?, standard = ?, status = ?, error = ?`, partnerID, standard, status, errText)
}

// SetDocumentPartner records the partner and standard a later stage
// recognised in the document.
func (t *Tx) SetDocumentPartner(ctx context.Context, id, partnerID, standard string) error {
	return t.updateDocument(ctx, id, `partner_id = ?, standard = ?`, partnerID, standard)
}

func (t *Tx) updateDocument(ctx context.Context, id, set string, args ...any) error {
	args = append(args, nanos(t.s.clock()), id)
	res, err := t.tx.ExecContext(ctx, `UPDATE documents SET `+set+`, updated_at = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("updating document %s: %w", id, err)
	}
	return expectOneRow(res, "updating document "+id)
}

func expectOneRow(res sql.Result, doing string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", doing, ErrNotFound)
	}
	return nil
}

// DocumentFilter selects documents; zero fields select all.
type DocumentFilter struct {
	Channel   string
	Status    DocumentStatus
	PartnerID string
	SHA256    archive.Hash
	From      time.Time // received at or after
	To        time.Time // received before
	Ascending bool      // oldest first; newest first by default
}

// DocumentPage is one page of documents; Next is the cursor of the next
// page, "" on the last.
type DocumentPage struct {
	Documents []Document
	Next      string
}

func listDocuments(ctx context.Context, q querier, f DocumentFilter, cursor string, limit int) (DocumentPage, error) {
	limit = pageSize(limit)
	var conds []string
	var args []any
	add := func(cond string, arg any) { conds = append(conds, cond); args = append(args, arg) }
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.PartnerID != "" {
		add("partner_id = ?", f.PartnerID)
	}
	if !f.SHA256.IsZero() {
		add("sha256 = ?", f.SHA256.String())
	}
	if !f.From.IsZero() {
		add("received_at >= ?", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("received_at < ?", nanos(f.To))
	}
	tail, args, err := pageQuery(conds, args, "received_at", cursor, f.Ascending, limit)
	if err != nil {
		return DocumentPage{}, fmt.Errorf("listing documents: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+documentColumns+` FROM documents`+tail, args...)
	if err != nil {
		return DocumentPage{}, fmt.Errorf("listing documents: %w", err)
	}
	defer rows.Close()
	var page DocumentPage
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return DocumentPage{}, fmt.Errorf("listing documents: %w", err)
		}
		page.Documents = append(page.Documents, d)
	}
	if err := rows.Err(); err != nil {
		return DocumentPage{}, fmt.Errorf("listing documents: %w", err)
	}
	if len(page.Documents) > limit {
		page.Documents = page.Documents[:limit]
		last := page.Documents[limit-1]
		page.Next = encodeCursor(last.ReceivedAt, last.ID)
	}
	return page, nil
}

// ListDocuments returns one page of documents matching f, ordered by
// (received_at, id), starting after cursor ("" for the first page).
// limit is capped at MaxPageSize (DefaultPageSize when 0).
func (t *Tx) ListDocuments(ctx context.Context, f DocumentFilter, cursor string, limit int) (DocumentPage, error) {
	return listDocuments(ctx, t.tx, f, cursor, limit)
}

// ListDocuments is Tx.ListDocuments over committed data.
func (s *Store) ListDocuments(ctx context.Context, f DocumentFilter, cursor string, limit int) (DocumentPage, error) {
	var p DocumentPage
	err := s.read(ctx, func(q querier) (err error) { p, err = listDocuments(ctx, q, f, cursor, limit); return err })
	return p, err
}

// DocumentsByID returns the documents with the given ids that exist, in
// no particular order (a batch lookup for pollers of document status).
func (s *Store) DocumentsByID(ctx context.Context, ids []string) ([]Document, error) {
	var out []Document
	err := s.read(ctx, func(q querier) error {
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
			}
			rows, err := q.QueryContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
			if err != nil {
				return fmt.Errorf("reading documents: %w", err)
			}
			for rows.Next() {
				d, err := scanDocument(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("reading documents: %w", err)
				}
				out = append(out, d)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("reading documents: %w", err)
			}
		}
		return nil
	})
	return out, err
}
