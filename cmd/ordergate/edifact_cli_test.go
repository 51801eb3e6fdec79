package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/normalize/order"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/edifact/name (rewritten with
// -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "edifact", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// fixAckTime replaces the date and time of every UNB with 000000:0000,
// whatever the separators.
func fixAckTime(ack string) string {
	lines := strings.Split(ack, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "UNB") || len(l) < 4 {
			continue
		}
		elem := l[3:4]
		parts := strings.Split(l, elem)
		if len(parts) > 4 {
			// parts[4] is S004 date<comp>time: keep the component separator.
			d := parts[4]
			for j := 0; j < len(d); j++ {
				if d[j] < '0' || d[j] > '9' {
					parts[4] = "000000" + d[j:j+1] + "0000"
					break
				}
			}
		}
		lines[i] = strings.Join(parts, elem)
	}
	return strings.Join(lines, "\n")
}

// ordersOf decodes the JSON lines of parse with the file name dropped
// (it depends on where the corpus is).
func ordersOf(t *testing.T, stdout string) ([]order.Order, string) {
	t.Helper()
	var orders []order.Order
	var norm strings.Builder
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o order.Order
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d is not an order: %v", len(orders)+1, err)
		}
		orders = append(orders, o)
		o.Source.File = filepath.Base(o.Source.File)
		b, err := json.Marshal(&o)
		if err != nil {
			t.Fatal(err)
		}
		norm.Write(b)
		norm.WriteByte('\n')
	}
	return orders, norm.String()
}

// TestParseEDIFACTBinary runs `ordergate parse` on EDIFACT corpus files.
func TestParseEDIFACTBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	tests := []struct {
		file   string
		code   int
		orders int
		test   bool
		golden string
	}{
		{"bots-plugins/edifact/orders/orders96.edi", 0, 2, true, "orders96.parse.jsonl"},
		{"bots-plugins/edifact/orders/orders01_two_interchanges.edi", 0, 3, false, "orders01_two_interchanges.parse.jsonl"},
		{"php-edifact/edifact/example_order_error.edi", 1, 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, "", "parse", corpus(t, tt.file))
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			orders, norm := ordersOf(t, stdout)
			if len(orders) != tt.orders {
				t.Errorf("%d orders printed, want %d", len(orders), tt.orders)
			}
			for i, o := range orders {
				if o.Source.Standard != "EDIFACT" || o.PONumber == "" || len(o.Lines) == 0 || o.Source.Test != tt.test {
					t.Errorf("order %d: standard %q, po %q, %d lines, test %v; want EDIFACT, a PO number, lines, test %v",
						i+1, o.Source.Standard, o.PONumber, len(o.Lines), o.Source.Test, tt.test)
				}
			}
			if tt.code != 0 && stderr == "" {
				t.Errorf("rejected without a message")
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if line != "" && !errorLine.MatchString(line) {
					t.Errorf("stderr line not positioned: %q", line)
				}
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, norm)
			}
		})
	}
}

// TestAckEDIFACTBinary runs `ordergate ack` on EDIFACT files.
func TestAckEDIFACTBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string // in the output
		stderr string   // in stderr
		golden string
	}{
		{name: "partner UNA", args: []string{corpus(t, "staedi/edifact/invoic_d97b_una.edi")}, code: 0,
			want:   []string{"UNA=*.? ~\n", "UNH*1*CONTRL=D=3=UN~", "UCI*00000000000778*005435656=1*006415160=1*7~", "UCM*00000000000117*INVOIC=D=97B=UN*7~"},
			golden: "invoic_d97b_una.contrl"},
		{name: "UNOA lowercase", args: []string{filepath.Join("testdata", "edifact", "unoa_lowercase.edi")}, code: 0,
			want:   []string{"UCI+LC0001+PARTNER1:14+PARTNER2:14+7'", "UCM+1+ORDERS:D:96A:UN:EAN008+4'", "UCS+4'", "UCD+21+4:1'"},
			golden: "unoa_lowercase.contrl"},
		{name: "not asked, --contrl=false", args: []string{"--contrl=false", corpus(t, "bots-plugins/edifact/orders/orders04.edi")}, code: 1,
			stderr: "no interchange asks for a CONTRL (UNB 0031 = 1)"},
		{name: "not asked, default", args: []string{corpus(t, "bots-plugins/edifact/orders/orders04.edi")}, code: 0,
			want: []string{"UCI+T0000000001+PARTNER1:14+PARTNER2:14+7'", "UCM+T0000000001+ORDERS:D:96A:UN:EAN008+7'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, "", append([]string{"ack"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("ack lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, fixAckTime(stdout))
			}
		})
	}
}

