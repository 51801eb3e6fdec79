package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// apiKey makes a customer key with `ordergate apikey create`.
func apiKey(t *testing.T, dir, customer, scopes string) string {
	t.Helper()
	cmd := exec.Command(binary, "apikey", "--config", "config.yaml", "create", customer, "--scopes", scopes)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("apikey create: %v\n%s", err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func postOrder(t *testing.T, g *gateway, key, idem, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.url("/api/v1/orders"), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST: %v", err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func getWithKey(t *testing.T, g *gateway, key, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", g.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestWebAPIEndToEnd: a shop posts orders with its customer key through
// the real gateway: 20 concurrent posts with one Idempotency-Key make one
// order with identical answers, another body under that key is 409, bad
// input is problem+json with pointers, and another customer's key reads
// none of these orders.
func TestWebAPIEndToEnd(t *testing.T) {
	dir, g := newDecisionsGateway(t)
	g.kill()
	keyA := apiKey(t, dir, "C-2000", "orders:write,orders:read")
	keyB := apiKey(t, dir, "C-1001", "orders:write,orders:read")
	g = start(t, dir, g.port)
	// The config has no web channel: add one and restart.
	g.kill()
	appendConfig(t, dir, "  - {name: shop, type: web}\n")
	g = start(t, dir, g.port)

	body := `{"po_number":"WEB-1","currency":"EUR","lines":[{"line_no":"1","quantity":"3","unit":"EA","unit_price":"1.50","sku":"SCR-001"}]}`
	var wg sync.WaitGroup
	answers := make([]string, 20)
	codes := make([]int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, b := postOrder(t, g, keyA, "order-web-1", body)
			codes[i], answers[i] = code, string(b)
		}()
	}
	wg.Wait()
	for i := range 20 {
		if codes[i] != 202 || answers[i] != answers[0] {
			t.Fatalf("answer %d: %d %s; want 202 and the same answer as the first: %s", i, codes[i], answers[i], answers[0])
		}
	}
	var accepted struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal([]byte(answers[0]), &accepted); err != nil || accepted.OrderID == "" {
		t.Fatalf("202 body %s: %v", answers[0], err)
	}
	o := g.orderByPO("WEB-1", "delivered")
	if o.ID != accepted.OrderID {
		t.Errorf("the order is %s, the answer said %s", o.ID, accepted.OrderID)
	}
	if n := len(g.orders("po_number=WEB-1")); n != 1 {
		t.Errorf("%d orders for one idempotency key, want 1", n)
	}
	other := strings.Replace(body, `"3"`, `"4"`, 1)
	if code, _, b := postOrder(t, g, keyA, "order-web-1", other); code != 409 {
		t.Errorf("other body, same key: %d %s; want 409", code, b)
	}
	code, hdr, b := postOrder(t, g, keyA, "order-web-2", `{"po_number":"WEB-2","lines":[{"line_no":"1","quantity":"-1"}]}`)
	if code/100 != 4 || hdr.Get("Content-Type") != "application/problem+json" || !bytes.Contains(b, []byte("/lines/0/quantity")) {
		t.Errorf("bad order: %d %s %s; want a problem with the pointer /lines/0/quantity", code, hdr.Get("Content-Type"), b)
	}
	// Customer B's key reads none of A's orders.
	if code, b := getWithKey(t, g, keyB, "/api/v1/orders/"+o.ID); code != 404 {
		t.Errorf("B reading A's order: %d %s, want 404", code, b)
	}
	if code, b := getWithKey(t, g, keyB, "/api/v1/orders"); code != 200 || bytes.Contains(b, []byte(o.ID)) {
		t.Errorf("B's list: %d, shows A's order: %v", code, bytes.Contains(b, []byte(o.ID)))
	}
	if code, _ := getWithKey(t, g, keyA, "/api/v1/orders/"+o.ID); code != 200 {
		t.Errorf("A reading its own order: %d", code)
	}
	if code, _ := getWithKey(t, g, keyA, "/api/v1/documents"); code != 403 {
		t.Errorf("a customer key on an admin route: %d, want 403", code)
	}
}
