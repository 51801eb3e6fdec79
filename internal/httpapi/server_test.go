package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

const token = "test-admin-token"

// fixture opens a real store with one document and n orders.
func fixture(t *testing.T, n int) (*httptest.Server, *store.Store, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "db.sqlite"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	raw := []byte("ISA*00*raw document bytes~")
	h, size, err := st.Archive().Put(ctx, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var docID string
	err = st.Write(ctx, func(tx *store.Tx) error {
		doc, _, err := tx.InsertDocument(ctx, store.DocumentInput{Channel: "inbox", SourceKey: "k1", SHA256: h, Size: size,
			Filename: "po 1.x12", ContentType: "application/edi-x12", Standard: "X12"})
		if err != nil {
			return err
		}
		docID = doc.ID
		for i := 0; i < n; i++ {
			o := &order.Order{Channel: order.ChannelEDI, Source: order.Source{Standard: "X12"},
				PONumber: fmt.Sprintf("PO-%03d", i), Status: order.StatusReceived,
				Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("2"), SKU: "X"}}}
			if i%2 == 1 {
				o.Status = order.StatusAccepted
			}
			rec, _, err := tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, MessageIndex: i, PartnerID: "acme", Order: o})
			if err != nil {
				return err
			}
			if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "parsed", Reason: "test"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Store: st, Raw: st.Archive(), AdminToken: token}))
	t.Cleanup(srv.Close)
	return srv, st, docID
}

func get(t *testing.T, srv *httptest.Server, path, tok string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAuth(t *testing.T) {
	srv, _, docID := fixture(t, 1)
	for _, path := range []string{"/api/v1/orders", "/api/v1/documents/" + docID, "/api/v1/documents/" + docID + "/raw", "/api/v1/quarantine", "/api/v1/dead-letters"} {
		for _, tok := range []string{"", "wrong"} {
			resp, body := get(t, srv, path, tok)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with token %q: status %d, want 401", path, tok, resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("GET %s: content type %q, body %s", path, ct, body)
			}
		}
	}
	if resp, _ := get(t, srv, "/healthz", ""); resp.StatusCode != 200 {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
}

func TestListOrdersPagination(t *testing.T) {
	srv, _, _ := fixture(t, 7)
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		resp, body := get(t, srv, "/api/v1/orders?limit=3&cursor="+cursor, token)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var page struct {
			Orders []orderSummary `json:"orders"`
			Next   string         `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Orders {
			if seen[o.ID] {
				t.Errorf("order %s on two pages", o.ID)
			}
			seen[o.ID] = true
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(seen) != 7 {
		t.Errorf("saw %d orders, want 7", len(seen))
	}
	_, body := get(t, srv, "/api/v1/orders?status=accepted", token)
	if got := strings.Count(string(body), `"status": "accepted"`); got != 3 {
		t.Errorf("status=accepted gave %d orders, want 3: %s", got, body)
	}
	_, body = get(t, srv, "/api/v1/orders?po_number=PO-004", token)
	if !strings.Contains(string(body), `"PO-004"`) || strings.Count(string(body), `"id"`) != 1 {
		t.Errorf("po_number filter: %s", body)
	}
}

func TestBadQueryIsProblem(t *testing.T) {
	srv, _, _ := fixture(t, 1)
	resp, body := get(t, srv, "/api/v1/orders?status=nonsense&limit=0&from=yesterday", token)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	var params []string
	for _, e := range p.Errors {
		params = append(params, e.Parameter)
	}
	if got := strings.Join(params, ","); got != "status,from,limit" {
		t.Errorf("problem parameters %q, want status,from,limit (%s)", got, body)
	}
	resp, _ = get(t, srv, "/api/v1/orders?cursor=garbage", token)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: status %d, want 400", resp.StatusCode)
	}
	resp, _ = get(t, srv, "/api/v1/orders/ord_nope", token)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order: status %d, want 404", resp.StatusCode)
	}
}

func TestOrderAndDocument(t *testing.T) {
	srv, _, docID := fixture(t, 1)
	_, body := get(t, srv, "/api/v1/documents/"+docID, token)
	var doc struct {
		ID     string         `json:"id"`
		Orders []orderSummary `json:"orders"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.ID != docID || len(doc.Orders) != 1 {
		t.Fatalf("document: %v %s", err, body)
	}
	_, body = get(t, srv, "/api/v1/orders/"+doc.Orders[0].ID, token)
	var o struct {
		Order    order.Order `json:"order"`
		Timeline []eventView `json:"timeline"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatal(err)
	}
	if o.Order.PONumber != "PO-000" || len(o.Timeline) != 1 || o.Timeline[0].Kind != "parsed" {
		t.Errorf("order view: %s", body)
	}
	resp, raw := get(t, srv, "/api/v1/documents/"+docID+"/raw", token)
	if string(raw) != "ISA*00*raw document bytes~" {
		t.Errorf("raw = %q", raw)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="po_1.x12"` {
		t.Errorf("Content-Disposition %q", cd)
	}
}

// TestHealthzRole: /healthz reports the node, its driver and the channels
// it polls, without a token.
func TestHealthzRole(t *testing.T) {
	since := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		role func() NodeRole
		want string
	}{
		{"no role", nil, `{"status":"ok"}`},
		{"polls nothing", func() NodeRole { return NodeRole{Node: "gw-2", Driver: "postgres"} },
			`{"status":"ok","node":"gw-2","driver":"postgres","polls":[]}`},
		{"polls two", func() NodeRole {
			return NodeRole{Node: "gw-1", Driver: "postgres", Polls: []PolledChannel{{"nord-sftp", 7, since}, {"orders-imap", 3, since}}}
		}, `{"status":"ok","node":"gw-1","driver":"postgres","polls":[{"channel":"nord-sftp","lease_token":7,"since":"2026-11-27T10:00:00Z"},{"channel":"orders-imap","lease_token":3,"since":"2026-11-27T10:00:00Z"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{Role: tc.role}))
			defer srv.Close()
			resp, body := get(t, srv, "/healthz", "")
			var compact bytes.Buffer
			if err := json.Compact(&compact, body); err != nil {
				t.Fatalf("/healthz body %s: %v", body, err)
			}
			if resp.StatusCode != http.StatusOK || compact.String() != tc.want {
				t.Errorf("/healthz = %d %s, want 200 %s", resp.StatusCode, compact.String(), tc.want)
			}
		})
	}
}
