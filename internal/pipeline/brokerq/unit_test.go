package brokerq_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/internal/pipeline/brokerq"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

func TestRedactedURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"amqp://og:s3cret@rabbit:5672/og", "amqp://og:xxxxx@rabbit:5672/og"},
		{"nats://a:pw1@n1:4222,nats://b:pw2@n2:4222", "nats://a:xxxxx@n1:4222,nats://b:xxxxx@n2:4222"},
		{"nats://n1:4222", "nats://n1:4222"},
	} {
		got := brokerq.RedactedURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactedURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "pw1") || strings.Contains(got, "pw2") {
			t.Errorf("RedactedURL(%q) = %q shows a password", tc.in, got)
		}
	}
}

func TestNATSNamesAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, topic := range []string{"doc.received", "doc_received", "doc__received", "doc._received", "doc_.received", "a.b.c", "a_db.c"} {
		name := brokerq.NATSName("og.", topic)
		if strings.ContainsAny(name, ". *>") {
			t.Errorf("name %q of %q is not a valid stream name", name, topic)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("topics %q and %q share the name %q", other, topic, name)
		}
		seen[name] = topic
	}
}

// nopOutbox is an Outbox for tests that never reach it.
type nopOutbox struct{ brokerq.Outbox }

func TestConfigValidation(t *testing.T) {
	ok := brokerq.Config{Broker: brokerq.NATS, URL: "nats://127.0.0.1:1", Dialect: brokerq.SQLite}
	for name, mod := range map[string]func(*brokerq.Config){
		"broker":    func(c *brokerq.Config) { c.Broker = "kafka" },
		"url":       func(c *brokerq.Config) { c.URL = "" },
		"dialect":   func(c *brokerq.Config) { c.Dialect = "mysql" },
		"retention": func(c *brokerq.Config) { c.InboxRetention = -time.Hour },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := brokerq.New(nopOutbox{}, cfg); !errors.Is(err, brokerq.ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
	if _, err := brokerq.New(nil, ok); !errors.Is(err, brokerq.ErrConfig) {
		t.Errorf("nil outbox: New = %v, want ErrConfig", err)
	}
}

func TestUnreachableBrokerHidesPassword(t *testing.T) {
	for _, b := range []string{brokerq.NATS, brokerq.RabbitMQ} {
		url := map[string]string{brokerq.NATS: "nats://og:s3cret@127.0.0.1:1", brokerq.RabbitMQ: "amqp://og:s3cret@127.0.0.1:1/"}[b]
		_, err := brokerq.New(nopOutbox{}, brokerq.Config{Broker: b, URL: url, Dialect: brokerq.SQLite})
		if err == nil {
			t.Fatalf("%s: New with an unreachable broker succeeded", b)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the password: %v", b, err)
		}
	}
}

func TestTransactionalNeedsDelivery(t *testing.T) {
	var q brokerq.Queue
	h := q.Transactional(func(*message.Message) ([]*message.Message, error) {
		t.Fatal("handler called without a delivery")
		return nil, nil
	})
	if _, err := h(message.NewMessage("u1", nil)); !errors.Is(err, brokerq.ErrNoTx) {
		t.Fatalf("Transactional = %v, want ErrNoTx", err)
	}
	if _, ok := q.TxFromContext(context.Background()); ok {
		t.Fatal("TxFromContext found a transaction in an empty context")
	}
}

// TestInboxSQL runs the inbox's statements on SQLite and on a real
// PostgreSQL: idempotent schema, an insert that does nothing on conflict,
// the trim.
func TestInboxSQL(t *testing.T) {
	for _, d := range []brokerq.Dialect{brokerq.SQLite, brokerq.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			// exec runs a statement and returns the rows it affected.
			var exec func(query string, args ...any) (int64, error)
			if d == brokerq.Postgres {
				conn, err := pgx.Connect(ctx, postgres.Shared(t).NewDatabase(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = conn.Close(ctx) })
				exec = func(query string, args ...any) (int64, error) {
					tag, err := conn.Exec(ctx, query, args...)
					return tag.RowsAffected(), err
				}
			} else {
				db := openSQLite(t).db
				exec = func(query string, args ...any) (int64, error) {
					res, err := db.ExecContext(ctx, query, args...)
					if err != nil {
						return 0, err
					}
					return res.RowsAffected()
				}
			}
			schema, insert, trim := brokerq.InboxStatements(d)
			for range 2 {
				for _, s := range schema {
					if _, err := exec(s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
			}
			for i, want := range []int64{1, 0} {
				n, err := exec(insert, "g", "u1", int64(1000+i))
				if err != nil {
					t.Fatalf("insert: %v", err)
				}
				if n != want {
					t.Fatalf("insert #%d affected %d rows, want %d", i+1, n, want)
				}
			}
			if _, err := exec(insert, "other", "u1", int64(5000)); err != nil {
				t.Fatalf("insert: %v", err)
			}
			n, err := exec(trim, int64(2000))
			if err != nil {
				t.Fatalf("trim: %v", err)
			}
			if n != 1 {
				t.Fatalf("trim deleted %d rows, want 1", n)
			}
		})
	}
}
