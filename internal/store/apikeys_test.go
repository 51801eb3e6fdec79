package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels/webapi"
	"github.com/ordergate/ordergate/internal/store/archive"
)

func TestAPIKeyCreateLookupRevoke(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()

		k, token, err := s.CreateAPIKey(ctx, "C-1000", []string{webapi.ScopeOrdersWrite, webapi.ScopeOrdersRead, webapi.ScopeOrdersWrite})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, k.Prefix+"_") || len(token) != apiKeyTokenLen {
			t.Errorf("token %q (len %d) does not start with prefix %q_ or has the wrong length", token, len(token), k.Prefix)
		}
		if want := []string{"orders:read", "orders:write"}; !slices.Equal(k.Scopes, want) {
			t.Errorf("scopes %v, want %v", k.Scopes, want)
		}
		got, err := s.LookupAPIKey(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || got.CustomerID != "C-1000" || !slices.Equal(got.Scopes, k.Scopes) || got.Prefix != k.Prefix ||
			!got.CreatedAt.Equal(clock.Now()) || got.Revoked() {
			t.Errorf("lookup: got %+v, want %+v", got, k)
		}

		// Same prefix, other secret; other shapes.
		forged := token[:len(token)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(token, "a")]
		for _, bad := range []string{"", "ogk_", forged, strings.ToUpper(token), token + "a", "Bearer " + token, strings.Replace(token, "_", "-", 2)} {
			if _, err := s.LookupAPIKey(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("LookupAPIKey(%q): err %v, want ErrNotFound", bad, err)
			}
		}

		clock.Advance(time.Hour)
		r1, err := s.RevokeAPIKey(ctx, k.ID)
		if err != nil || !r1.RevokedAt.Equal(clock.Now()) {
			t.Fatalf("RevokeAPIKey: %+v, %v", r1, err)
		}
		clock.Advance(time.Hour)
		r2, err := s.RevokeAPIKey(ctx, k.ID)
		if err != nil || !r2.RevokedAt.Equal(r1.RevokedAt) {
			t.Errorf("second revoke: revoked at %v (%v), want the first time %v", r2.RevokedAt, err, r1.RevokedAt)
		}
		if _, err := s.LookupAPIKey(ctx, token); !errors.Is(err, ErrRevoked) {
			t.Errorf("lookup of a revoked key: err %v, want ErrRevoked", err)
		}
		if _, err := s.RevokeAPIKey(ctx, "key_nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoking an unknown key: err %v, want ErrNotFound", err)
		}
	})
}

func TestAPIKeyIsStoredHashed(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		_, token, err := s.CreateAPIKey(context.Background(), "C-1", []string{"orders:write"})
		if err != nil {
			t.Fatal(err)
		}
		var prefix, sum string
		if err := s.testDB().QueryRow(`SELECT prefix, sha256 FROM api_keys`).Scan(&prefix, &sum); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256([]byte(token))
		if sum != hex.EncodeToString(want[:]) {
			t.Errorf("stored hash %s, want the SHA-256 of the token", sum)
		}
		secret := token[strings.LastIndexByte(token, '_')+1:]
		var leaks int
		if err := s.testDB().QueryRow(`SELECT COUNT(*) FROM api_keys WHERE id || customer_id || prefix || sha256 || scopes LIKE '%' || ? || '%'`,
			secret).Scan(&leaks); err != nil {
			t.Fatal(err)
		}
		if leaks != 0 || len(prefix) != apiKeyPrefixLen {
			t.Errorf("the secret part of the token is stored (%d rows) or the prefix %q is not %d chars", leaks, prefix, apiKeyPrefixLen)
		}
	})
}

