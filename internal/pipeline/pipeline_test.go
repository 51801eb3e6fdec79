package pipeline_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/pipeline/pgq"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/filedrop"
)

// waitFor is how long a test waits for an outcome of the pipeline.
const waitFor = 20 * time.Second

// testConfig is the gateway's config in the tests: the channel inbox, one
// partner for the fixtures' senders, every order to the backend files.
// The placeholders are the temp dir, the duplicate policy and the
// backend's max_attempts.
const testConfig = `
store: {dsn: %[1]s/og.db, archive_dir: %[1]s/archive}
pipeline: {poll_interval: 5ms, drain_timeout: 5s}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match:
      x12: [{qualifier: ZZ, id: BAUMARKTNORD}]
      edifact: [{qualifier: "14", id: "4012345000009"}]
    acks: {functional: "997", contrl: always, order_response: %[6]s}
    duplicates: %[2]s
channels:
  - {name: inbox, type: dir, path: %[1]s/inbox, outbox: %[1]s/outbox, min_age: 0s}
  - {name: mail, type: imap, enabled: false, host: localhost, user: orders, password_env: OG_TEST_IMAP_PASSWORD, fax_senders: ["*@fax.example.com"]}
  - {name: mail-quiet, type: imap, enabled: false, host: localhost, user: orders, password_env: OG_TEST_IMAP_PASSWORD, fax_senders: ["*@fax.example.com"], please_resend: false}
routes:
%[4]s
%[5]s
mail:
  smtp: {host: 127.0.0.1, port: 9, tls: none, insecure_plaintext: true}
  from: orders@toolsupply.example
%[7]s
backends:
  - {name: files, type: filedrop, dir: %[1]s/outbound, max_attempts: %[3]d, %[8]s}
  - {name: copies, type: filedrop, dir: %[1]s/copies}
`

// harnessOptions vary the harness per test.
type harnessOptions struct {
	duplicates  string                             // the partner's policy; "reject" when ""
	maxAttempts int                                // the backend's; 5 when 0
	backend     routing.Backend                    // instead of the filedrop backend
	outbound    func(dir string) channels.Outbound // instead of the outbox folder (dir)
	routes      string                             // the routes section's entries; every order to files when ""
	rules       string                             // a rules section ("rules:\n  ..."); none when ""
	response    string                             // the partner's order_response; none when ""
	mail        string                             // further keys of the mail section ("  confirmations: ...")
	capture     pipeline.Capture
	stagesOnly  bool // every order goes through the stages' topics, each stage decoding what it reads
	// backoff is the files backend's initial_backoff and max_backoff;
	// "initial_backoff: 10ms, max_backoff: 50ms" when "".
	backoff string
	now     func() time.Time // the pipeline's clock; time.Now when nil
	// intakeBacklog is Deps.IntakeBacklog.
	intakeBacklog int
	// stagesLater leaves the stages stopped until startStages (the
	// source's intake runs from the start).
	stagesLater bool
	fault       func(point string) // Deps.Fault
}

// harness is a pipeline on a temp dir with a fake source on channel inbox.
type harness struct {
	t   *testing.T
	ctx context.Context
	dir string
	st  *store.Store
	q   pipeline.Queue
	p   *pipeline.Pipeline
	src *fakeSource
	// startStages starts the stages (newHarness does, unless
	// stagesLater).
	startStages func()
	outbox      string
}

func TestMain(m *testing.M) { os.Exit(postgres.RunMain(m)) }

// forEachDriver runs a pipeline test on each store driver, as the subtests
// sqlite and postgres (each with its queue: sqliteq, pgq); postgres is a
// database of its own on the test binary's cluster, skipped where
// PostgreSQL is not installed.
func forEachDriver(t *testing.T, fn func(t *testing.T)) {
	for _, d := range []string{"sqlite", sqliteArchiveInDB, "postgres"} {
		t.Run(d, fn)
	}
}

// sqliteArchiveInDB is the forEachDriver subtest on SQLite with the raw
// documents in the database (store.archive: database), written in the
// intake transaction.
const sqliteArchiveInDB = "sqlite_archive_in_db"

// archiveInDB reports whether forEachDriver chose the database archive
// for t.
func archiveInDB(t *testing.T) bool {
	return strings.Contains(t.Name()+"/", "/"+sqliteArchiveInDB+"/")
}

