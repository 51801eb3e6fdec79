package brokerq

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// BrokerPublisher is q's confirmed broker publisher, for publishing
// straight to a topic's queue or stream (duplicates) in tests.
func BrokerPublisher(q *Queue) message.Publisher { return q.broker.publisher() }

// SetRetainInterval sets how often Retain trims the inbox and returns a
// function restoring it.
func SetRetainInterval(d time.Duration) (restore func()) {
	old := retainInterval
	retainInterval = d
	return func() { retainInterval = old }
}

// NATSName is natsName.
var NATSName = natsName

// InboxStatements are the dialect's inbox schema, insert and trim
// statements.
func InboxStatements(d Dialect) (schema []string, insert, trim string) {
	s := newInboxSQL(d)
	return s.schema, s.insert, s.trim
}
