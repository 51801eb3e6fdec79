package channeltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// Inbox is one fresh inbox of the channel under test.
type Inbox struct {
	// Open returns a new, unconnected Source on the inbox. The suite calls
	// it more than once to simulate a restart of the process; it closes
	// every source it opens.
	Open func(t *testing.T) channels.Source
	// Put drops a complete document into the inbox the way a partner
	// would.
	Put func(t *testing.T, name string, body []byte)
	// Pending returns the names of the documents still waiting in the
	// inbox: put and not yet disposed of by a Committed or Rejected ack.
	Pending func(t *testing.T) []string
	// Timeout bounds every blocking call of the suite; default 30 s.
	Timeout time.Duration
}

// Factory builds a fresh, empty inbox for one subtest.
type Factory func(t *testing.T) Inbox

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, newInbox Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"ReadsEachDocumentOnce", testReadsEachOnce},
		{"ConcurrentReaders", testConcurrentReaders},
		{"NotAckedReadAgainAfterReconnect", testNotAckedAfterReconnect},
		{"NotAckedReadAgainAfterRestart", testNotAckedAfterRestart},
		{"CommittedNeverReadAgain", testCommitted},
		{"RejectedLeavesInbox", testRejected},
		{"RetryReadsAgain", testRetry},
		{"AckAfterCloseFails", testAckAfterClose},
		{"SameNameNewContentIsNewDocument", testRedrop},
		{"CloseIdempotentAndUnblocksRead", testClose},
		{"ReadBeforeConnect", testReadBeforeConnect},
		{"ReadHonoursContext", testReadContext},
		{"EmptyDocument", testEmpty},
		{"LargeDocument", testLarge},
		{"NamesWithSpacesAndUnicode", testNames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInbox(t)
			if in.Open == nil || in.Put == nil || in.Pending == nil {
				t.Fatal("channeltest: Inbox needs Open, Put and Pending")
			}
			if in.Timeout <= 0 {
				in.Timeout = 30 * time.Second
			}
			tt.fn(t, &harness{Inbox: in})
		})
	}
}

type harness struct {
	Inbox
	sentinels int
}

