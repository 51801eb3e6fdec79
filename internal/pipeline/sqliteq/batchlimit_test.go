package sqliteq

import (
	"strconv"
	"strings"
	"testing"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

func TestSchemaBatchLimit(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		limit func() int
		want  int
	}{
		{"default", 0, nil, 100},
		{"configured", 40, nil, 40},
		{"limit below", 40, func() int { return 10 }, 10},
		{"limit above", 40, func() int { return 60 }, 40},
		{"no limit now", 40, func() int { return 0 }, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Schema{BatchSize: tt.size, Limit: tt.limit}
			if got := s.batchSize(); got != tt.want {
				t.Errorf("batchSize = %d, want %d", got, tt.want)
			}
			q, err := s.SelectQuery(wsql.SelectQueryParams{Topic: "t", ConsumerGroup: "g", OffsetsAdapter: Offsets{}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(q.Query, "LIMIT "+strconv.Itoa(tt.want)) {
				t.Errorf("select query has no LIMIT %d: %s", tt.want, q.Query)
			}
		})
	}
}
