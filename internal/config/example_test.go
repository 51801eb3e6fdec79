package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// The example's demo partners must accept the corpus files a newcomer drops
// into the inbox.
func TestExamplePartnersMatchCorpus(t *testing.T) {
	const corpus = "../../../shared/corpus"
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	c, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{
		"node-x12/x12/850.edi",
		"edi-net/x12/x12.850.edi",
		"bots-plugins/x12/850/850-004010-03.x12",
		"bots-plugins/x12/850/850-004010-05.x12",
		"bots-plugins/edifact/orders/orders04.edi",
		"bots-plugins/edifact/orders/order03_no_newlines.edi",
		"pydifact/edifact/order.edi",
		"pydifact/edifact/order2.edi",
		"pydifact/edifact/wikipedia_de.edi",
		"php-edifact/edifact/example_order_ok.edi",
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(corpus, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		std, qual, id := senderOf(data)
		if id == "" {
			t.Errorf("%s: found no sender", f)
			continue
		}
		var matched []string
		for _, p := range c.Partners {
			ids := p.Match.X12
			if std == "EDIFACT" {
				ids = p.Match.EDIFACT
			}
			for _, m := range ids {
				if m.ID == id && (m.Qualifier == "" || m.Qualifier == qual) {
					matched = append(matched, p.ID)
				}
			}
		}
		if len(matched) != 1 {
			t.Errorf("%s: sender %s %s:%s matches partners %v, want exactly one", f, std, qual, id, matched)
		}
	}
}

// senderOf returns the interchange sender of an X12 or EDIFACT file.
func senderOf(data []byte) (std, qualifier, id string) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if bytes.HasPrefix(data, []byte("ISA")) && len(data) > 4 {
		f := strings.Split(string(data[:min(len(data), 106)]), string(data[3]))
		if len(f) > 6 {
			return "X12", strings.TrimSpace(f[5]), strings.TrimSpace(f[6])
		}
		return "X12", "", ""
	}
	comp, elem := byte(':'), byte('+')
	if bytes.HasPrefix(data, []byte("UNA")) && len(data) >= 9 {
		comp, elem = data[3], data[4]
	}
	i := bytes.Index(data, []byte{'U', 'N', 'B', elem})
	if i < 0 {
		return "EDIFACT", "", ""
	}
	f := strings.Split(string(data[i:min(len(data), i+200)]), string(elem))
	if len(f) < 3 {
		return "EDIFACT", "", ""
	}
	parts := strings.Split(f[2], string(comp))
	if len(parts) > 1 {
		qualifier = parts[1]
	}
	return "EDIFACT", qualifier, parts[0]
}
