package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/proc"
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

// BenchmarkWebAPIIntake posts orders to the real gateway's order API from
// 8 clients for API_BENCH_SECONDS (default 10) and reports orders/s, the
// p50 and p99 answer times (202 after the durable commit) and the
// server's CPU time per order. API_BENCH_ARCHIVE sets store.archive
// (files or database; default: the config's default).
func BenchmarkWebAPIIntake(b *testing.B) {
	secs := 10
	if v := os.Getenv("API_BENCH_SECONDS"); v != "" {
		fmt.Sscan(v, &secs)
	}
	archiveCfg := ""
	if v := os.Getenv("API_BENCH_ARCHIVE"); v != "" {
		archiveCfg = ", archive: " + v
	}
	for range b.N {
		b.StopTimer()
		dir, port := b.TempDir(), freePort(b)
		cfg := fmt.Sprintf(`store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive%s}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: warn}
channels:
  - {name: shop, type: web}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
`, archiveCfg, port)
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(binary, "apikey", "--config", "config.yaml", "create", "C-1")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		key := strings.TrimSpace(string(out))
		g := start(b, dir, port)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		var mu sync.Mutex
		var lat []time.Duration
		deadline := time.Now().Add(time.Duration(secs) * time.Second)
		var wg sync.WaitGroup
		cpu0, cpuErr := proc.CPUTime(g.cmd.Process.Pid)
		b.StartTimer()
		began := time.Now()
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					body := fmt.Sprintf(`{"po_number":"B-%d-%d","lines":[{"line_no":"1","quantity":"3","unit":"EA","unit_price":"1.50","sku":"X"}]}`, w, i)
					req, _ := http.NewRequest("POST", g.url("/api/v1/orders"), strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
					req.Header.Set("Content-Type", "application/json")
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 202 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		took := time.Since(began)
		b.StopTimer()
		cpu1, cpuErr1 := proc.CPUTime(g.cmd.Process.Pid)
		g.kill()
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no answers")
		}
		b.ReportMetric(float64(len(lat))/took.Seconds(), "orders/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		if cpuErr == nil && cpuErr1 == nil {
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/order")
		}
	}
}