// driverOf is the driver forEachDriver chose for t (or its subtests).
func driverOf(t *testing.T) string {
	if strings.Contains(t.Name()+"/", "/postgres/") {
		return "postgres"
	}
	return "sqlite"
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	if o.duplicates == "" {
		o.duplicates = "reject"
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 5
	}
	if o.response == "" {
		o.response = "none"
	}
	if o.routes == "" {
		o.routes = "  - {name: default, to: [files]}"
	}
	if o.backoff == "" {
		o.backoff = "initial_backoff: 10ms, max_backoff: 50ms"
	}
	dir := t.TempDir()
	cfg, problems := config.Parse("test.yaml", fmt.Appendf(nil, testConfig, dir, o.duplicates, o.maxAttempts, o.routes, o.rules, o.response, o.mail, o.backoff))
	if len(problems) > 0 {
		t.Fatalf("config problems: %v", problems)
	}
	h := &harness{t: t, ctx: context.Background(), dir: dir, outbox: filepath.Join(dir, "outbox")}
	for _, d := range []string{h.outbox, filepath.Join(dir, "outbound"), filepath.Join(dir, "copies")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	opts := store.Options{Path: cfg.Store.DSN, ArchiveDir: cfg.Store.ArchiveDir, ArchiveInDB: archiveInDB(t)}
	if driverOf(t) == "postgres" {
		opts = store.Options{Driver: "postgres", DSN: postgres.Shared(t).NewDatabase(t), ArchiveDir: cfg.Store.ArchiveDir}
	}
	st, err := store.Open(h.ctx, opts)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	h.st = st
	if opts.Driver == "postgres" {
		q, err := pgq.New(st.DB(), pgq.Config{PollInterval: 20 * time.Millisecond, BatchSize: cfg.Pipeline.BatchSize}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.q = q
	} else {
		h.q = pipeline.NewSQLiteQueue(st, 0, cfg.Pipeline.PollInterval, cfg.Pipeline.BatchSize, nil)
	}
	backend := o.backend
	if backend == nil {
		fb, err := filedrop.New(filedrop.Config{Name: "files", Dir: filepath.Join(dir, "outbound")})
		if err != nil {
			t.Fatal(err)
		}
		backend = fb
	}
	copies, err := filedrop.New(filedrop.Config{Name: "copies", Dir: filepath.Join(dir, "copies")})
	if err != nil {
		t.Fatal(err)
	}
	var outbound channels.Outbound = &dirdrop.Outbox{Dir: h.outbox}
	if o.outbound != nil {
		outbound = o.outbound(h.outbox)
	}
	h.p, err = pipeline.New(pipeline.Deps{
		Store: st, Queue: h.q, Config: func() *config.Config { return cfg }, Processor: ediproc.Processor{},
		Backends:      map[string]routing.Backend{"files": backend, "copies": copies},
		Outbounds:     map[string]channels.Outbound{"inbox": outbound},
		BreakerOpen:   50 * time.Millisecond,
		Capture:       o.capture,
		Now:           o.now,
		IntakeBacklog: o.intakeBacklog,
		Fault:         o.fault,
	})
	if err != nil {
		t.Fatalf("pipeline.New: %v", err)
	}
	if o.stagesOnly {
		pipeline.StagesOnly(h.p)
	}
	h.src = newFakeSource("inbox")

	runCtx, stopRun := context.WithCancel(h.ctx)
	runDone := make(chan error, 1)
	h.startStages = func() {
		go func() { runDone <- h.p.Run(runCtx) }()
		h.eventually("the pipeline runs", func() (bool, string) {
			err := h.p.Ready(h.ctx)
			return err == nil, fmt.Sprint(err)
		})
	}
	if o.stagesLater {
		if err := h.p.Init(h.ctx); err != nil { // the queue's tables, for intake
			t.Fatal(err)
		}
		runDone <- nil // until startStages: nothing to wait for
		start := h.startStages
		h.startStages = func() { <-runDone; start() }
	}
	srcCtx, stopSrc := context.WithCancel(h.ctx)
	srcDone := make(chan struct{})
	go func() { defer close(srcDone); h.p.RunSource(srcCtx, "inbox", h.src) }()
	t.Cleanup(func() {
		stopSrc()
		<-srcDone
		stopRun()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Errorf("Run did not return within %s of its context ending", waitFor)
		}
		_ = backend.Close(h.ctx)
		if err := st.Close(h.ctx); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	if !o.stagesLater {
		h.startStages()
	}
	return h
}

// eventually polls cond until it holds or waitFor passes; state says
// what was seen last, for the failure message.
func (h *harness) eventually(what string, cond func() (ok bool, state string)) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: gave up after %s; last seen: %s", what, waitFor, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// document returns the stored document of a source key, polling until
// intake has it.
func (h *harness) document(key string) store.Document {
	h.t.Helper()
	var doc store.Document
	h.eventually("document "+key+" stored", func() (bool, string) {
		page, err := h.st.ListDocuments(h.ctx, store.DocumentFilter{Channel: "inbox"}, "", 0)
		if err != nil {
			return false, err.Error()
		}
		for _, d := range page.Documents {
			if d.SourceKey == key {
				doc = d
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d other document(s)", len(page.Documents))
	})
	return doc
}

// documentIn waits until the document of key has status want.
func (h *harness) documentIn(key string, want store.DocumentStatus) store.Document {
	h.t.Helper()
	id := h.document(key).ID
	var doc store.Document
	h.eventually(fmt.Sprintf("document %s %s", key, want), func() (bool, string) {
		var err error
		doc, err = h.st.GetDocument(h.ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return doc.Status == want, fmt.Sprintf("status %s (%s)", doc.Status, doc.Error)
	})
	return doc
}

// orderOf waits until the document has an order with status want.
func (h *harness) orderOf(docID string, want order.Status) store.OrderRecord {
	h.t.Helper()
	var rec store.OrderRecord
	h.eventually(fmt.Sprintf("the order of %s %s", docID, want), func() (bool, string) {
		recs, err := h.st.OrdersOfDocument(h.ctx, docID)
		if err != nil {
			return false, err.Error()
		}
		if len(recs) != 1 {
			return false, fmt.Sprintf("%d orders", len(recs))
		}
		rec = recs[0]
		return rec.Status == want, "status " + string(rec.Status)
	})
	return rec
}

// sourceResult waits until the source got its ack for key.
func (h *harness) sourceResult(key string) channels.Result {
	h.t.Helper()
	var res []channels.Result
	h.eventually("the source ack of "+key, func() (bool, string) {
		res = h.src.results(key)
		return len(res) > 0, "none"
	})
	if len(res) != 1 {
		h.t.Errorf("source acks of %s = %v, want one", key, res)
	}
	return res[0]
}

// sentAcks waits until the document has n acks, all sent, and returns them.
func (h *harness) sentAcks(docID string, n int) []store.Ack {
	h.t.Helper()
	var acks []store.Ack
	h.eventually(fmt.Sprintf("%d ack(s) of %s sent", n, docID), func() (bool, string) {
		var err error
		acks, err = h.st.AcksOfDocument(h.ctx, docID)
		if err != nil {
			return false, err.Error()
		}
		if len(acks) != n {
			return false, fmt.Sprintf("%d acks", len(acks))
		}
		for _, a := range acks {
			if a.Status != store.AckSent {
				return false, fmt.Sprintf("%s %s (%s)", a.Kind, a.Status, a.LastError)
			}
		}
		return true, ""
	})
	return acks
}

// allOrders returns every stored order.
func (h *harness) allOrders() []store.OrderRecord {
	h.t.Helper()
	page, err := h.st.ListOrders(h.ctx, store.OrderFilter{}, "", 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return page.Orders
}

func (h *harness) orderKinds(orderID string) []string {
	h.t.Helper()
	evs, err := h.st.Timeline(h.ctx, orderID)
	if err != nil {
		h.t.Fatal(err)
	}
	return kinds(evs)
}

func (h *harness) documentKinds(docID string) []string {
	h.t.Helper()
	evs, err := h.st.DocumentEvents(h.ctx, docID)
	if err != nil {
		h.t.Fatal(err)
	}
	return kinds(evs)
}

func kinds(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

// checkAckFile checks that the ack's file in the outbox holds its body.
func (h *harness) checkAckFile(a store.Ack, ext string) {
	h.t.Helper()
	name := filepath.Join(h.outbox, a.DocumentID+"."+a.Kind+ext)
	b, err := os.ReadFile(name)
	if err != nil {
		h.t.Errorf("ack file: %v", err)
		return
	}
	if !bytes.Equal(b, a.Body) {
		h.t.Errorf("ack file %s = %q, want the ack's body %q", name, b, a.Body)
	}
}

// fakeSource is an in-memory channel: Read hands out the pushed documents
// in order, each AckFunc records its Result by source key.
type fakeSource struct {
	name string
	docs chan channels.Document
	mu   sync.Mutex
	acks map[string][]channels.Result
}

var _ channels.Source = (*fakeSource)(nil)

func newFakeSource(name string) *fakeSource {
	return &fakeSource{name: name, docs: make(chan channels.Document, 64), acks: map[string][]channels.Result{}}
}

// push queues a document with the bytes under the source key.
func (s *fakeSource) push(key string, body []byte) {
	s.docs <- channels.Document{Channel: s.name, SourceKey: key, Name: key + ".edi", Body: channels.BytesBody(body), Received: time.Now()}
}

func (s *fakeSource) results(key string) []channels.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks[key])
}

func (s *fakeSource) Connect(context.Context) error { return nil }

func (s *fakeSource) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	select {
	case doc := <-s.docs:
		return doc, func(_ context.Context, r channels.Result) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.acks[doc.SourceKey] = append(s.acks[doc.SourceKey], r)
			return nil
		}, nil
	case <-ctx.Done():
		return channels.Document{}, nil, ctx.Err()
	}
}

func (s *fakeSource) Close(context.Context) error { return nil }

// flakyBackend fails its first failures deliveries, then takes them; with
// permanent set, it fails every one permanently.
type flakyBackend struct {
	failures  int32
	permanent bool
	calls     atomic.Int32
	recovered atomic.Bool // from now on every delivery is taken
	keys      sync.Map    // Delivery.Key -> number of deliveries taken
}

func (b *flakyBackend) Name() string { return "files" }

func (b *flakyBackend) Deliver(_ context.Context, d routing.Delivery) (routing.Receipt, error) {
	n := b.calls.Add(1)
	if b.recovered.Load() {
		v, _ := b.keys.LoadOrStore(d.Key, new(atomic.Int32))
		v.(*atomic.Int32).Add(1)
		return routing.Receipt{ExternalRef: "erp-" + d.OrderID, At: time.Now()}, nil
	}
	if b.permanent {
		return routing.Receipt{}, routing.Permanent(errors.New("the ERP refuses the order"))
	}
	if n <= b.failures {
		return routing.Receipt{}, fmt.Errorf("the ERP is down (call %d)", n)
	}
	return routing.Receipt{ExternalRef: "erp-" + d.OrderID, At: time.Now()}, nil
}

func (b *flakyBackend) Close(context.Context) error { return nil }

// unknownSender is the X12 fixture from a sender no partner matches.
func unknownSender(icn int, po string) []byte {
	return []byte(strings.ReplaceAll(string(fixtures.X12850(icn, po, 1)), fixtures.X12Sender, "OTHERSENDER1"))
}

func TestHappyPath(t *testing.T) { forEachDriver(t, testHappyPath) }

func testHappyPath(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		ackKind string
		ackExt  string
		ackHas  string
	}{
		{"x12", fixtures.X12850(4711, "PO-4711", 3), "997", ".x12", "AK5*A~"},
		{"edifact", fixtures.EDIFACTOrders(815, "PO-815", 3), "CONTRL", ".edi", "UCI+815+4012345000009:14+4000000000002:14+7'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			h.src.push("a", tt.body)
			doc := h.documentIn("a", store.DocumentParsed)
			rec := h.orderOf(doc.ID, order.StatusDelivered)

			if got, want := rec.CustomerID, "C-1001"; got != want {
				t.Errorf("customer = %q, want %q", got, want)
			}
			if got, want := rec.PartnerID, "baumarkt-nord"; got != want {
				t.Errorf("partner = %q, want %q", got, want)
			}
			if got, want := h.documentKinds(doc.ID)[0], "received"; got != want {
				t.Errorf("first document event = %q, want %q", got, want)
			}
			want := []string{"parsed", "normalized", "accepted", "routed", "delivery_attempt"}
			if got := h.orderKinds(rec.ID); !slices.Equal(got, want) {
				t.Errorf("order timeline = %v, want %v", got, want)
			}
			if got, want := h.sourceResult("a"), channels.Committed(); got != want {
				t.Errorf("source ack = %+v, want %+v", got, want)
			}
			acks := h.sentAcks(doc.ID, 1)
			if got, want := acks[0].Kind, tt.ackKind; got != want {
				t.Errorf("ack kind = %q, want %q", got, want)
			}
			if !bytes.Contains(acks[0].Body, []byte(tt.ackHas)) {
				t.Errorf("ack lacks %q:\n%s", tt.ackHas, acks[0].Body)
			}
			h.checkAckFile(acks[0], tt.ackExt)
			files, err := os.ReadDir(filepath.Join(h.dir, "outbound"))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(files), 1; got != want {
				t.Errorf("files delivered = %d, want %d", got, want)
			}
		})
	}
}

// TestDuplicateInterchange sends the same bytes under two source keys: the
// envelope layer of duplicate detection.
func TestDuplicateInterchange(t *testing.T) { forEachDriver(t, testDuplicateInterchange) }

func testDuplicateInterchange(t *testing.T) {
	tests := []struct {
		policy     string
		dupStatus  store.DocumentStatus
		dupOrder   order.Status // "" when the duplicate has no order
		ackHas     string
		ackKind    string
		wantOrders int
	}{
		{policy: "reject", dupStatus: store.DocumentDuplicate, ackKind: "TA1", ackHas: "R*025~", wantOrders: 1},
		{policy: "ack-and-drop", dupStatus: store.DocumentDuplicate, ackKind: "997", ackHas: "AK5*A~", wantOrders: 1},
		{policy: "hold", dupStatus: store.DocumentDuplicate, dupOrder: order.StatusHeld, ackKind: "997", ackHas: "AK5*A~", wantOrders: 2},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			h := newHarness(t, harnessOptions{duplicates: tt.policy})
			body := fixtures.X12850(4711, "PO-4711", 2)
			h.src.push("first", body)
			first := h.documentIn("first", store.DocumentParsed)
			h.orderOf(first.ID, order.StatusDelivered)

			h.src.push("second", body)
			second := h.documentIn("second", tt.dupStatus)
			if !slices.Contains(h.documentKinds(second.ID), "duplicate") {
				t.Errorf("events of the second document = %v, want a duplicate event", h.documentKinds(second.ID))
			}
			if got, want := h.sourceResult("second"), channels.Committed(); got != want {
				t.Errorf("source ack of the second = %+v, want %+v", got, want)
			}
			acks := h.sentAcks(second.ID, 1)
			if got, want := acks[0].Kind, tt.ackKind; got != want {
				t.Errorf("ack kind = %q, want %q", got, want)
			}
			if !bytes.Contains(acks[0].Body, []byte(tt.ackHas)) {
				t.Errorf("ack lacks %q:\n%s", tt.ackHas, acks[0].Body)
			}
			if tt.dupOrder != "" {
				rec := h.orderOf(second.ID, tt.dupOrder)
				o, err := rec.Order()
				if err != nil {
					t.Fatal(err)
				}
				if len(o.Holds) != 1 || o.Holds[0].Rule != "duplicate" {
					t.Errorf("holds = %+v, want one duplicate hold", o.Holds)
				}
				if !slices.Contains(h.orderKinds(rec.ID), "held") {
					t.Errorf("timeline = %v, want a held event", h.orderKinds(rec.ID))
				}
			}
			if got, want := len(h.allOrders()), tt.wantOrders; got != want {
				t.Errorf("orders = %d, want %d", got, want)
			}
		})
	}
}

