package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestReplayCapturedOrder: a captured order (an e-mail here) is replayed
// as stored, with the reviewer's correction, not by parsing its raw
// document as EDI.
func TestReplayCapturedOrder(t *testing.T) {
	ctx := context.Background()
	tools := openTestTools(t)

	raw := []byte("From: einkauf@baumarkt-nord.example\r\nSubject: Bestellung 4711\r\n\r\nBitte 10 Schrauben SCR-100 liefern.\r\n")
	h, n, err := tools.Store.Archive().Put(ctx, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	// The reviewer corrected the quantity read from the mail (10) to 18.
	reviewed := &order.Order{Channel: order.ChannelEmail, Source: order.Source{Standard: "EMAIL"}, PONumber: "4711",
		Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("18"), Unit: "EA", SKU: "SCR-100"}}}
	var rec store.OrderRecord
	err = tools.Store.Write(ctx, func(tx *store.Tx) error {
		doc, _, err := tx.InsertDocument(ctx, store.DocumentInput{Channel: "mail", SourceKey: "mail-1", SHA256: h, Size: n,
			Filename: "mail-1.eml", Standard: pipeline.StandardEmail})
		if err != nil {
			return err
		}
		rec, _, err = tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, Order: reviewed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := tools.Replay(ctx, rec)
	if got.Error != "" {
		t.Fatalf("replay: %s", got.Error)
	}
	if len(got.Order.Lines) != 1 || got.Order.Lines[0].Quantity.String() != "18" || got.Order.PONumber != "4711" {
		t.Errorf("replayed order = %+v, want the reviewed one (18 of SCR-100)", got.Order)
	}
}

// openTestTools opens the tools (store, archive) of a minimal
// configuration in a temp dir, closed when the test ends.
func openTestTools(t *testing.T) *Tools {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "og.yaml")
	cfg := fmt.Sprintf(`store: {dsn: %[1]s/og.db, archive_dir: %[1]s/archive}
log: {level: error}
channels:
  - {name: inbox, type: dir, path: %[1]s/inbox}
routes:
  - {name: default, to: out}
backends:
  - {name: out, type: filedrop, dir: %[1]s/out}
`, dir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tools, err := OpenTools(ctx, cfgPath, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tools.Close(ctx) })
	return tools
}
