package config

import (
	"testing"
	"time"
)

const examplePath = "../../config.example.yaml"

func TestExampleValidates(t *testing.T) {
	if ps := Check(examplePath); len(ps) != 0 {
		for _, p := range ps {
			t.Errorf("problem: %s", p)
		}
		t.Fatalf("got %d problems, want none", len(ps))
	}
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"store.driver", c.Store.Driver, DriverSQLite},
		{"store.dsn", c.Store.DSN, "./data/ordergate.db"},
		{"http.listen", c.HTTP.Listen, "127.0.0.1:8080"},
		{"http.max_body_bytes", c.HTTP.MaxBodyBytes, ByteSize(10 << 20)},
		{"pipeline.duplicate_window", c.Pipeline.DuplicateWindow, 720 * time.Hour},
		{"channels[0].name", c.Channels[0].Name, "inbox"},
		{"channels[0].type", c.Channels[0].Type, ChannelDir},
		{"channels[0].enabled", c.Channels[0].Enabled, true},
		{"channels[0].path", c.Channels[0].Path, "./data/inbox"},
		{"channels[0].done_dir", c.Channels[0].DoneDir, "./data/inbox/done"},
		{"channels[0].outbox", c.Channels[0].Outbox, "./data/outbox"},
		{"channels[0].min_age", c.Channels[0].MinAge, 100 * time.Millisecond},
		{"rules.price_tolerance", c.Rules.PriceTolerance.String(), "0.5%"},
		{"routes[0].to", len(c.Routes[0].To), 1},
		{"routes[0].to[0]", c.Routes[0].To[0], "outbound"},
		{"partners[2].match.x12 (single mapping)", len(c.Partners[2].Match.X12), 1},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
