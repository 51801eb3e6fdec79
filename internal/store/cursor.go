package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A cursor is the position after the last row of a page: its sort time and
// id, base64url-encoded so callers treat it as opaque.
func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(nanos(at), 10) + "|" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return 0, "", fmt.Errorf("%w: malformed", ErrInvalidCursor)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return n, id, nil
}

// MaxPageSize caps the limit of every list method.
const MaxPageSize = 1000

// DefaultPageSize is the limit used when a list method gets 0.
const DefaultPageSize = 100

func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// pageQuery builds the WHERE and ORDER BY of a keyset-paginated list over
// (timeCol, id): conds and args are the filters so far.
func pageQuery(conds []string, args []any, timeCol, cursor string, ascending bool, limit int) (string, []any, error) {
	cmp, dir := "<", "DESC"
	if ascending {
		cmp, dir = ">", "ASC"
	}
	if cursor != "" {
		ts, id, err := decodeCursor(cursor)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, fmt.Sprintf("(%s, id) %s (?, ?)", timeCol, cmp))
		args = append(args, ts, id)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, limit+1)
	return fmt.Sprintf("%s ORDER BY %s %s, id %s LIMIT ?", where, timeCol, dir, dir), args, nil
}