func TestAPIKeyLastUsedIsThrottled(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		_, token, err := s.CreateAPIKey(ctx, "C-1", []string{"orders:write"})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() time.Time {
			t.Helper()
			ks, err := s.ListAPIKeys(ctx, "C-1")
			if err != nil || len(ks) != 1 {
				t.Fatalf("ListAPIKeys: %v, %v", ks, err)
			}
			return ks[0].LastUsedAt
		}
		if !lastUsed().IsZero() {
			t.Fatal("a new key has a last use")
		}
		start := clock.Now()
		steps := []struct {
			advance time.Duration
			want    time.Time
		}{
			{0, start},
			{30 * time.Second, start}, // within the interval: not written
			{31 * time.Second, start.Add(61 * time.Second)}, // past it: written
		}
		for i, st := range steps {
			clock.Advance(st.advance)
			if _, err := s.LookupAPIKey(ctx, token); err != nil {
				t.Fatal(err)
			}
			if got := lastUsed(); !got.Equal(st.want) {
				t.Errorf("step %d: last used %v, want %v", i, got, st.want)
			}
		}
	})
}

func TestCreateAPIKeyRefusesBadArguments(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		tests := []struct {
			customer string
			scopes   []string
		}{
			{"", []string{"orders:write"}},
			{"C:1", []string{"orders:write"}}, // ':' would make web source keys ambiguous
			{"C 1", []string{"orders:write"}},
			{strings.Repeat("C", 129), []string{"orders:write"}},
			{"C-1", nil},
			{"C-1", []string{""}},
			{"C-1", []string{"Orders:Write"}},
			{"C-1", []string{"orders write"}},
		}
		for _, tt := range tests {
			if _, _, err := s.CreateAPIKey(context.Background(), tt.customer, tt.scopes); !errors.Is(err, ErrInvalid) {
				t.Errorf("CreateAPIKey(%q, %q): err %v, want ErrInvalid", tt.customer, tt.scopes, err)
			}
		}
		if n := count(t, s, "api_keys"); n != 0 {
			t.Errorf("%d keys stored, want 0", n)
		}
	})
}

func TestListAPIKeys(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		var ids []string
		for _, c := range []string{"A", "B", "A"} {
			k, _, err := s.CreateAPIKey(ctx, c, []string{"orders:read"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, k.ID)
			clock.Advance(time.Second)
		}
		if _, err := s.RevokeAPIKey(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			customer string
			want     []string
		}{
			{"A", []string{ids[0], ids[2]}},
			{"B", []string{ids[1]}},
			{"", ids},
			{"nobody", nil},
		}
		for _, tt := range tests {
			ks, err := s.ListAPIKeys(ctx, tt.customer)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range ks {
				got = append(got, k.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListAPIKeys(%q) = %v, want %v", tt.customer, got, tt.want)
			}
		}
		ks, _ := s.ListAPIKeys(ctx, "A")
		if !ks[0].Revoked() || ks[1].Revoked() {
			t.Errorf("revoked flags: %t %t, want true false", ks[0].Revoked(), ks[1].Revoked())
		}
	})
}

func TestAPIKeysImplementsWebapiKeys(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		k, token, err := s.CreateAPIKey(ctx, "C-7", []string{webapi.ScopeOrdersWrite})
		if err != nil {
			t.Fatal(err)
		}
		keys := s.APIKeys()
		info, err := keys.Lookup(ctx, token)
		if err != nil || info.ID != k.ID || info.CustomerID != "C-7" || !info.Allows(webapi.ScopeOrdersWrite) || info.Allows(webapi.ScopeOrdersRead) {
			t.Errorf("Lookup: %+v, %v", info, err)
		}
		if _, err := keys.Lookup(ctx, "garbage"); !errors.Is(err, webapi.ErrInvalidKey) {
			t.Errorf("unknown key: err %v, want webapi.ErrInvalidKey", err)
		}
		if _, err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Lookup(ctx, token); !errors.Is(err, webapi.ErrInvalidKey) {
			t.Errorf("revoked key: err %v, want webapi.ErrInvalidKey", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Lookup(ctx, token); err == nil || errors.Is(err, webapi.ErrInvalidKey) {
			t.Errorf("closed store: err %v, want a failure that is not ErrInvalidKey", err)
		}
	})
}

