package pgq

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// TablePrefix starts the name of every topic's messages table.
const TablePrefix = "ordergate_q_"

// groupsTable records the one consumer group of each topic. Its name does
// not start with TablePrefix, so no topic can name it.
const groupsTable = `"ordergate_qgroups"`

// maxIdentifier is PostgreSQL's limit on identifiers (NAMEDATALEN-1):
// longer names are truncated, and two topics could share a table.
const maxIdentifier = 63

// topicPattern is watermill-sql's rule for topic names.
var topicPattern = regexp.MustCompile(`^[A-Za-z0-9\-$:._]+$`)

// validateTopic reports whether topic can name a table.
func validateTopic(topic string) error {
	if !topicPattern.MatchString(topic) {
		return fmt.Errorf("topic %q: %w", topic, wsql.ErrInvalidTopicName)
	}
	if len(TablePrefix)+len(topic) > maxIdentifier {
		return fmt.Errorf("topic %q longer than %d bytes: %w", topic, maxIdentifier-len(TablePrefix), wsql.ErrInvalidTopicName)
	}
	return nil
}

// MessagesTable returns the quoted name of the table holding topic's
// messages ("ordergate_q_doc.received"). The topic must be valid.
func MessagesTable(topic string) string {
	return `"` + TablePrefix + topic + `"`
}

// schemaAdapter is watermill-sql's PostgreSQLQueueSchema with four
// changes: the offset is BIGSERIAL, the payload is BYTEA (any bytes, not
// only JSON), the batch is selected FOR UPDATE SKIP LOCKED (v4.1.2 selects
// FOR UPDATE, which makes a second consumer wait for the first one's batch
// and then fail with a serialization error), and subscribers read in READ
// COMMITTED, where a row deleted by another consumer is skipped instead of
// failing the transaction.
type schemaAdapter struct {
	wsql.PostgreSQLQueueSchema
}

var _ wsql.SchemaAdapter = schemaAdapter{}

func newSchemaAdapter(batchSize int) schemaAdapter {
	return schemaAdapter{wsql.PostgreSQLQueueSchema{
		GeneratePayloadType:       func(string) string { return "BYTEA" },
		GenerateMessagesTableName: MessagesTable,
		SubscribeBatchSize:        batchSize,
	}}
}

// SchemaInitializingQueries creates the messages table with a BIGSERIAL
// offset: watermill-sql's SERIAL (int4) runs out after 2^31 messages over
// a topic's lifetime, a few weeks at a thousand messages a second.
func (s schemaAdapter) SchemaInitializingQueries(params wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	qs, err := s.PostgreSQLQueueSchema.SchemaInitializingQueries(params)
	if err != nil {
		return nil, err
	}
	const serial, bigserial = `"offset" SERIAL PRIMARY KEY`, `"offset" BIGSERIAL PRIMARY KEY`
	for i := range qs {
		if !strings.Contains(qs[i].Query, serial) {
			return nil, fmt.Errorf("unexpected messages table definition of watermill-sql: %s", qs[i].Query)
		}
		qs[i].Query = strings.Replace(qs[i].Query, serial, bigserial, 1)
	}
	return qs, nil
}

func (s schemaAdapter) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	q, err := s.PostgreSQLQueueSchema.SelectQuery(params)
	if err != nil {
		return wsql.Query{}, err
	}
	q.Query += " SKIP LOCKED"
	return q, nil
}

func (s schemaAdapter) SubscribeIsolationLevel() sql.IsolationLevel {
	return sql.LevelReadCommitted
}

// ackQuery deletes (or marks acked) exactly the given rows: watermill-sql's
// PostgreSQLQueueOffsetsAdapter with the rows the handlers acked.
func ackQuery(topic string, deleteOnAck bool, rows []wsql.Row) (wsql.Query, error) {
	a := wsql.PostgreSQLQueueOffsetsAdapter{DeleteOnAck: deleteOnAck, GenerateMessagesTableName: MessagesTable}
	return a.AckMessageQuery(wsql.AckMessageQueryParams{Topic: topic, Rows: rows, LastRow: rows[len(rows)-1]})
}
