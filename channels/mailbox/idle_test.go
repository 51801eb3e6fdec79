package mailbox_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

// TestIDLEWakesRead: with a poll interval of a minute, a mail delivered
// while Read waits is read within a second: IDLE, not the poll, woke it.
func TestIDLEWakesRead(t *testing.T) {
	srv := dovecot.Start(t)
	cfg := testConfig(srv, "idle", "INBOX")
	cfg.Poll = time.Minute
	src := newSource(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	delivered := make(chan time.Time, 1)
	go func() {
		// Read is waiting (in IDLE) by then.
		time.Sleep(700 * time.Millisecond)
		_, raw := kindMail(1)
		if err := srv.TryDeliverTo("INBOX", raw); err != nil {
			t.Error(err)
		}
		delivered <- time.Now()
	}()
	doc, ack, err := src.Read(ctx)
	read := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	doc.Body.Close()
	at := <-delivered
	if d := read.Sub(at); d > time.Second {
		t.Errorf("the mail was read %s after its delivery; want within a second (IDLE) with a poll of a minute", d)
	}
	if err := ack(ctx, channels.Committed()); err != nil {
		t.Fatal(err)
	}
}

// attempts records the channel's failed reconnects ("reconnecting
// failed" log records) with their time and announced wait.
type attempts struct {
	mu    sync.Mutex
	at    []time.Time
	waits []time.Duration
}

func (a *attempts) Enabled(context.Context, slog.Level) bool { return true }
func (a *attempts) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a *attempts) WithGroup(string) slog.Handler            { return a }
func (a *attempts) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "reconnecting failed" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = append(a.at, r.Time)
	r.Attrs(func(at slog.Attr) bool {
		if at.Key == "retry_in" {
			a.waits = append(a.waits, at.Value.Duration())
		}
		return true
	})
	return nil
}

// TestReconnectBackoffDuringOutage: while the server is down the channel
// tries again after waits that double from ReconnectMin and stay at
// ReconnectMax (with their jitter of 75% to 125%), spaced by those waits;
// when the server is back, Read carries on with the mail delivered then.
func TestReconnectBackoffDuringOutage(t *testing.T) {
	srv := dovecot.Start(t)
	cfg := testConfig(srv, "outage", "INBOX")
	cfg.ReconnectMin, cfg.ReconnectMax = 40*time.Millisecond, 320*time.Millisecond
	rec := &attempts{}
	cfg.Logger = slog.New(rec)
	src := newSource(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	srv.Stop()
	const outage = 2500 * time.Millisecond
	type result struct {
		subject string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		doc, ack, err := src.Read(ctx)
		if err != nil {
			done <- result{err: err}
			return
		}
		doc.Body.Close()
		done <- result{subject: doc.Meta["subject"], err: ack(ctx, channels.Committed())}
	}()
	time.Sleep(outage)
	srv.Restart() // starts the stopped server again on its ports
	_, raw := kindMail(0)
	srv.Deliver(raw)
	r := <-done
	if r.err != nil {
		t.Fatalf("Read after the outage: %v", r.err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := len(rec.waits)
	// 40+80+160+320+320+... ms in 2.5 s: about 10 attempts; never a
	// tight loop, never a single give-up.
	if n < 5 || n > 16 {
		t.Fatalf("%d failed reconnects during an outage of %s, want 5 to 16 (waits %v)", n, outage, rec.waits)
	}
	step := cfg.ReconnectMin
	for i, w := range rec.waits {
		lo, hi := time.Duration(float64(step)*0.75), time.Duration(float64(step)*1.25)
		if w < lo || w > hi {
			t.Errorf("wait %d = %s, want %s..%s (step %s, capped at %s)", i, w, lo, hi, step, cfg.ReconnectMax)
		}
		if i > 0 {
			if gap := rec.at[i].Sub(rec.at[i-1]); gap < rec.waits[i-1] {
				t.Errorf("attempt %d came %s after the one before, which announced a wait of %s", i, gap, rec.waits[i-1])
			}
		}
		step = min(step*2, cfg.ReconnectMax)
	}
	if got := rec.waits[n-1]; got > time.Duration(float64(cfg.ReconnectMax)*1.25) {
		t.Errorf("the last wait %s is over the cap %s", got, cfg.ReconnectMax)
	}
}