// documentIntake is a store-backed webapi.Intake for the benchmark, in the
// shape of the pipeline's intake: the body goes to the archive, then the
// document row (source key "web:<customer>:<idempotency key>", with the
// order id and request hash in its metadata) commits in one transaction
// that may carry several submissions (group commit).
type documentIntake struct {
	s     *Store
	queue chan *pending
}

type pending struct {
	sub  webapi.Submission
	in   DocumentInput
	done chan struct{}
	rec  webapi.Receipt
	err  error
}

func newDocumentIntake(s *Store) *documentIntake {
	d := &documentIntake{s: s, queue: make(chan *pending, 256)}
	go d.run()
	return d
}

func (d *documentIntake) Submit(ctx context.Context, sub webapi.Submission) (webapi.Receipt, error) {
	// Archived before the transaction, or in it (Store.ArchiveInTx).
	h, n := archive.Sum(sub.Body), int64(len(sub.Body))
	if !d.s.ArchiveInTx() {
		var err error
		if h, n, err = d.s.Archive().Put(ctx, bytes.NewReader(sub.Body)); err != nil {
			return webapi.Receipt{}, err
		}
	}
	p := &pending{sub: sub, done: make(chan struct{}), in: DocumentInput{Channel: "shop", SourceKey: sub.SourceKey(), SHA256: h,
		Size: n, Filename: sub.OrderID + ".json", ContentType: "application/json", Standard: "JSON", ReceivedAt: sub.Received,
		Metadata: map[string]string{"order_id": sub.OrderID, "request_sha256": hex.EncodeToString(sub.RequestSHA256[:])}}}
	d.queue <- p
	<-p.done
	return p.rec, p.err
}

func (d *documentIntake) close() { close(d.queue) }

func (d *documentIntake) run() {
	for p := range d.queue {
		batch := []*pending{p}
	fill:
		for len(batch) < 64 {
			select {
			case q, ok := <-d.queue:
				if !ok {
					break fill
				}
				batch = append(batch, q)
			default:
				break fill
			}
		}
		err := d.s.Write(context.Background(), func(tx *Tx) error {
			for _, p := range batch {
				if d.s.ArchiveInTx() {
					if _, _, err := tx.PutContent(context.Background(), bytes.NewReader(p.sub.Body), p.in.Size, p.in.SHA256); err != nil {
						return err
					}
				}
				doc, created, err := tx.InsertDocument(context.Background(), p.in)
				if err != nil {
					return err
				}
				p.rec = webapi.Receipt{OrderID: doc.Metadata["order_id"], DocumentID: doc.ID, SHA256: doc.SHA256, Existing: !created}
				_, err = hex.Decode(p.rec.RequestSHA256[:], []byte(doc.Metadata["request_sha256"]))
				if err != nil {
					return err
				}
			}
			return nil
		})
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
	}
}

// BenchmarkPostOrder posts orders through the webapi handler with the
// store's key check (one read per request) and the store-backed intake
// above (archive put with fsync, group-committed document rows,
// synchronous=FULL), from parallel clients, each order with its own
// Idempotency-Key. It reports orders/s and the latency percentiles.
func BenchmarkPostOrder(b *testing.B) {
	for _, inDB := range []bool{false, true} {
		b.Run(archiveName(inDB), func(b *testing.B) { benchmarkPostOrder(b, inDB) })
	}
}

// archiveName names a benchmark's archive.
func archiveName(inDB bool) string {
	if inDB {
		return "archive=database"
	}
	return "archive=files"
}

