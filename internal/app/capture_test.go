package app

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestProposeProfile: reviewers corrected the dates of a sender's drafts
// to the other reading of day and month; the proposal learns the date
// order from it, and nothing from another sender.
func TestProposeProfile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := fmt.Sprintf("store: {dsn: %[1]s/og.db, archive_dir: %[1]s/archive}\nlog: {level: error}\n", dir)
	path := filepath.Join(dir, "og.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tools, err := OpenTools(ctx, path, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer tools.Close(ctx)
	for i, day := range []string{"03", "05"} {
		id := newOrderID()
		draft := fmt.Sprintf(`{"id":%q,"channel":"fax","status":"review","source":{"standard":"fax","test":false},
			"po_number":"PO-%d","po_date":"2026-%s-11","lines":[{"line_no":"1","quantity":"1","sku":"X"}],
			"confidence":{"po_date":0.5},"provenance":{"po_date":"page 1 read \"%s/11/2026\""}}`, id, i, day, day)
		doc := channels.Document{Channel: "mail", SourceKey: id, Name: id + ".json", Received: time.Now(),
			Body: channels.BytesBody([]byte(draft)), SHA256: sha256.Sum256([]byte(draft)),
			Meta: map[string]string{"from": "buyer@acme.example"}}
		if _, err := tools.Pipeline.TakeBatch(ctx, []channels.Document{doc}); err != nil {
			t.Fatal(err)
		}
		rec, err := tools.Store.GetOrder(ctx, id)
		if err != nil || rec.Status != order.StatusReview {
			t.Fatalf("draft %s: %+v, %v", id, rec, err)
		}
		fixed, err := rec.Order()
		if err != nil {
			t.Fatal(err)
		}
		fixed.PODate, _ = order.NewDate(2026, 11, mustAtoi(t, day))
		if err := tools.Pipeline.AcceptDraft(ctx, id, fixed, "dora", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	n, err := tools.ProposeProfile(ctx, "acme", "acme.example", &out)
	if err != nil || n != 2 {
		t.Fatalf("ProposeProfile: %d corrections, %v", n, err)
	}
	if !strings.Contains(out.String(), "date_order: DMY") || !strings.Contains(out.String(), `'*@acme.example'`) {
		t.Errorf("proposal:\n%s", out.String())
	}
	if n, _ := tools.ProposeProfile(ctx, "other", "other.example", &strings.Builder{}); n != 0 {
		t.Errorf("%d corrections for a sender without reviews", n)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