// partnerUNAConfig is a partner whose acks and responses use the service
// string advice "^|,? !" (component ^, element |, decimal comma,
// terminator !).
const partnerUNAConfig = `partners:
  - id: staedi
    customer_id: C-9
    match:
      edifact: [{qualifier: "1", id: "005435656"}, {qualifier: "14", id: PARTNER1}]
    acks: {contrl: always}
    edifact: {una: "^|,? !"}
`

// TestAckEDIFACTPartnerUNA: the CONTRL of `ack --config` is written with
// the UNA configured for the partner, not the inbound one.
func TestAckEDIFACTPartnerUNA(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(partnerUNAConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBinary(t, "", "ack", "--config", cfg, corpus(t, "staedi/edifact/invoic_d97b_una.edi"))
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	for _, w := range []string{"UNA^|,? !\n", "UNH|1|CONTRL^D^3^UN!", "UCI|00000000000778|005435656^1|006415160^1|7!"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("ack lacks %q:\n%s", w, stdout)
		}
	}
	checkGolden(t, "invoic_d97b_una.partner.contrl", fixAckTime(stdout))
}

// TestOrderResponsePartnerUNA: the ORDRSP for an order of a configured
// partner is written with the partner's UNA from the config.
func TestOrderResponsePartnerUNA(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(partnerUNAConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "parse", corpus(t, "bots-plugins/edifact/orders/orders04.edi"))
	if code != 0 {
		t.Fatalf("parse: exit %d: %s", code, stderr)
	}
	orders, _ := ordersOf(t, stdout)
	if len(orders) != 1 {
		t.Fatalf("%d orders, want 1", len(orders))
	}
	p, ok := pipeline.Resolver(cfg, "", "")(edi.EDIFACT, edi.Envelope{SenderID: orders[0].Source.SenderID, SenderQualifier: orders[0].Source.SenderQualifier})
	if !ok {
		t.Fatalf("the partner of %s:%s is not found", orders[0].Source.SenderID, orders[0].Source.SenderQualifier)
	}
	body, err := ediproc.OrderResponse(context.Background(), "ordrsp", &orders[0], &order.Response{Status: order.ResponseAccepted},
		ediproc.ResponseOptions{Partner: p, Now: time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC),
			ControlNumber: func(string, string) (int64, error) { return 42, nil }})
	if err != nil {
		t.Fatal(err)
	}
	got := string(body)
	for _, w := range []string{"UNA^|,? !", "UNH|1|ORDRSP^D^96A^UN", "BGM|231|", "|29!"} {
		if !strings.Contains(got, w) {
			t.Errorf("ORDRSP lacks %q:\n%s", w, got)
		}
	}
	checkGolden(t, "orders04.partner.ordrsp", got)
}

