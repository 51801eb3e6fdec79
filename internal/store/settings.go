package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// checkWriter reads back the settings of one write-pool connection.
func (s *Store) checkWriter(ctx context.Context, busyMS int64) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("checking settings: %w", err)
	}
	defer conn.Close()
	return checkSettings(ctx, conn, busyMS)
}

// checkSettings reads back journal_mode, synchronous, foreign_keys and
// busy_timeout on q (one connection) and reports every unsafe value at
// once, wrapped in ErrUnsafeSettings.
func checkSettings(ctx context.Context, q rawQuerier, wantBusyMS int64) error {
	var journal string
	var synchronous, foreignKeys, busy int64
	for _, p := range []struct {
		pragma string
		dst    any
	}{
		{"journal_mode", &journal},
		{"synchronous", &synchronous},
		{"foreign_keys", &foreignKeys},
		{"busy_timeout", &busy},
	} {
		if err := q.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dst); err != nil {
			return fmt.Errorf("checking settings: reading %s: %w", p.pragma, err)
		}
	}
	var problems []error
	if !strings.EqualFold(journal, "wal") {
		problems = append(problems, fmt.Errorf("journal_mode is %s, want wal", journal))
	}
	// 2 is FULL, 3 is EXTRA; NORMAL (1) can lose the last commits on power loss.
	if synchronous < 2 {
		problems = append(problems, fmt.Errorf("synchronous is %d, want 2 (FULL) or 3 (EXTRA)", synchronous))
	}
	if foreignKeys != 1 {
		problems = append(problems, fmt.Errorf("foreign_keys is %d, want 1", foreignKeys))
	}
	if busy <= 0 || busy != wantBusyMS {
		problems = append(problems, fmt.Errorf("busy_timeout is %dms, want %dms", busy, wantBusyMS))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %w", ErrUnsafeSettings, errors.Join(problems...))
	}
	return nil
}