// TestDuplicatePurchaseOrder sends one PO number in two interchanges: the
// business layer of duplicate detection.
func TestDuplicatePurchaseOrder(t *testing.T) { forEachDriver(t, testDuplicatePurchaseOrder) }

func testDuplicatePurchaseOrder(t *testing.T) {
	tests := []struct {
		policy string
		want   order.Status
		kind   string // the timeline event that says duplicate
		hold   bool
	}{
		{policy: "reject", want: order.StatusRejected, kind: "rejected"},
		{policy: "hold", want: order.StatusHeld, kind: "held", hold: true},
		{policy: "change", want: order.StatusDelivered, kind: "replaces"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			h := newHarness(t, harnessOptions{duplicates: tt.policy})
			h.src.push("first", fixtures.X12850(1, "PO-SAME", 1))
			first := h.documentIn("first", store.DocumentParsed)
			h.orderOf(first.ID, order.StatusDelivered)

			h.src.push("second", fixtures.EDIFACTOrders(2, "PO-SAME", 1))
			second := h.documentIn("second", store.DocumentParsed)
			rec := h.orderOf(second.ID, tt.want)
			evs, err := h.st.Timeline(h.ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			said := slices.ContainsFunc(evs, func(e store.Event) bool {
				return e.Kind == tt.kind && (tt.kind == "replaces" || strings.Contains(e.Reason, "was already received as order"))
			})
			if !said || (tt.policy != "change") == slices.Contains(kinds(evs), "accepted") {
				t.Errorf("timeline = %v, want a %s event saying duplicate", kinds(evs), tt.kind)
			}
			if tt.policy == "change" {
				return
			}
			o, err := rec.Order()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(o.Holds) == 1 && o.Holds[0].Rule == "duplicate"; got != tt.hold {
				t.Errorf("holds = %+v, want a duplicate hold: %v", o.Holds, tt.hold)
			}
			dels, err := h.st.DeliveriesOfOrder(h.ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(dels) != 0 {
				t.Errorf("deliveries of the duplicate = %d, want 0", len(dels))
			}
		})
	}
}

func TestRejectedDocuments(t *testing.T) { forEachDriver(t, testRejectedDocuments) }

func testRejectedDocuments(t *testing.T) {
	x12 := fixtures.X12850(4711, "PO-4711", 2)
	badSE := bytes.Replace(x12, []byte("SE*13*0001"), []byte("SE*99*0001"), 1)
	if bytes.Equal(badSE, x12) {
		t.Fatal("the SE count was not corrupted")
	}
	tests := []struct {
		name    string
		body    []byte
		ackKind string
		ackHas  string
	}{
		{"unknown sender", unknownSender(4711, "PO-4711"), "TA1", "TA1*000004711*261127*1200*R*006~"},
		{"wrong SE count", badSE, "997", "AK5*R*4~"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			h.src.push("bad", tt.body)
			doc := h.documentIn("bad", store.DocumentRejected)
			if doc.Error == "" {
				t.Error("rejected document without a reason")
			}
			res := h.sourceResult("bad")
			if res.Outcome != channels.OutcomeRejected || res.Reason == "" {
				t.Errorf("source ack = %+v, want rejected with a reason", res)
			}
			acks := h.sentAcks(doc.ID, 1)
			if got, want := acks[0].Kind, tt.ackKind; got != want {
				t.Errorf("ack kind = %q, want %q", got, want)
			}
			if !bytes.Contains(acks[0].Body, []byte(tt.ackHas)) {
				t.Errorf("ack lacks %q:\n%s", tt.ackHas, acks[0].Body)
			}
			h.checkAckFile(acks[0], ".x12")
			if got := len(h.allOrders()); got != 0 {
				t.Errorf("orders = %d, want 0", got)
			}
		})
	}
}

