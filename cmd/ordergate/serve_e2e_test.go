package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
)

// mixedFile returns file i of a mixed X12/EDIFACT run: an interchange
// with its own control number and PO number.
func mixedFile(i, lines int) (name string, body []byte) {
	po := fmt.Sprintf("PO-%06d", i)
	if i%2 == 0 {
		return fmt.Sprintf("po-%06d.x12", i), fixtures.X12850(100000+i, po, lines)
	}
	return fmt.Sprintf("po-%06d.edi", i), fixtures.EDIFACTOrders(100000+i, po, lines)
}

func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	dir, port := newGatewayDir(t)
	g := start(t, dir, port)
	const n = 1000
	for i := 0; i < n; i++ {
		name, body := mixedFile(i, 3)
		drop(t, dir, name, body)
	}
	waitFor(t, 3*time.Minute, fmt.Sprintf("%d delivered orders", n), func() bool {
		return len(g.orders("status=delivered")) == n
	})
	orders := g.orders("")
	if len(orders) != n {
		t.Fatalf("%d orders, want %d", len(orders), n)
	}
	seen := map[string]bool{}
	for _, o := range orders {
		if seen[o.PONumber] {
			t.Errorf("PO %s twice", o.PONumber)
		}
		seen[o.PONumber] = true
	}
	waitFor(t, time.Minute, "every file in done/ and every ack in outbox/", func() bool {
		return len(files(t, filepath.Join(dir, "inbox", "done"))) == n && len(files(t, filepath.Join(dir, "outbox"))) == n
	})
	if got := files(t, filepath.Join(dir, "inbox", "error")); len(got) != 0 {
		t.Errorf("error/ has %d files, want 0: %v", len(got), got)
	}
	if got := len(files(t, filepath.Join(dir, "outbound"))); got != n {
		t.Errorf("outbound has %d orders, want %d", got, n)
	}
	for _, f := range files(t, filepath.Join(dir, "outbox")) {
		b, err := os.ReadFile(filepath.Join(dir, "outbox", f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".997.x12") && !strings.Contains(string(b), "AK9*A*1*1*1") ||
			strings.HasSuffix(f, ".CONTRL.edi") && !strings.Contains(string(b), "+7'") {
			t.Errorf("ack %s is not a positive acknowledgement:\n%s", f, b)
			break
		}
	}

	t.Run("same file twice", func(t *testing.T) {
		_, body := mixedFile(0, 3)
		drop(t, dir, "again.x12", body)
		var doc struct {
			Status   string `json:"status"`
			Timeline []struct {
				Kind string `json:"kind"`
			} `json:"timeline"`
		}
		waitFor(t, 30*time.Second, "the resent file in done/", func() bool {
			_, err := os.Stat(filepath.Join(dir, "inbox", "done", "again.x12"))
			return err == nil
		})
		id := documentOf(t, g, "again.x12")
		g.getJSON("/api/v1/documents/"+id, &doc)
		if doc.Status != "duplicate" {
			t.Errorf("document status %q, want duplicate", doc.Status)
		}
		if !hasKind(doc.Timeline, "duplicate") {
			t.Errorf("no duplicate event on the document's timeline: %+v", doc.Timeline)
		}
		if got := len(g.orders("")); got != n {
			t.Errorf("%d orders after the resend, want %d", got, n)
		}
	})

	t.Run("invalid file", func(t *testing.T) {
		_, body := mixedFile(2*n, 3)
		bad := strings.Replace(string(body), "SE*", "SE*99", 1) // wrong segment count
		drop(t, dir, "bad.x12", []byte(bad))
		waitFor(t, 30*time.Second, "the invalid file in error/", func() bool {
			_, err := os.Stat(filepath.Join(dir, "inbox", "error", "bad.x12"))
			return err == nil
		})
		id := documentOf(t, g, "bad.x12")
		var doc struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		g.getJSON("/api/v1/documents/"+id, &doc)
		if doc.Status != "rejected" || doc.Error == "" {
			t.Errorf("document %+v, want rejected with a reason", doc)
		}
		waitFor(t, 30*time.Second, "the negative 997", func() bool {
			b, err := os.ReadFile(filepath.Join(dir, "outbox", id+".997.x12"))
			return err == nil && strings.Contains(string(b), "AK5*R*4")
		})
		if got := len(g.orders("")); got != n {
			t.Errorf("%d orders after the invalid file, want %d", got, n)
		}
	})
	if err := g.stop(30 * time.Second); err != nil {
		t.Errorf("stopping: %v\n%s", err, g.log)
	}
}

