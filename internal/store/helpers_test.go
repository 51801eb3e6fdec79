package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/normalize/order"
)

// fakeClock is a settable clock for the store's Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testStore opens a store in a temporary directory, closed at cleanup.
func testStore(t testing.TB, clock *fakeClock) *Store {
	t.Helper()
	dir := t.TempDir()
	opts := Options{Path: filepath.Join(dir, "db", "ordergate.db"), ArchiveDir: filepath.Join(dir, "archive")}
	if clock != nil {
		opts.Now = clock.Now
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// put archives content and returns its hash and size.
func put(t testing.TB, s *Store, content string) (archive.Hash, int64) {
	t.Helper()
	h, n, err := s.Archive().Put(context.Background(), bytes.NewReader([]byte(content)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return h, n
}

// docInput archives content and returns the input of a document with it.
func docInput(t testing.TB, s *Store, channel, sourceKey, content string) DocumentInput {
	t.Helper()
	h, n := put(t, s, content)
	return DocumentInput{Channel: channel, SourceKey: sourceKey, SHA256: h, Size: n, Filename: sourceKey,
		ContentType: "application/edi-x12", Standard: "X12"}
}

// write runs fn in a write transaction and fails the test on error.
func write(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// insertDoc stores a document and returns it.
func insertDoc(t testing.TB, s *Store, channel, sourceKey string) Document {
	t.Helper()
	in := docInput(t, s, channel, sourceKey, "content of "+channel+"/"+sourceKey)
	var d Document
	write(t, s, func(tx *Tx) (err error) { d, _, err = tx.InsertDocument(context.Background(), in); return err })
	return d
}

func testOrder(po string) *order.Order {
	return &order.Order{
		Channel:    order.ChannelEDI,
		Source:     order.Source{Standard: "X12", SenderID: "BAUMARKTNORD"},
		Purpose:    order.PurposeOriginal,
		PONumber:   po,
		PODate:     order.Date{Year: 2026, Month: 11, Day: 18},
		Currency:   "EUR",
		CustomerID: "C-1000",
		Lines:      []order.Line{{LineNo: "1"}},
	}
}

// insertOrder stores a document and one order of it.
func insertOrder(t testing.TB, s *Store, sourceKey string, o *order.Order) OrderRecord {
	t.Helper()
	d := insertDoc(t, s, "edi", sourceKey)
	var r OrderRecord
	write(t, s, func(tx *Tx) (err error) {
		r, _, err = tx.InsertOrder(context.Background(), OrderInput{DocumentID: d.ID, Order: o, PartnerID: "baumarkt-nord"})
		return err
	})
	return r
}

func count(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s", table)).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}