func TestQuarantine(t *testing.T) { forEachDriver(t, testQuarantine) }

func testQuarantine(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// A doc.received for a document that does not exist cannot be parsed,
	// ever: the parse stage must put it aside and go on.
	poison := message.NewMessage(watermill.NewUUID(), []byte(`{"document_id":"doc_does_not_exist"}`))
	err := h.q.InTx(h.ctx, func(tx *sql.Tx) error {
		pub, err := h.q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		return pub.Publish(pipeline.TopicDocReceived, poison)
	})
	if err != nil {
		t.Fatalf("publishing the poison message: %v", err)
	}
	h.src.push("after", fixtures.X12850(1, "PO-1", 1))
	doc := h.documentIn("after", store.DocumentParsed)
	h.orderOf(doc.ID, order.StatusDelivered)

	var entries []store.QuarantineEntry
	h.eventually("the poison message in quarantine", func() (bool, string) {
		entries, err = h.st.ListQuarantine(h.ctx, pipeline.TopicDocReceived, 10)
		return err == nil && len(entries) > 0, fmt.Sprint(len(entries), err)
	})
	if len(entries) != 1 {
		t.Fatalf("quarantine = %d entries, want 1", len(entries))
	}
	e := entries[0]
	if got, want := e.MessageUUID, poison.UUID; got != want {
		t.Errorf("quarantined message = %q, want %q", got, want)
	}
	if !strings.Contains(e.Error, "not found") {
		t.Errorf("quarantine error = %q, want it to say not found", e.Error)
	}
}