// open returns a connected source that is closed at the end of the test.
func (h *harness) open(t *testing.T) channels.Source {
	t.Helper()
	src := h.Open(t)
	ctx := h.ctx(t)
	if err := src.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if err := src.Close(context.Background()); err != nil {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	return src
}

func (h *harness) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// read reads one document under the deadline and closes its body at the
// end of the test.
func (h *harness) read(t *testing.T, src channels.Source) (channels.Document, channels.AckFunc) {
	t.Helper()
	doc, ack, err := src.Read(h.ctx(t))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if ack == nil {
		t.Fatalf("Read returned %q with a nil AckFunc", doc.Name)
	}
	t.Cleanup(func() { doc.Body.Close() })
	return doc, ack
}

func (h *harness) ack(t *testing.T, ack channels.AckFunc, r channels.Result) {
	t.Helper()
	if err := ack(h.ctx(t), r); err != nil {
		t.Fatalf("ack %v: %v", r.Outcome, err)
	}
}

// expectOnlySentinel puts a sentinel document and reads until it arrives;
// any other document read first fails the test.
func (h *harness) expectOnlySentinel(t *testing.T, src channels.Source) {
	t.Helper()
	h.sentinels++
	name := fmt.Sprintf("zzzz-sentinel-%03d.txt", h.sentinels)
	h.Put(t, name, []byte(name))
	doc, ack := h.read(t, src)
	if doc.Name != name {
		t.Fatalf("read %q, want only the sentinel %q", doc.Name, name)
	}
	h.ack(t, ack, channels.Committed())
}

// checkDoc compares a document read with the one put.
func checkDoc(t *testing.T, doc channels.Document, name string, body []byte) {
	t.Helper()
	if doc.Name != name {
		t.Errorf("Name = %q, want %q", doc.Name, name)
	}
	if doc.Channel == "" {
		t.Errorf("%s: Channel is empty", name)
	}
	if doc.SourceKey == "" {
		t.Errorf("%s: SourceKey is empty", name)
	}
	if doc.Received.IsZero() {
		t.Errorf("%s: Received is zero", name)
	}
	if doc.Err != nil {
		t.Errorf("%s: Err = %v, want nil", name, doc.Err)
	}
	if got, want := doc.Size(), int64(len(body)); got != want {
		t.Errorf("%s: Size = %d, want %d", name, got, want)
	}
	if got, want := doc.SHA256, sha256.Sum256(body); got != want {
		t.Errorf("%s: SHA256 = %x, want %x", name, got, want)
	}
	got, err := io.ReadAll(doc.Body.Reader())
	if err != nil {
		t.Fatalf("%s: reading body: %v", name, err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("%s: body differs: got %d bytes, want %d (sha256 %x, want %x)",
			name, len(got), len(body), sha256.Sum256(got), sha256.Sum256(body))
	}
}

func (h *harness) assertNotPending(t *testing.T, name string) {
	t.Helper()
	if pending := h.Pending(t); slices.Contains(pending, name) {
		t.Errorf("%q still pending in the inbox after its ack: %v", name, pending)
	}
}

func body(name string, n int) []byte {
	b := make([]byte, n)
	seed := sha256.Sum256([]byte(name))
	for i := range b {
		b[i] = seed[i%32] ^ byte(i>>8)
	}
	return b
}

func testReadsEachOnce(t *testing.T, h *harness) {
	src := h.open(t)
	want := map[string][]byte{}
	for i := range 5 {
		name := fmt.Sprintf("a-po-%d.edi", i)
		want[name] = body(name, 100+i*1000)
		h.Put(t, name, want[name])
	}
	// Read all before acking any: a document in flight is not handed out
	// again.
	keys := map[string]string{}
	var acks []channels.AckFunc
	for range len(want) {
		doc, ack := h.read(t, src)
		b, ok := want[doc.Name]
		if !ok {
			t.Fatalf("read unexpected document %q", doc.Name)
		}
		if _, dup := keys[doc.Name]; dup {
			t.Fatalf("read %q twice while it was in flight", doc.Name)
		}
		checkDoc(t, doc, doc.Name, b)
		for other, key := range keys {
			if key == doc.SourceKey {
				t.Errorf("%q and %q share SourceKey %q", doc.Name, other, key)
			}
		}
		keys[doc.Name] = doc.SourceKey
		acks = append(acks, ack)
	}
	// Still in flight: a later Read must not return them again.
	h.expectOnlySentinel(t, src)
	for _, ack := range acks {
		h.ack(t, ack, channels.Committed())
	}
	for name := range want {
		h.assertNotPending(t, name)
	}
	h.expectOnlySentinel(t, src)
}

func testConcurrentReaders(t *testing.T, h *harness) {
	src := h.open(t)
	const n = 12
	for i := range n {
		name := fmt.Sprintf("a-conc-%02d.edi", i)
		h.Put(t, name, body(name, 200))
	}
	ctx := h.ctx(t)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
		errs = make(chan error, n)
	)
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 3 {
		wg.Go(func() {
			for range next {
				doc, ack, err := src.Read(ctx)
				if err != nil {
					errs <- fmt.Errorf("reading: %w", err)
					return
				}
				doc.Body.Close()
				mu.Lock()
				seen[doc.Name]++
				mu.Unlock()
				if err := ack(ctx, channels.Committed()); err != nil {
					errs <- fmt.Errorf("ack %s: %w", doc.Name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := len(seen), n; got != want {
		t.Errorf("read %d distinct documents, want %d", got, want)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%q read %d times, want 1", name, c)
		}
	}
	h.expectOnlySentinel(t, src)
}

func testNotAckedAfterReconnect(t *testing.T, h *harness) {
	src := h.open(t)
	b := body("a", 1234)
	h.Put(t, "a-po.edi", b)
	first, _ := h.read(t, src)
	if err := src.Close(h.ctx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := src.Connect(h.ctx(t)); err != nil {
		t.Fatalf("Connect again: %v", err)
	}
	again, ack := h.read(t, src)
	checkDoc(t, again, "a-po.edi", b)
	if again.SourceKey != first.SourceKey {
		t.Errorf("SourceKey after reconnect = %q, want %q", again.SourceKey, first.SourceKey)
	}
	h.ack(t, ack, channels.Committed())
	h.expectOnlySentinel(t, src)
}

func testNotAckedAfterRestart(t *testing.T, h *harness) {
	src := h.open(t)
	b := body("a", 4321)
	h.Put(t, "a-po.edi", b)
	first, _ := h.read(t, src)
	// The process "crashes" after the commit and before the ack: a new
	// source on the same inbox reads the document again with the same key.
	restarted := h.open(t)
	again, ack := h.read(t, restarted)
	checkDoc(t, again, "a-po.edi", b)
	if again.SourceKey != first.SourceKey {
		t.Errorf("SourceKey after restart = %q, want %q", again.SourceKey, first.SourceKey)
	}
	h.ack(t, ack, channels.Committed())
	h.expectOnlySentinel(t, restarted)
}

func testCommitted(t *testing.T, h *harness) {
	src := h.open(t)
	h.Put(t, "a-po.edi", body("a", 10))
	_, ack := h.read(t, src)
	h.ack(t, ack, channels.Committed())
	h.ack(t, ack, channels.Committed()) // a second call is harmless
	h.assertNotPending(t, "a-po.edi")
	if err := src.Close(h.ctx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := src.Connect(h.ctx(t)); err != nil {
		t.Fatalf("Connect again: %v", err)
	}
	h.expectOnlySentinel(t, src)
	h.expectOnlySentinel(t, h.open(t))
}

func testRejected(t *testing.T, h *harness) {
	src := h.open(t)
	h.Put(t, "a-bad.edi", []byte("not an order"))
	_, ack := h.read(t, src)
	h.ack(t, ack, channels.Rejected("segment 1: ISA expected"))
	h.ack(t, ack, channels.Rejected("segment 1: ISA expected"))
	h.assertNotPending(t, "a-bad.edi")
	h.expectOnlySentinel(t, src)
	h.expectOnlySentinel(t, h.open(t))
}

func testRetry(t *testing.T, h *harness) {
	src := h.open(t)
	b := body("a", 777)
	h.Put(t, "a-po.edi", b)
	first, ack := h.read(t, src)
	h.ack(t, ack, channels.Retry())
	again, ack2 := h.read(t, src)
	checkDoc(t, again, "a-po.edi", b)
	if again.SourceKey != first.SourceKey {
		t.Errorf("SourceKey after Retry = %q, want %q", again.SourceKey, first.SourceKey)
	}
	if err := ack(h.ctx(t), channels.Committed()); err != nil {
		t.Errorf("first AckFunc called again after Retry: %v, want nil (no effect)", err)
	}
	if pending := h.Pending(t); !slices.Contains(pending, "a-po.edi") {
		t.Fatalf("a spent AckFunc disposed of the document read again: pending %v", pending)
	}
	h.ack(t, ack2, channels.Committed())
	h.assertNotPending(t, "a-po.edi")
	h.expectOnlySentinel(t, src)
}

func testAckAfterClose(t *testing.T, h *harness) {
	src := h.open(t)
	b := body("a", 99)
	h.Put(t, "a-po.edi", b)
	_, ack := h.read(t, src)
	if err := src.Close(h.ctx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ack(h.ctx(t), channels.Committed()); !errors.Is(err, channels.ErrNotConnected) {
		t.Errorf("ack after Close = %v, want ErrNotConnected", err)
	}
	if err := src.Connect(h.ctx(t)); err != nil {
		t.Fatalf("Connect again: %v", err)
	}
	if err := ack(h.ctx(t), channels.Committed()); !errors.Is(err, channels.ErrNotConnected) {
		t.Errorf("ack from before a reconnect = %v, want ErrNotConnected", err)
	}
	if pending := h.Pending(t); !slices.Contains(pending, "a-po.edi") {
		t.Fatalf("a failed ack disposed of the document: pending %v", pending)
	}
	again, ack2 := h.read(t, src)
	checkDoc(t, again, "a-po.edi", b)
	h.ack(t, ack2, channels.Committed())
	h.expectOnlySentinel(t, src)
}

func testRedrop(t *testing.T, h *harness) {
	src := h.open(t)
	h.Put(t, "a-po.edi", []byte("first content"))
	first, ack := h.read(t, src)
	h.ack(t, ack, channels.Committed())
	second := []byte("second, different content")
	h.Put(t, "a-po.edi", second)
	again, ack2 := h.read(t, src)
	checkDoc(t, again, "a-po.edi", second)
	if again.SourceKey == first.SourceKey {
		t.Errorf("re-dropped document with new content has the old SourceKey %q", first.SourceKey)
	}
	h.ack(t, ack2, channels.Committed())
	h.expectOnlySentinel(t, src)
}

func testClose(t *testing.T, h *harness) {
	src := h.open(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := src.Read(context.Background())
		done <- err
	}()
	if err := src.Close(h.ctx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, channels.ErrNotConnected) {
			t.Errorf("Read unblocked by Close = %v, want ErrNotConnected", err)
		}
	case <-time.After(h.Timeout):
		t.Fatal("Close did not unblock Read")
	}
	if err := src.Close(h.ctx(t)); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := src.Read(h.ctx(t)); !errors.Is(err, channels.ErrNotConnected) {
		t.Errorf("Read after Close = %v, want ErrNotConnected", err)
	}
}

func testReadBeforeConnect(t *testing.T, h *harness) {
	src := h.Open(t)
	if _, _, err := src.Read(h.ctx(t)); !errors.Is(err, channels.ErrNotConnected) {
		t.Errorf("Read before Connect = %v, want ErrNotConnected", err)
	}
	if err := src.Close(h.ctx(t)); err != nil {
		t.Errorf("Close before Connect: %v", err)
	}
}

func testReadContext(t *testing.T, h *harness) {
	src := h.open(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := src.Read(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled ctx = %v, want context.Canceled", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := src.Read(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Read after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(h.Timeout):
		t.Fatal("cancelling ctx did not unblock Read")
	}
	// The source still works after a cancelled Read.
	h.expectOnlySentinel(t, src)
}

func testEmpty(t *testing.T, h *harness) {
	src := h.open(t)
	h.Put(t, "a-empty.edi", nil)
	doc, ack := h.read(t, src)
	checkDoc(t, doc, "a-empty.edi", nil)
	h.ack(t, ack, channels.Committed())
	h.expectOnlySentinel(t, src)
}

func testLarge(t *testing.T, h *harness) {
	src := h.open(t)
	b := body("large", 20<<20)
	h.Put(t, "a-large.edi", b)
	doc, ack := h.read(t, src)
	checkDoc(t, doc, "a-large.edi", b)
	h.ack(t, ack, channels.Committed())
	h.expectOnlySentinel(t, src)
}

func testNames(t *testing.T, h *harness) {
	src := h.open(t)
	names := []string{"a order 4711 (copy).edi", "b Bestellung März – Lager Süd.edi", "c 注文書.xml"}
	for _, name := range names {
		h.Put(t, name, []byte(name))
	}
	var got []string
	for range names {
		doc, ack := h.read(t, src)
		checkDoc(t, doc, doc.Name, []byte(doc.Name))
		got = append(got, doc.Name)
		h.ack(t, ack, channels.Committed())
	}
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("names read = %q, want %q", got, names)
	}
	h.expectOnlySentinel(t, src)
}