// TestAckContrlFlagAndConfig: --contrl given explicitly wins over the
// partner's acks.contrl; not given, the config decides.
func TestAckContrlFlagAndConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	file := corpus(t, "bots-plugins/edifact/orders/orders04.edi") // UNB without 0031
	tests := []struct {
		contrl string // the partner's acks.contrl
		flags  []string
		code   int
	}{
		{"requested", nil, 1},
		{"requested", []string{"--contrl=true"}, 0},
		{"requested", []string{"--contrl"}, 0},
		{"always", nil, 0},
		{"always", []string{"--contrl=false"}, 1},
		{"never", nil, 1},
		{"never", []string{"--contrl=true"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.contrl+" "+strings.Join(tt.flags, " "), func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			conf := "partners:\n  - id: p1\n    customer_id: C-1\n    match: {edifact: [{qualifier: \"14\", id: PARTNER1}]}\n    acks: {contrl: " + tt.contrl + "}\n"
			if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"ack", "--config", cfg}, tt.flags...), file)
			code, stdout, stderr := runBinary(t, "", args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.code == 0 && !strings.Contains(stdout, "UCI+T0000000001+PARTNER1:14+PARTNER2:14+7'") {
				t.Errorf("no CONTRL written:\n%s", stdout)
			}
			if tt.code == 1 && (stdout != "" || !strings.Contains(stderr, "no interchange asks for a CONTRL")) {
				t.Errorf("stdout %q, stderr %q; want nothing and the reason", stdout, stderr)
			}
		})
	}
}

// libraryErrors decodes the EDIFACT file with package edifact and returns
// every error it reports, as `parse` prints them after "FILE: ".
func libraryErrors(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := edifact.NewDecoder(f)
	errs := map[string]bool{}
	for {
		m, err := d.Next()
		if err == io.EOF {
			break
		}
		if se, ok := err.(*edifact.SyntaxError); ok {
			errs[se.Error()] = true
		} else if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			for _, e := range m.Errors {
				errs[e.Error()] = true
			}
		}
	}
	for _, e := range d.Report().Errors {
		errs[e.Error()] = true
	}
	return errs
}

// junkErrorLine is errorLine where the "tag" may be the junk itself, as
// the library shows it ("############...").
var junkErrorLine = regexp.MustCompile(`^[^:]+: segment \d+ \([^)]*\)( element \d+( component \d+)?)?: .+`)

// TestJunkBeforeHeaderBinary: files with junk before the interchange
// header, or a bare message without one, are read as EDI (X12) by the
// binary, which reports what the library reports, positioned, and says
// why no acknowledgement can be written.
func TestJunkBeforeHeaderBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	junkX12 := filepath.Join(t.TempDir(), "junk_before_isa.x12")
	x12, err := os.ReadFile(corpus(t, "node-x12/x12/850.edi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junkX12, append([]byte("#### banner from the VAN ####\r\n"), x12...), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		library    bool     // compare parse's errors with package edifact's
		want       []string // in parse's stderr
		header     string   // named by ack
	}{
		{"junk before UNB", corpus(t, "bots-plugins/edifact/orders/preprocessing_junk_header.edi"), true,
			[]string{"segment 1 (###", "is not a segment tag", "message outside an interchange (no UNB)", "UNZ without UNB"}, "UNB"},
		{"bare message", filepath.Join("testdata", "edifact", "bare_message.edi"), true,
			[]string{"segment 1 (UNH): message outside an interchange (no UNB)"}, "UNB"},
		{"junk before ISA", junkX12, false, []string{"segment 1 (): the input does not start with an ISA segment"}, "ISA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, "", "parse", tt.file)
			if code != 1 || stdout != "" {
				t.Errorf("parse: exit %d, stdout %q; want 1 and no orders", code, stdout)
			}
			if strings.Contains(stderr, "not an X12 or EDIFACT") {
				t.Errorf("parse does not read the file as EDI: %s", stderr)
			}
			got := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !junkErrorLine.MatchString(line) {
					t.Errorf("stderr line not positioned: %q", line)
				}
				got[strings.TrimPrefix(line, tt.file+": ")] = true
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("parse's stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.library {
				if lib := libraryErrors(t, tt.file); !maps.Equal(got, lib) {
					t.Errorf("parse reports\n%v\nthe library\n%v", got, lib)
				}
			}
			code, stdout, stderr = runBinary(t, "", "ack", tt.file)
			want := "no readable interchange header (" + tt.header + "), so there is no sender to answer"
			if code != 1 || stdout != "" || !strings.Contains(stderr, want) {
				t.Errorf("ack: exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, want)
			}
		})
	}
}