func TestRedelivery(t *testing.T) { forEachDriver(t, testRedelivery) }

func testRedelivery(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := fixtures.X12850(4711, "PO-4711", 1)
	take := func() pipeline.Taken {
		t.Helper()
		doc := channels.Document{Channel: "inbox", SourceKey: "same-key", Name: "po.x12", Body: channels.BytesBody(body), Received: time.Now()}
		taken, err := h.p.TakeBatch(h.ctx, []channels.Document{doc})
		if err != nil {
			t.Fatalf("TakeBatch: %v", err)
		}
		if len(taken) != 1 {
			t.Fatalf("taken = %d, want 1", len(taken))
		}
		return taken[0]
	}
	first := take()
	if !first.Created {
		t.Error("first TakeBatch: Created = false, want true")
	}
	h.orderOf(first.Doc.ID, order.StatusDelivered)
	second := take()
	if second.Created {
		t.Error("second TakeBatch: Created = true, want false")
	}
	if got, want := second.Doc.ID, first.Doc.ID; got != want {
		t.Errorf("second TakeBatch document = %s, want the first's %s", got, want)
	}
	if got, want := second.Doc.Status, store.DocumentParsed; got != want {
		t.Errorf("second TakeBatch status = %s, want the stored %s", got, want)
	}
	// Taken again, the document is not parsed again: still one order.
	// A third, new document flushes the stages, so a second order of the
	// redelivery would be there by the time the third is delivered.
	h.src.push("third", fixtures.X12850(4712, "PO-4712", 1))
	third := h.documentIn("third", store.DocumentParsed)
	h.orderOf(third.ID, order.StatusDelivered)
	if got, want := len(h.allOrders()), 2; got != want {
		t.Errorf("orders = %d, want %d", got, want)
	}
}

func TestDelivery(t *testing.T) { forEachDriver(t, testDelivery) }

func testDelivery(t *testing.T) {
	tests := []struct {
		name        string
		backend     *flakyBackend
		maxAttempts int
		want        order.Status
		wantStatus  store.DeliveryStatus
		wantCalls   int32
		dead        bool
	}{
		{name: "fails twice then succeeds", backend: &flakyBackend{failures: 2}, maxAttempts: 5,
			want: order.StatusDelivered, wantStatus: store.DeliverySent, wantCalls: 3},
		{name: "fails more often than attempts allowed", backend: &flakyBackend{failures: 100}, maxAttempts: 2,
			want: order.StatusFailed, wantStatus: store.DeliveryDead, wantCalls: 2, dead: true},
		{name: "fails permanently", backend: &flakyBackend{permanent: true}, maxAttempts: 5,
			want: order.StatusFailed, wantStatus: store.DeliveryDead, wantCalls: 1, dead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{backend: tt.backend, maxAttempts: tt.maxAttempts})
			h.src.push("a", fixtures.X12850(4711, "PO-4711", 1))
			doc := h.documentIn("a", store.DocumentParsed)
			rec := h.orderOf(doc.ID, tt.want)
			dels, err := h.st.DeliveriesOfOrder(h.ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(dels) != 1 {
				t.Fatalf("deliveries = %d, want 1", len(dels))
			}
			d := dels[0]
			if d.Status != tt.wantStatus || d.Attempts != int(tt.wantCalls) {
				t.Errorf("delivery = {status %s, attempts %d}, want {%s, %d}", d.Status, d.Attempts, tt.wantStatus, tt.wantCalls)
			}
			if got, want := tt.backend.calls.Load(), tt.wantCalls; got != want {
				t.Errorf("backend calls = %d, want %d", got, want)
			}
			attempts := 0
			for _, k := range h.orderKinds(rec.ID) {
				if k == "delivery_attempt" || k == "dead_letter" {
					attempts++
				}
			}
			if got, want := attempts, int(tt.wantCalls); got != want {
				t.Errorf("attempt events = %d, want %d", got, want)
			}
			dead, err := h.st.DeadLetters(h.ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			inDead := slices.ContainsFunc(dead, func(x store.Delivery) bool { return x.ID == d.ID })
			if inDead != tt.dead {
				t.Errorf("in DeadLetters = %v, want %v", inDead, tt.dead)
			}
			if tt.dead && d.LastError == "" {
				t.Error("dead delivery without its last error")
			}
		})
	}
}

var deliveryIDs = regexp.MustCompile(`dlv_[0-9A-Z]+`)

