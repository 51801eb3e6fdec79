package sqliteq

import (
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// offsetMetadataKey carries a row's offset from UnmarshalMessage to the
// subscriber's relay, which removes it before a handler sees the message.
const offsetMetadataKey = "_sqliteq_offset"

// insertChunk is the number of rows per INSERT statement: four bound
// parameters a row stay far below SQLite's limit of 32766 parameters.
const insertChunk = 500

// topicPattern is watermill-sql's rule for topic names, checked here too so
// that Trim, Depth and InitializeSchema reject what Publish and Subscribe
// reject.
var topicPattern = regexp.MustCompile(`^[A-Za-z0-9\-$:._]+$`)

// validateTopic reports whether topic can name a table.
func validateTopic(topic string) error {
	if !topicPattern.MatchString(topic) {
		return fmt.Errorf("topic %q: %w", topic, wsql.ErrInvalidTopicName)
	}
	return nil
}

// tableSuffix maps a topic to a table name suffix. SQLite compares
// identifiers without regard to ASCII case, so each upper-case letter is
// written as '~' and its lower-case form: "Orders" and "orders" get
// different tables. '~' is not allowed in topics, so the mapping is
// one-to-one.
func tableSuffix(topic string) string {
	var b strings.Builder
	for _, r := range topic {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('~')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// MessagesTable returns the quoted name of the table that holds topic's
// messages. The topic must be valid.
func MessagesTable(topic string) string {
	return `"` + messagesName(topic) + `"`
}

func messagesName(topic string) string { return "wm_messages_" + tableSuffix(topic) }

// OffsetsTable returns the quoted name of the table that holds the acked
// offset of each consumer group of topic. The topic must be valid.
func OffsetsTable(topic string) string {
	return `"` + offsetsName(topic) + `"`
}

func offsetsName(topic string) string { return "wm_offsets_" + tableSuffix(topic) }

// Schema is the watermill-sql schema adapter for SQLite: one table per
// topic, offsets from INTEGER PRIMARY KEY AUTOINCREMENT, so an offset is
// never handed out twice, even after Trim deleted the newest rows.
type Schema struct {
	// BatchSize is the number of messages a subscriber reads in one
	// transaction. Zero means 100.
	BatchSize int
	// Limit, when set, is asked before each batch: a positive result
	// smaller than BatchSize is that batch's size.
	Limit func() int
}

var _ wsql.SchemaAdapter = Schema{}

func (s Schema) batchSize() int {
	n := s.BatchSize
	if n <= 0 {
		n = 100
	}
	if s.Limit != nil {
		if l := s.Limit(); l > 0 && l < n {
			n = l
		}
	}
	return n
}

// SchemaInitializingQueries creates the messages table of a topic.
func (s Schema) SchemaInitializingQueries(params wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	if err := validateTopic(params.Topic); err != nil {
		return nil, err
	}
	return []wsql.Query{{Query: `CREATE TABLE IF NOT EXISTS ` + MessagesTable(params.Topic) + ` (
	"offset" INTEGER PRIMARY KEY AUTOINCREMENT,
	uuid TEXT NOT NULL,
	payload BLOB,
	metadata BLOB,
	created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
)`}}, nil
}

// InsertQuery inserts msgs in order, in statements of at most 500 rows
// (mattn/go-sqlite3 runs them all in one Exec).
func (s Schema) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	if err := validateTopic(params.Topic); err != nil {
		return wsql.Query{}, err
	}
	if len(params.Msgs) == 0 {
		return wsql.Query{}, errors.New("no messages to insert")
	}
	var q strings.Builder
	args := make([]any, 0, 3*len(params.Msgs))
	for start := 0; start < len(params.Msgs); start += insertChunk {
		end := min(start+insertChunk, len(params.Msgs))
		q.WriteString(`INSERT INTO ` + MessagesTable(params.Topic) + ` (uuid, payload, metadata) VALUES `)
		for i, msg := range params.Msgs[start:end] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`(?,?,?)`)
			md, err := json.Marshal(msg.Metadata)
			if err != nil {
				return wsql.Query{}, fmt.Errorf("marshalling metadata of message %s: %w", msg.UUID, err)
			}
			args = append(args, msg.UUID, []byte(msg.Payload), md)
		}
		q.WriteString(`;`)
	}
	return wsql.Query{Query: q.String(), Args: args}, nil
}

