package sqliteq_test

import (
	"flag"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
)

// fullConformance runs the suite with its full message counts (5,000 to
// 10,000 messages per test instead of 50 to 100). CI runs the short form.
var fullConformance = flag.Bool("sqliteq.full", false, "run watermill's conformance suite with its full message counts")

// conformanceDBs gives every conformance test its own database file and
// Writer, keyed by the test's *testing.T: the suite calls the constructor several
// times per test (persistence across instances), and parallel tests must not
// queue on one another's write lock.
var conformanceDBs sync.Map

func conformanceWriter(t *testing.T) *sqliteq.Writer {
	if w, ok := conformanceDBs.Load(t); ok {
		return w.(*sqliteq.Writer)
	}
	w, _ := openDB(t)
	actual, loaded := conformanceDBs.LoadOrStore(t, w)
	if !loaded {
		t.Cleanup(func() { conformanceDBs.Delete(t) })
	}
	return actual.(*sqliteq.Writer)
}

func conformancePubSub(t *testing.T, group string) (message.Publisher, message.Subscriber) {
	w := conformanceWriter(t)
	pub, err := sqliteq.NewPublisher(w, watermill.NopLogger{})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	var logger watermill.LoggerAdapter = watermill.NopLogger{}
	if testing.Verbose() {
		logger = watermill.NewStdLogger(false, false)
	}
	sub, err := sqliteq.NewSubscriber(w, sqliteq.Config{
		ConsumerGroup:    group,
		InitializeSchema: true,
		// The suite's consumers take messages they never ack (the
		// multiplier's forwarders once the reader has enough): waiting for
		// them on Close would hold the lock for the grace every time.
		HandlerGrace: -1,
	}, logger)
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	return pub, sub
}

// TestConformance runs watermill's pubsub/tests suite test by test (rather
// than tests.TestPubSub) so that the two tests that cannot pass on a single
// writer are skipped by name, with their reason.
func TestConformance(t *testing.T) {
	features := tests.Features{
		ConsumerGroups:      true,
		ExactlyOnceDelivery: true, // offset and effects commit in one transaction, one writer at a time
		GuaranteedOrder:     true,
		Persistent:          true,
		ForceShort:          !*fullConformance,
	}
	// The suite skips these two for exactly-once Pub/Subs ("not supported
	// yet"); they check that closing subscribers loses no message, which we
	// promise, so they run with duplicates tolerated.
	atLeastOnce := features
	atLeastOnce.ExactlyOnceDelivery = false

	single := func(t *testing.T) (message.Publisher, message.Subscriber) { return conformancePubSub(t, "test") }

	cases := []struct {
		name     string
		fn       func(*testing.T, tests.TestContext, tests.PubSubConstructor)
		features tests.Features
		skip     string
	}{
		{name: "TestPublishSubscribe", fn: tests.TestPublishSubscribe, features: features},
		{name: "TestConcurrentSubscribe", fn: tests.TestConcurrentSubscribe, features: features},
		{name: "TestConcurrentSubscribeMultipleTopics", fn: tests.TestConcurrentSubscribeMultipleTopics, features: features},
		{name: "TestResendOnError", fn: tests.TestResendOnError, features: features},
		{name: "TestNoAck", fn: tests.TestNoAck, features: features},
		{name: "TestContinueAfterSubscribeClose", fn: tests.TestContinueAfterSubscribeClose, features: atLeastOnce},
		{name: "TestConcurrentClose", fn: tests.TestConcurrentClose, features: atLeastOnce},
		{name: "TestContinueAfterErrors", fn: tests.TestContinueAfterErrors, features: features},
		{name: "TestPublishSubscribeInOrder", fn: tests.TestPublishSubscribeInOrder, features: features},
		{name: "TestPublisherClose", fn: tests.TestPublisherClose, features: features},
		{name: "TestTopic", fn: tests.TestTopic, features: features,
			// It publishes to topic 2 while the message of topic 1 waits
			// unread in its channel. watermill-sql's subscriber holds the
			// batch's transaction, and with it the single write lock, until
			// that message is acked, so the publish waits for a read that
			// only comes after it: a deadlock by design.
			skip: "single writer: an unread message of topic 1 holds the write lock the publish to topic 2 needs"},
		{name: "TestMessageCtx", fn: tests.TestMessageCtx, features: features,
			// It subscribes first and then publishes two messages before
			// reading. When the subscriber fetches message 1 between the two
			// publishes, message 1 waits unread holding the write lock and
			// the second publish waits for it: the same deadlock as TestTopic,
			// depending on timing. It also never acks message 2 and closes.
			skip: "single writer: publishing while a fetched message waits unread deadlocks (timing-dependent)"},
		{name: "TestSubscribeCtx", fn: tests.TestSubscribeCtx, features: features},
		// Skipped by the suite itself: a new subscriber of a group gets only
		// what the group has not acked (offsets per group, not a log replay).
		{name: "TestNewSubscriberReceivesOldMessages", fn: tests.TestNewSubscriberReceivesOldMessages, features: features},
		// Skipped by the suite itself: there is no broker to restart.
		{name: "TestReconnect", fn: tests.TestReconnect, features: features},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			t.Parallel()
			c.fn(t, tests.TestContext{TestID: tests.NewTestID(), Features: c.features}, single)
		})
	}
	t.Run("TestConsumerGroups", func(t *testing.T) {
		t.Parallel()
		tests.TestConsumerGroups(t, tests.TestContext{TestID: tests.NewTestID(), Features: features}, conformancePubSub)
	})
}