// TestIntakeNormalizeSameAsStages runs orders through the pipeline as
// the gateway does (intake normalizes, decides and routes the orders it
// parsed in its own transaction; routing hands the routed order to the
// delivery worker) and through the stages' topics, each stage decoding
// what it reads: the stored orders, their revisions, statuses and
// timelines, and what the backend got must be the same, but for the ids.
func TestIntakeNormalizeSameAsStages(t *testing.T) {
	const files = 5
	type outcome struct {
		Revision  int64
		Status    order.Status
		Canonical string
		Timeline  []string
		Delivered string
	}
	run := func(t *testing.T, asGateway, needOrder bool) ([]outcome, pipeline.HandoffStats) {
		opts := harnessOptions{stagesOnly: !asGateway}
		outDir := ""
		if needOrder {
			outDir = filepath.Join(t.TempDir(), "outbound")
			fb, err := filedrop.New(filedrop.Config{Name: "files", Dir: outDir})
			if err != nil {
				t.Fatal(err)
			}
			opts.backend = orderBackend{fb, t}
		}
		h := newHarness(t, opts)
		for i := range files {
			h.src.push(fmt.Sprintf("f%d", i), fixtures.X12850(4700+i, fmt.Sprintf("PO-%d", i), 30))
		}
		var out []outcome
		for i := range files {
			doc := h.documentIn(fmt.Sprintf("f%d", i), store.DocumentParsed)
			rec := h.orderOf(doc.ID, order.StatusDelivered)
			ids := strings.NewReplacer(rec.ID, "ORDER", doc.ID, "DOC")
			anon := func(s string) string { return deliveryIDs.ReplaceAllString(ids.Replace(s), "DELIVERY") }
			evs, err := h.st.Timeline(h.ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			var timeline []string
			for _, e := range evs {
				timeline = append(timeline, anon(fmt.Sprintf("%s %s %s %s", e.Actor, e.Kind, e.Reason, e.Data)))
			}
			outbound := filepath.Join(h.dir, "outbound")
			if needOrder {
				outbound = outDir
			}
			matches, err := filepath.Glob(filepath.Join(outbound, rec.ID+"*"))
			if err != nil || len(matches) != 1 {
				t.Fatalf("delivered files of %s: %v %v", rec.ID, matches, err)
			}
			delivered, err := os.ReadFile(matches[0])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, outcome{rec.Revision, rec.Status, anon(string(rec.Canonical)), timeline, anon(string(delivered))})
		}
		return out, pipeline.Handoffs(h.p)
	}
	want, off := run(t, false, true)
	got, on := run(t, true, true)
	payloadOnly, onPayload := run(t, true, false)
	if off != (pipeline.HandoffStats{}) {
		t.Errorf("through the stages: %+v, want no order normalized at intake, none handed off", off)
	}
	if on.NormalizedAtIntake != files || on.Delivery == 0 || on.DeliveryStale != 0 {
		t.Errorf("as the gateway runs: %+v of %d orders, want every order normalized at intake, some handed off to delivery, none stale", on, files)
	}
	if onPayload.NormalizedAtIntake != files || onPayload.Delivery != 0 || onPayload.DeliveryStale != 0 {
		t.Errorf("as the gateway runs, to a payload backend: %+v of %d orders, want every order normalized at intake, none handed off", onPayload, files)
	}
	if !reflect.DeepEqual(payloadOnly, want) {
		t.Errorf("to a payload backend, the orders differ from those through the stages")
	}
	for i := range want {
		g, w := fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", want[i])
		if !reflect.DeepEqual(got[i], want[i]) {
			at := 0
			for at < min(len(g), len(w)) && g[at] == w[at] {
				at++
			}
			from := max(at-200, 0)
			t.Errorf("order %d differs at byte %d; as the gateway runs:\n...%s...\nthrough the stages:\n...%s...", i, at, g[from:min(at+200, len(g))], w[from:min(at+200, len(w))])
		}
	}
	t.Logf("of %d orders: %+v", files, on)
}

// orderBackend is a files backend that reads the order's fields (no
// routing.PayloadBackend): each delivery must carry the order its payload
// is the JSON of.
type orderBackend struct {
	routing.BatchBackend
	t *testing.T
}

func (b orderBackend) check(d routing.Delivery) {
	if d.Order == nil {
		b.t.Errorf("delivery %s without its order", d.Key)
		return
	}
	data, err := order.Marshal(d.Order)
	if err != nil || string(data)+"\n" != string(d.Payload.Body) {
		b.t.Errorf("delivery %s: the order's JSON (%v) is not the payload", d.Key, err)
	}
}

func (b orderBackend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	b.check(d)
	return b.BatchBackend.Deliver(ctx, d)
}

func (b orderBackend) DeliverBatch(ctx context.Context, ds []routing.Delivery) ([]routing.Receipt, []error) {
	for _, d := range ds {
		b.check(d)
	}
	return b.BatchBackend.DeliverBatch(ctx, ds)
}

// TestIntakeNormalizeFails: when normalizing an order at intake fails
// (here: its route renders X12 850, and an EDIFACT supplier part holds
// X12's element separator), what normalize wrote is rolled back, the
// document is stored with its order and ack all the same, and the order
// goes to the normalize stage, which fails on it too and puts its
// message in quarantine.
func TestIntakeNormalizeFails(t *testing.T) { forEachDriver(t, testIntakeNormalizeFails) }

func testIntakeNormalizeFails(t *testing.T) {
	h := newHarness(t, harnessOptions{routes: "  - {name: erp, to: copies, format: x12-850}"})
	body := bytes.Replace(fixtures.EDIFACTOrders(7301, "PO-STAR", 2), []byte("PIA+5+SCR-001:SA"), []byte("PIA+5+SCR*001:SA"), 1)
	if !bytes.Contains(body, []byte("SCR*001")) {
		t.Fatal("the fixture has no supplier part SCR-001 to change")
	}
	h.src.push("star", body)
	doc := h.documentIn("star", store.DocumentParsed)
	h.sentAcks(doc.ID, 1)
	var entries []store.QuarantineEntry
	h.eventually("the order's message in quarantine", func() (bool, string) {
		var err error
		entries, err = h.st.ListQuarantine(h.ctx, pipeline.TopicOrderParsed, 10)
		return err == nil && len(entries) > 0, fmt.Sprint(len(entries), err)
	})
	if len(entries) != 1 || !strings.Contains(entries[0].Error, "rendering X12 850") {
		t.Fatalf("quarantine = %+v, want one entry for the X12 850 rendering", entries)
	}
	rec := h.orderOf(doc.ID, order.StatusReceived)
	if got, want := h.orderKinds(rec.ID), []string{"parsed", "quarantined"}; !reflect.DeepEqual(got, want) {
		t.Errorf("timeline = %v, want %v: what normalize wrote at intake is rolled back", got, want)
	}
	if rec.Revision != 1 {
		t.Errorf("revision = %d, want 1", rec.Revision)
	}
	if got := pipeline.Handoffs(h.p); got.NormalizedAtIntake != 0 || got.GuardedRetries != 1 {
		t.Errorf("normalized at intake = %d, guarded retries = %d, want 0 and 1", got.NormalizedAtIntake, got.GuardedRetries)
	}
	if got, want := h.sourceResult("star"), channels.Committed(); got != want {
		t.Errorf("source ack = %+v, want %+v", got, want)
	}
}