func benchmarkPostOrder(b *testing.B, inDB bool) {
	opts := testDriver{DriverSQLite}.options(b)
	opts.ArchiveInDB = inDB
	s := openStore(b, opts, nil)
	ctx := context.Background()
	_, token, err := s.CreateAPIKey(ctx, "C-1000", []string{webapi.ScopeOrdersWrite})
	if err != nil {
		b.Fatal(err)
	}
	intake := newDocumentIntake(s)
	defer intake.close()
	h, err := webapi.New(webapi.Options{Keys: s.APIKeys(), Intake: intake,
		Validate: func([]byte) []webapi.FieldProblem { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"po_number":"45000%07d","po_date":"2026-11-18","currency":"EUR",
		"parties":[{"role":"ship_to","id":"ST-HH-01","name":"Lager Hamburg","address":{"lines":["Lagerstrasse 5"],"city":"Hamburg","postal_code":"20457","country":"DE"}}],
		"lines":[{"line_no":"1","quantity":"24","unit":"EA","unit_price":"12.50","gtin":"4012345678901","description":"Wood screws 4x40"},
		         {"line_no":"2","quantity":"10","unit":"EA","unit_price":"3.10","buyer_part":"BN-4712"}]}`)
	var mu sync.Mutex
	var lat []time.Duration
	var seq int64
	b.SetParallelism(4) // 4 x GOMAXPROCS shop clients, each waiting for its answer
	b.ResetTimer()
	cpu0 := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			mu.Lock()
			seq++
			n := seq
			mu.Unlock()
			// Each order its own content, as in production (no deduplication).
			req := httptest.NewRequest(http.MethodPost, webapi.OrdersPath, bytes.NewReader(fmt.Appendf(nil, string(body), n)))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", n))
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			mine = append(mine, time.Since(start))
			if rec.Code != http.StatusAccepted {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	}
}

// TestPostOrderThroughTheStore runs the web channel on the store: the key
// check and the document intake above. Twenty concurrent posts with one
// Idempotency-Key store one document and get one answer; another order
// under the key is 409; a revoked key is 401.
func TestPostOrderThroughTheStore(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		ctx := context.Background()
		k, token, err := s.CreateAPIKey(ctx, "C-1000", []string{webapi.ScopeOrdersWrite})
		if err != nil {
			t.Fatal(err)
		}
		intake := newDocumentIntake(s)
		defer intake.close()
		h, err := webapi.New(webapi.Options{Keys: s.APIKeys(), Intake: intake,
			Validate: func([]byte) []webapi.FieldProblem { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		post := func(body string) (int, string) {
			req := httptest.NewRequest(http.MethodPost, webapi.OrdersPath, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "po-4711")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String()
		}
		body := `{"po_number": "4711", "lines": [{"line_no": "1", "quantity": "2", "sku": "X"}]}`
		const n = 20
		codes, answers := make([]int, n), make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); codes[i], answers[i] = post(body) }()
		}
		wg.Wait()
		for i := range n {
			if codes[i] != http.StatusAccepted || answers[i] != answers[0] {
				t.Errorf("answer %d: %d %s, want 202 %s", i, codes[i], answers[i], answers[0])
			}
		}
		if got := count(t, s, "documents"); got != 1 {
			t.Errorf("%d documents stored, want 1", got)
		}
		docs, err := s.ListDocuments(ctx, DocumentFilter{}, "", 10)
		if err != nil || len(docs.Documents) != 1 || docs.Documents[0].SourceKey != "web:C-1000:po-4711" ||
			!strings.Contains(answers[0], docs.Documents[0].Metadata["order_id"]) {
			t.Errorf("stored document %+v (%v) does not match the answer %s", docs.Documents, err, answers[0])
		}
		if code, _ := post(strings.Replace(body, `"2"`, `"3"`, 1)); code != http.StatusConflict {
			t.Errorf("other order under the key: %d, want 409", code)
		}
		if _, err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if code, _ := post(body); code != http.StatusUnauthorized {
			t.Errorf("revoked key: %d, want 401", code)
		}
	})
}