func hasKind(events []struct {
	Kind string `json:"kind"`
}, kind string) bool {
	for _, e := range events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// documentOf finds a document's id by its file name.
func documentOf(t *testing.T, g *gateway, name string) string {
	t.Helper()
	var page struct {
		Documents []struct {
			ID       string `json:"id"`
			Filename string `json:"filename"`
		} `json:"documents"`
	}
	g.getJSON("/api/v1/documents?limit=50", &page)
	for _, d := range page.Documents {
		if d.Filename == name {
			return d.ID
		}
	}
	t.Fatalf("no document named %s", name)
	return ""
}

// TestServeCrash kills the gateway with SIGKILL at seeded moments while it
// works through a batch, restarting it each time: no order may be lost or
// doubled, and no ack sent twice.
func TestServeCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	const n, kills = 2000, 20
	rng := rand.New(rand.NewPCG(20261127, 1))
	dir, port := newGatewayDir(t)
	for i := 0; i < n; i++ {
		name, body := mixedFile(i, 1)
		drop(t, dir, name, body)
	}
	for k := 0; k < kills; k++ {
		g := start(t, dir, port)
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		g.kill()
	}
	g := start(t, dir, port)
	waitFor(t, 3*time.Minute, fmt.Sprintf("%d delivered orders", n), func() bool {
		return len(g.orders("status=delivered")) == n
	})
	waitFor(t, time.Minute, "every file in done/ and every ack in outbox/", func() bool {
		return len(files(t, filepath.Join(dir, "inbox", "done"))) == n && len(files(t, filepath.Join(dir, "outbox"))) == n
	})
	orders := g.orders("")
	pos := map[string]int{}
	for _, o := range orders {
		pos[o.PONumber]++
	}
	if len(orders) != n || len(pos) != n {
		t.Errorf("%d orders with %d distinct PO numbers, want %d of each", len(orders), len(pos), n)
	}
	for po, c := range pos {
		if c != 1 {
			t.Errorf("PO %s: %d orders", po, c)
		}
	}
	if got := len(files(t, filepath.Join(dir, "outbound"))); got != n {
		t.Errorf("outbound has %d order files, want %d", got, n)
	}
	if got := files(t, filepath.Join(dir, "inbox")); len(got) != 0 {
		t.Errorf("inbox still has %d files", len(got))
	}
}

// TestServeFaultAfterIntakeCommit crashes the gateway exactly between the
// intake commit and the source ack: the file is still in the inbox, comes
// again after the restart, and dedupe absorbs it.
func TestServeFaultAfterIntakeCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	dir, port := newGatewayDir(t)
	g := start(t, dir, port, "ORDERGATE_FAULT=after-intake-commit")
	_, body := mixedFile(7, 2)
	drop(t, dir, "fault.x12", body)
	select {
	case <-g.done:
		g.done <- nil
	case <-time.After(30 * time.Second):
		t.Fatalf("the fault hook did not stop the gateway\n%s", g.log)
	}
	if code := g.cmd.ProcessState.ExitCode(); code != 86 {
		t.Fatalf("exit code %d, want the fault hook's 86\n%s", code, g.log)
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", "fault.x12")); err != nil {
		t.Fatalf("the file left the inbox before its ack: %v", err)
	}
	g = start(t, dir, port)
	waitFor(t, 30*time.Second, "the order delivered", func() bool { return len(g.orders("status=delivered")) == 1 })
	waitFor(t, 30*time.Second, "the file in done/ and one ack", func() bool {
		return len(files(t, filepath.Join(dir, "inbox", "done"))) == 1 && len(files(t, filepath.Join(dir, "outbox"))) == 1
	})
	var docs struct {
		Documents []struct{ ID string } `json:"documents"`
	}
	g.getJSON("/api/v1/documents", &docs)
	if len(docs.Documents) != 1 {
		t.Errorf("%d documents, want 1 (the redelivery is absorbed)", len(docs.Documents))
	}
	if got := len(g.orders("")); got != 1 {
		t.Errorf("%d orders, want 1", got)
	}
}

// TestServeDrainsOnSIGTERM stops the gateway under load: it exits cleanly
// in time, and after a restart every document is accounted for.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	dir, port := newGatewayDir(t)
	g := start(t, dir, port)
	const n = 300
	for i := 0; i < n; i++ {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	time.Sleep(300 * time.Millisecond)
	if err := g.stop(30 * time.Second); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, g.log)
	}
	if !strings.Contains(g.log.String(), "ordergate stopped") {
		t.Errorf("no clean stop in the log:\n%s", g.log)
	}
	g = start(t, dir, port)
	waitFor(t, 2*time.Minute, "every order delivered after the restart", func() bool {
		return len(g.orders("status=delivered")) == n
	})
}
