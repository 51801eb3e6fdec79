package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// QuarantineInput is a pipeline message that failed permanently.
type QuarantineInput struct {
	Topic       string
	MessageUUID string
	Payload     []byte
	Metadata    map[string]string
	Error       string
}

// QuarantineEntry is a quarantined message.
type QuarantineEntry struct {
	ID          string
	Topic       string
	MessageUUID string
	Payload     []byte
	Metadata    map[string]string
	Error       string
	At          time.Time
}

// InsertQuarantine records a poison message. It is idempotent on (Topic,
// MessageUUID): the second insert returns the stored entry and
// created=false.
func (t *Tx) InsertQuarantine(ctx context.Context, in QuarantineInput) (e QuarantineEntry, created bool, err error) {
	if in.Topic == "" || in.MessageUUID == "" {
		return QuarantineEntry{}, false, fmt.Errorf("quarantining message: %w: topic and message uuid are required", ErrInvalid)
	}
	meta, err := marshalMap(in.Metadata)
	if err != nil {
		return QuarantineEntry{}, false, fmt.Errorf("quarantining message %s: metadata: %w", in.MessageUUID, err)
	}
	payload := in.Payload
	if payload == nil {
		payload = []byte{}
	}
	now := t.s.clock()
	res, err := t.tx.ExecContext(ctx, `INSERT INTO quarantine (id, topic, message_uuid, payload, metadata, error, at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (topic, message_uuid) DO NOTHING`,
		t.s.newID("qua", now), in.Topic, in.MessageUUID, payload, meta, in.Error, nanos(now))
	if err != nil {
		return QuarantineEntry{}, false, fmt.Errorf("quarantining message %s: %w", in.MessageUUID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return QuarantineEntry{}, false, fmt.Errorf("quarantining message %s: %w", in.MessageUUID, err)
	}
	es, err := queryQuarantine(ctx, t.tx, `topic = ? AND message_uuid = ?`, in.Topic, in.MessageUUID)
	if err != nil {
		return QuarantineEntry{}, false, fmt.Errorf("quarantining message: %w", err)
	}
	if len(es) != 1 {
		return QuarantineEntry{}, false, fmt.Errorf("quarantining message %s: read back %d entries", in.MessageUUID, len(es))
	}
	return es[0], n == 1, nil
}

func queryQuarantine(ctx context.Context, q querier, where string, args ...any) ([]QuarantineEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, topic, message_uuid, payload, metadata, error, at FROM quarantine WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading quarantine: %w", err)
	}
	defer rows.Close()
	var out []QuarantineEntry
	for rows.Next() {
		var e QuarantineEntry
		var meta sql.NullString
		var at int64
		if err := rows.Scan(&e.ID, &e.Topic, &e.MessageUUID, &e.Payload, &meta, &e.Error, &at); err != nil {
			return nil, fmt.Errorf("reading quarantine: %w", err)
		}
		if meta.Valid {
			if err := json.Unmarshal([]byte(meta.String), &e.Metadata); err != nil {
				return nil, fmt.Errorf("reading quarantine entry %s: metadata: %w", e.ID, err)
			}
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading quarantine: %w", err)
	}
	return out, nil
}

// ListQuarantine returns up to limit quarantined messages, the latest
// first, of one topic ("" for all).
func (s *Store) ListQuarantine(ctx context.Context, topic string, limit int) ([]QuarantineEntry, error) {
	var out []QuarantineEntry
	err := s.read(ctx, func(q querier) (err error) {
		if topic == "" {
			out, err = queryQuarantine(ctx, q, `1 = 1 ORDER BY at DESC, id DESC LIMIT ?`, pageSize(limit))
		} else {
			out, err = queryQuarantine(ctx, q, `topic = ? ORDER BY at DESC, id DESC LIMIT ?`, topic, pageSize(limit))
		}
		return err
	})
	return out, err
}