// TestIntakeNormalizePanics: a panic while intake normalizes an order
// fails that order only; the document is stored and the order goes
// through the normalize stage. The panic comes in both of intake's runs:
// the unguarded one and the guarded one.
func TestIntakeNormalizePanics(t *testing.T) {
	var panics atomic.Int32
	h := newHarness(t, harnessOptions{fault: func(point string) {
		if point == "intake-normalize" && panics.Add(1) <= 2 {
			panic("boom")
		}
	}})
	h.src.push("panic", fixtures.X12850(5400, "PO-PANIC", 2))
	doc := h.documentIn("panic", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusDelivered)
	if panics.Load() != 2 {
		t.Fatalf("intake-normalize reached %d times, want twice", panics.Load())
	}
	if got := pipeline.Handoffs(h.p); got.NormalizedAtIntake != 0 || got.GuardedRetries != 1 {
		t.Errorf("normalized at intake = %d, guarded retries = %d, want 0 and 1", got.NormalizedAtIntake, got.GuardedRetries)
	}
	if got, want := h.orderKinds(rec.ID)[:2], []string{"parsed", "normalized"}; !reflect.DeepEqual(got, want) {
		t.Errorf("timeline starts %v, want %v", got, want)
	}
	if got, want := h.sourceResult("panic"), channels.Committed(); got != want {
		t.Errorf("source ack = %+v, want %+v", got, want)
	}
}

// inboxBatch returns n documents of the channel inbox, as the folder
// channel hands them to intake: X12 850s of lines lines each, with the
// interchange control numbers icn, icn+1, ..., keyed key-0, key-1, ...
func inboxBatch(key string, icn, n, lines int) []channels.Document {
	docs := make([]channels.Document, n)
	for i := range docs {
		docs[i] = channels.Document{Channel: "inbox", SourceKey: fmt.Sprintf("%s-%d", key, i), Name: fmt.Sprintf("po%d.x12", i),
			Body:     channels.BytesBody(fixtures.X12850(icn+i, fmt.Sprintf("PO-%s-%d", strings.ToUpper(key), i), lines)),
			Received: time.Now()}
	}
	return docs
}

// TestIntakeNormalizeRetried: an order that fails only in intake's
// unguarded run (a panic once) rolls the batch back; the guarded run
// stores every document, order, ack and event once, and normalizes the
// order at intake after all, from the orders as parsed (the first run
// resolved the lines of the first order in place).
func TestIntakeNormalizeRetried(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, harnessOptions{fault: func(point string) {
		// The second order of the batch, in the first run.
		if point == "intake-normalize" && calls.Add(1) == 2 {
			panic("once")
		}
	}})
	h.putWarehouse() // product SCR-001: line 1 of each order resolves to it
	taken, err := h.p.TakeBatch(h.ctx, inboxBatch("retried", 5500, 3, 2))
	if err != nil {
		t.Fatalf("TakeBatch: %v", err)
	}
	for _, tk := range taken {
		if !tk.Created || tk.Doc.Status != store.DocumentParsed {
			t.Errorf("document %s: created %v, status %s; want created and parsed", tk.Doc.SourceKey, tk.Created, tk.Doc.Status)
		}
		rec := h.orderOf(tk.Doc.ID, order.StatusDelivered)
		if got, want := h.orderKinds(rec.ID)[:2], []string{"parsed", "normalized"}; !reflect.DeepEqual(got, want) {
			t.Errorf("order %s: timeline starts %v, want %v", rec.ID, got, want)
		}
		o, err := rec.Order()
		if err != nil {
			t.Fatal(err)
		}
		if got := o.Provenance.Map()["lines[0].sku"]; !strings.HasPrefix(got, "masterdata: ") {
			t.Errorf("order %s: provenance of lines[0].sku = %q, want the master data's (the line as parsed, resolved once)", rec.ID, got)
		}
		if got := h.documentKinds(tk.Doc.ID); len(got) == 0 || got[0] != "received" || slices.Index(got[1:], "received") >= 0 {
			t.Errorf("document %s: events %v, want one received", tk.Doc.SourceKey, got)
		}
		h.sentAcks(tk.Doc.ID, 1)
	}
	if got := h.allOrders(); len(got) != 3 {
		t.Errorf("%d orders, want 3", len(got))
	}
	if got := pipeline.Handoffs(h.p); got.NormalizedAtIntake != 3 || got.GuardedRetries != 1 {
		t.Errorf("normalized at intake = %d, guarded retries = %d, want 3 and 1", got.NormalizedAtIntake, got.GuardedRetries)
	}
	if got := calls.Load(); got != 5 {
		t.Errorf("intake-normalize reached %d times, want 5 (2 in the first run, 3 in the guarded one)", got)
	}
}

// TestIntakeNormalizeBound: intake normalizes at most so many orders per
// transaction; the batch's other orders go through the normalize stage,
// and every order is delivered.
func TestIntakeNormalizeBound(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pipeline.SetIntakeNormalizeMax(h.p, 1)
	taken, err := h.p.TakeBatch(h.ctx, inboxBatch("bound", 5300, 3, 2))
	if err != nil {
		t.Fatalf("TakeBatch: %v", err)
	}
	for _, tk := range taken {
		h.orderOf(tk.Doc.ID, order.StatusDelivered)
	}
	if got := pipeline.Handoffs(h.p).NormalizedAtIntake; got != 1 {
		t.Errorf("normalized at intake = %d, want 1 (the bound)", got)
	}
}

