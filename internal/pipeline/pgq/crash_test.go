package pgq_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/ordergate/ordergate/internal/pipeline/pgq"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

// publishOnce publishes id unless a committed transaction already did
// (the sources row): safe to retry after ErrCommitUnknown.
func publishOnce(ctx context.Context, q *pgq.Queue, topic, id string) error {
	return q.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sources (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		pub, err := q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		return pub.Publish(topic, message.NewMessage(id, []byte(id)))
	})
}

// TestDatabaseCrash kills PostgreSQL (immediate stop: no checkpoint,
// connections cut) while a publisher and two consumer nodes are busy, and
// starts it again. The same publisher and subscribers carry on: every
// message is published once and its effect committed once.
func TestDatabaseCrash(t *testing.T) {
	srv := postgres.Start(t)
	dsn := srv.DSN("postgres")
	setup := openDB(t, dsn)
	createEffects(t, setup)

	cfg := fast
	cfg.RetryInterval = 20 * time.Millisecond
	cfg.TxRetryTimeout = 20 * time.Second
	pubQ := newQueue(t, openDB(t, dsn), cfg, "doc.received")
	nodes := []string{"node-a", "node-b"}
	var subs []message.Subscriber
	var waits []func()
	var handled atomic.Int64
	for _, node := range nodes {
		q := newQueue(t, openDB(t, dsn), cfg)
		sub := newSubscriber(t, q, "parse")
		msgs, err := sub.Subscribe(context.Background(), "doc.received")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
		waits = append(waits, consumer(msgs, func(m *message.Message) error {
			if err := recordEffect(m, node); err != nil {
				return err
			}
			handled.Add(1)
			time.Sleep(200 * time.Microsecond)
			return nil
		}))
	}

	want := ids("k", 600)
	var pubErrs atomic.Int64
	var pubWG sync.WaitGroup
	pubWG.Add(1)
	go func() {
		defer pubWG.Done()
		for _, id := range want {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := publishOnce(ctx, pubQ, "doc.received", id)
				cancel()
				if err == nil {
					break
				}
				pubErrs.Add(1)
				if !errors.Is(err, pgq.ErrCommitUnknown) {
					t.Logf("publishing %s: %v", id, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()

	waitFor(t, 20*time.Second, "a third of the effects", func() bool { return handled.Load() >= int64(len(want)/3) })
	if err := srv.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d handled", handled.Load())
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}

	pubWG.Wait()
	waitFor(t, 30*time.Second, "every effect after the restart", func() bool {
		var n int
		err := setup.QueryRow(`SELECT COUNT(*) FROM effects`).Scan(&n)
		return err == nil && n == len(want)
	})
	if n, err := pubQ.Depth(context.Background(), "doc.received", "parse"); err != nil || n != 0 {
		t.Errorf("Depth = %d, %v; want 0", n, err)
	}
	for i, sub := range subs {
		_ = sub.Close()
		waits[i]()
	}
	exactlyOnce(t, effects(t, setup), want)
	if n := countRows(t, setup, `SELECT COUNT(*) FROM sources`); n != len(want) {
		t.Errorf("%d sources, want %d", n, len(want))
	}
	t.Logf("publisher errors during the outage: %d", pubErrs.Load())
}