// SelectQuery returns the next batch after the group's acked offset.
func (s Schema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	if err := validateTopic(params.Topic); err != nil {
		return wsql.Query{}, err
	}
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic:         params.Topic,
		ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, err
	}
	return wsql.Query{
		Query: fmt.Sprintf(`SELECT "offset", uuid, payload, metadata FROM %s WHERE "offset" > (%s) ORDER BY "offset" LIMIT %d`,
			MessagesTable(params.Topic), next.Query, s.batchSize()),
		Args: next.Args,
	}, nil
}

// UnmarshalMessage reads one row of SelectQuery.
func (s Schema) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	if err := params.Row.Scan(&r.Offset, &r.UUID, &r.Payload, &r.Metadata); err != nil {
		return wsql.Row{}, fmt.Errorf("scanning message row: %w", err)
	}
	msg := message.NewMessage(string(r.UUID), r.Payload)
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &msg.Metadata); err != nil {
			return wsql.Row{}, fmt.Errorf("unmarshalling metadata of message at offset %d: %w", r.Offset, err)
		}
	}
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	msg.Metadata.Set(offsetMetadataKey, fmt.Sprint(r.Offset))
	r.Msg = msg
	return r, nil
}

// SubscribeIsolationLevel is the default: mattn/go-sqlite3 ignores isolation
// levels; the writer's _txlock=immediate makes every transaction a writer.
func (s Schema) SubscribeIsolationLevel() stdsql.IsolationLevel {
	return stdsql.LevelDefault
}

// Offsets is the watermill-sql offsets adapter for SQLite: one row per
// consumer group holding the highest acked offset. It needs no FOR UPDATE:
// the subscriber's transaction (BEGIN IMMEDIATE, under the Writer's lock)
// already excludes every other writer.
type Offsets struct{}

var _ wsql.OffsetsAdapter = Offsets{}

// SchemaInitializingQueries creates the offsets table of a topic.
func (Offsets) SchemaInitializingQueries(params wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	if err := validateTopic(params.Topic); err != nil {
		return nil, err
	}
	return []wsql.Query{{Query: `CREATE TABLE IF NOT EXISTS ` + OffsetsTable(params.Topic) + ` (
	consumer_group TEXT NOT NULL PRIMARY KEY,
	offset_acked INTEGER NOT NULL DEFAULT 0
)`}}, nil
}

// AckMessageQuery moves the group's offset to the last acked row.
func (Offsets) AckMessageQuery(params wsql.AckMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `INSERT INTO ` + OffsetsTable(params.Topic) + ` (consumer_group, offset_acked) VALUES (?, ?)
ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked`,
		Args: []any{params.ConsumerGroup, params.LastRow.Offset},
	}, nil
}

// ConsumedMessageQuery is empty: the offsets style needs no mark before an
// ack.
func (Offsets) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

// NextOffsetQuery returns the group's acked offset, 0 before its first ack.
func (Offsets) NextOffsetQuery(params wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `SELECT COALESCE((SELECT offset_acked FROM ` + OffsetsTable(params.Topic) + ` WHERE consumer_group = ?), 0)`,
		Args:  []any{params.ConsumerGroup},
	}, nil
}

// BeforeSubscribingQueries is empty: Subscriber.Subscribe registers the
// consumer group itself (registerGroup), taking the write lock only when
// the group is new, so that subscribing never waits for a batch in flight.
func (Offsets) BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}