// TestIntakeBacklog: with the parse and normalize stages behind by
// IntakeBacklog documents or more, a pulled source's next document stays
// in the source; once the stages catch up it is taken, and every order
// is routed.
func TestIntakeBacklog(t *testing.T) { forEachDriver(t, testIntakeBacklog) }

func testIntakeBacklog(t *testing.T) {
	// Through the stages: intake would normalize these orders itself.
	h := newHarness(t, harnessOptions{intakeBacklog: 2, stagesLater: true, stagesOnly: true})
	// Taken in: its order waits for the (stopped) stages. The source's
	// ack waits for the pipeline's workers, stopped too.
	waiting := func() int64 {
		d, err := h.p.Depths(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d[pipeline.TopicDocReceived] + d[pipeline.TopicOrderParsed]
	}
	for i, key := range []string{"a", "b"} {
		h.src.push(key, fixtures.X12850(9100+i, "PO-BACKLOG-"+key, 2))
		h.eventually("document "+key+" taken", func() (bool, string) { n := waiting(); return n == int64(i+1), fmt.Sprint(n) })
	}
	h.src.push("c", fixtures.X12850(9102, "PO-BACKLOG-c", 2))
	// The backlog (two orders waiting for normalize) holds c back. This
	// waits a while: the intake looks at the backlog every 10 ms.
	time.Sleep(300 * time.Millisecond)
	if n := waiting(); n != 2 {
		t.Fatalf("%d documents and orders wait for the stages, want 2: document c was taken", n)
	}
	h.startStages()
	for _, key := range []string{"a", "b", "c"} {
		po := "PO-BACKLOG-" + key
		h.eventually("order "+po+" routed", func() (bool, string) {
			page, err := h.st.ListOrders(h.ctx, store.OrderFilter{PONumber: po}, "", 10)
			if err != nil || len(page.Orders) != 1 {
				return false, fmt.Sprint(len(page.Orders), err)
			}
			st := page.Orders[0].Status
			return st == order.StatusRouted || st == order.StatusDelivered, string(st)
		})
		h.eventually("document "+key+" acked", func() (bool, string) { r := h.src.results(key); return len(r) > 0, fmt.Sprint(r) })
	}
}

// TestDuplicatePurchaseOrderInOneBatch: two interchanges with one PO
// number in one intake transaction are decided one after the other, as
// if they had come one after the other: the first is delivered, the
// second is the duplicate of the first. Intake writes each order's row
// once (OrderInput.Hold) and needs no guarded run for it.
func TestDuplicatePurchaseOrderInOneBatch(t *testing.T) {
	forEachDriver(t, testDuplicatePurchaseOrderInOneBatch)
}

func testDuplicatePurchaseOrderInOneBatch(t *testing.T) {
	h := newHarness(t, harnessOptions{duplicates: "reject"})
	docs := []channels.Document{
		{Channel: "inbox", SourceKey: "one-batch-0", Name: "po0.x12", Body: channels.BytesBody(fixtures.X12850(5600, "PO-TWICE", 2)), Received: time.Now()},
		{Channel: "inbox", SourceKey: "one-batch-1", Name: "po1.x12", Body: channels.BytesBody(fixtures.X12850(5601, "PO-TWICE", 2)), Received: time.Now()},
	}
	taken, err := h.p.TakeBatch(h.ctx, docs)
	if err != nil {
		t.Fatalf("TakeBatch: %v", err)
	}
	first := h.orderOf(taken[0].Doc.ID, order.StatusDelivered)
	second := h.orderOf(taken[1].Doc.ID, order.StatusRejected)
	evs, err := h.st.Timeline(h.ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e store.Event) bool {
		return e.Kind == "rejected" && strings.Contains(e.Reason, "was already received as order "+first.ID)
	}) {
		t.Errorf("timeline of the second order = %v, want it rejected as a duplicate of %s", kinds(evs), first.ID)
	}
	for _, rec := range []store.OrderRecord{first, second} {
		if got := h.orderKinds(rec.ID); len(got) < 2 || got[0] != "parsed" || got[1] != "normalized" {
			t.Errorf("order %s: timeline %v, want parsed, normalized, ...", rec.ID, got)
		}
	}
	if got := pipeline.Handoffs(h.p); got.NormalizedAtIntake != 2 || got.GuardedRetries != 0 {
		t.Errorf("normalized at intake = %d, guarded retries = %d, want 2 and 0", got.NormalizedAtIntake, got.GuardedRetries)
	}
}

// countingSource counts the documents read from its fakeSource.
type countingSource struct {
	*fakeSource
	reads atomic.Int64
}

func (s *countingSource) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	doc, ack, err := s.fakeSource.Read(ctx)
	if err == nil {
		s.reads.Add(1)
	}
	return doc, ack, err
}

// TestIntakeReadAheadBounded: while intake is stalled, a source's large
// documents are read ahead of it only up to a bound in bytes (8 MiB),
// not the 256 documents a batch may hold.
func TestIntakeReadAheadBounded(t *testing.T) {
	stalled, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := newHarness(t, harnessOptions{fault: func(point string) {
		if point == "after-intake-commit" {
			once.Do(func() { close(stalled); <-resume })
		}
	}})
	src := &countingSource{fakeSource: newFakeSource("inbox")}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { defer close(done); h.p.RunSource(ctx, "inbox", src) }()
	defer func() { close(resume); cancel(); <-done }()
	const files, size = 40, 1 << 20
	for i := range files {
		src.push(fmt.Sprintf("big%d", i), bytes.Repeat([]byte{'x'}, size))
	}
	<-stalled
	// The reader goes on to the bound: the first batch (1 to 4 MiB), 8 MiB
	// read ahead and one document in hand, so at least 10 reads...
	h.eventually("the reader reaches the bound", func() (bool, string) {
		n := src.reads.Load()
		return n >= 1+8+1, fmt.Sprint(n, " read")
	})
	// ...and, given as long again to read the other 30, no more than 13.
	time.Sleep(300 * time.Millisecond)
	if got := src.reads.Load(); got > 4+8+1 {
		t.Errorf("%d documents of 1 MiB read while intake was stalled, want at most 13", got)
	}
}
