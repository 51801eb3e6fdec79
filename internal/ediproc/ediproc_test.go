package ediproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	x12edi "github.com/ordergate/ordergate/edi/x12"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/fixtures"
)

// fixedNow is the clock of every test, so acks are reproducible.
func fixedNow() time.Time { return time.Date(2026, 11, 27, 12, 9, 0, 0, time.UTC) }

// replace is strings.Replace that fails the test when old is not in s, so
// a corruption that silently misses cannot pass as a valid input.
func replace(t *testing.T, s []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(s, []byte(old)) {
		t.Fatalf("corrupting input: %q not found", old)
	}
	return []byte(strings.Replace(string(s), old, new, 1))
}

// partnerFor resolves the fixtures' senders (X12 ZZ/BAUMARKTNORD, EDIFACT
// 14/4012345000009) to p and every other sender to unknown.
func partnerFor(p Partner) Resolver {
	return func(std edi.Standard, env edi.Envelope) (Partner, bool) {
		switch {
		case std == edi.X12 && env.SenderQualifier == fixtures.X12SenderQualifier && env.SenderID == fixtures.X12Sender,
			std == edi.EDIFACT && env.SenderQualifier == fixtures.EDIFACTSenderQualifier && env.SenderID == fixtures.EDIFACTSender:
			return p, true
		}
		return Partner{}, false
	}
}

func unknownSender(edi.Standard, edi.Envelope) (Partner, bool) { return Partner{}, false }

func seenBefore(edi.Standard, edi.Envelope, Partner) (bool, error) { return true, nil }

// msgWant is what a test expects of one emitted message.
type msgWant struct {
	index, interchange int
	typ                string
	accepted, order    bool
	duplicate          bool
}

// icWant is what a test expects of one interchange of the Summary.
type icWant struct {
	known, duplicate bool
	// rejected is checked unless nil.
	rejected *bool
	// errIs, when set, must match one of the interchange's errors.
	errIs error
}

// ackWant is one expected ack: its kind and substrings of its body.
type ackWant struct {
	kind    string
	partner string
	has     []string
	hasNot  []string
}

var (
	yes = new(bool)
	no  = new(bool)
)

func init() { *yes = true }

type processCase struct {
	name     string
	in       []byte
	opts     Options
	msgs     []msgWant
	messages int
	accepted int
	orders   int
	rejected bool
	ics      []icWant
	acks     []ackWant
	docErr   error // an error Summary.Errors must hold; none when nil
}

func TestProcess(t *testing.T) {
	x12 := fixtures.X12850(4711, "PO-4711", 2)
	ef := fixtures.EDIFACTOrders(815, "PO-815", 2)
	nord := Partner{ID: "nord", CustomerID: "C-1000"}
	with := func(mod func(*Partner)) Partner { p := nord; mod(&p); return p }
	// A second interchange from a sender nobody knows (same width in ISA06).
	stranger := []byte(strings.ReplaceAll(string(fixtures.X12850(4712, "PO-4712", 1)), fixtures.X12Sender, "OTHERSENDER1"))
	// UNB 0031 = 1: the sender asks for a CONTRL.
	efAckRequested := replace(t, ef, "+815'", "+815++++1'")

	const (
		ucAccepted = "UCI+815+4012345000009:14+4000000000002:14+7'"
		ta1Prefix  = "TA1*000004711*261127*1200*"
	)
	tests := []processCase{
		{
			name: "x12 valid gets a 997 accepting the set",
			in:   x12, opts: Options{Partner: partnerFor(nord)},
			msgs:     []msgWant{{0, 0, "850", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{"AK1*PO*4711~", "AK2*850*0001~", "AK5*A~", "AK9*A*1*1*1~"}, hasNot: []string{"TA1*"}}},
		},
		{
			name: "x12 unknown sender gets a TA1 006 and no 997",
			in:   x12, opts: Options{Partner: unknownSender},
			msgs:     []msgWant{{0, 0, "850", false, false, false}},
			messages: 1, rejected: true,
			ics:  []icWant{{known: false, rejected: yes, errIs: ErrUnknownSender}},
			acks: []ackWant{{kind: "TA1", partner: "", has: []string{ta1Prefix + "R*006~"}, hasNot: []string{"ST*997", "AK5"}}},
		},
		{
			name: "x12 unknown sender's TA1 does not depend on Default",
			in:   x12, opts: Options{Partner: unknownSender, Default: Partner{TA1: "never"}},
			msgs:     []msgWant{{0, 0, "850", false, false, false}},
			messages: 1, rejected: true,
			ics: []icWant{{known: false, rejected: yes, errIs: ErrUnknownSender}},
			// The unknown sender has no settings: TA1 "errors" applies,
			// Default is only for a nil resolver.
			acks: []ackWant{{kind: "TA1", has: []string{ta1Prefix + "R*006~"}}},
		},
		{
			name: "x12 duplicate with policy reject gets a TA1 025 and no order",
			in:   x12, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.Duplicates = "reject" })), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "850", true, false, true}},
			messages: 1, accepted: 1, orders: 0,
			ics:  []icWant{{known: true, duplicate: true}},
			acks: []ackWant{{kind: "TA1", partner: "nord", has: []string{ta1Prefix + "R*025~"}, hasNot: []string{"ST*997"}}},
		},
		{
			name: "x12 duplicate with the default policy is rejected too",
			in:   x12, opts: Options{Partner: partnerFor(nord), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "850", true, false, true}},
			messages: 1, accepted: 1,
			ics:  []icWant{{known: true, duplicate: true}},
			acks: []ackWant{{kind: "TA1", partner: "nord", has: []string{ta1Prefix + "R*025~"}}},
		},
		{
			name: "x12 duplicate with policy ack-and-drop gets a normal 997 and no order",
			in:   x12, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.Duplicates = "ack-and-drop" })), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "850", true, false, true}},
			messages: 1, accepted: 1, orders: 0,
			ics:  []icWant{{known: true, duplicate: true, rejected: no}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{"AK5*A~", "AK9*A*1*1*1~"}, hasNot: []string{"TA1*"}}},
		},
		{
			name: "x12 duplicate with policy hold emits the order marked duplicate",
			in:   x12, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.Duplicates = "hold" })), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "850", true, true, true}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, duplicate: true, rejected: no}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{"AK5*A~"}, hasNot: []string{"TA1*"}}},
		},
		{
			name: "x12 partner with 999 gets a 999",
			in:   x12, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.Functional = "999" }))},
			msgs:     []msgWant{{0, 0, "850", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "999", partner: "nord", has: []string{"ST*999*", "IK5*A~", "AK9*A*1*1*1~"}, hasNot: []string{"ST*997", "AK5*"}}},
		},
		{
			name: "x12 partner with TA1 always gets a TA1 A with the 997",
			in:   x12, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.TA1 = "always" }))},
			msgs:     []msgWant{{0, 0, "850", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{ta1Prefix + "A*000~", "AK5*A~"}}},
		},
		{
			// A wrong IEA01 is an interchange error: a TA1 R 021 by default
			// (policy "errors"), the sets still acknowledged.
			name: "x12 wrong IEA count gets a TA1 021 with the 997",
			in:   replace(t, x12, "IEA*1*", "IEA*2*"), opts: Options{Partner: partnerFor(nord)},
			msgs:     []msgWant{{0, 0, "850", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no, errIs: x12edi.ErrEnvelope}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{ta1Prefix + "R*021~", "AK5*A~"}}},
		},
		{
			name: "x12 partner with TA1 requested gets no TA1 it did not ask for",
			in:   replace(t, x12, "IEA*1*", "IEA*2*"), opts: Options{Partner: partnerFor(with(func(p *Partner) { p.TA1 = "requested" }))},
			msgs:     []msgWant{{0, 0, "850", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no, errIs: x12edi.ErrEnvelope}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{"AK5*A~"}, hasNot: []string{"TA1*"}}},
		},
		{
			name: "x12 wrong SE count rejects the set with AK5 R",
			in:   replace(t, x12, "SE*13*0001", "SE*99*0001"), opts: Options{Partner: partnerFor(nord)},
			msgs:     []msgWant{{0, 0, "850", false, false, false}},
			messages: 1, accepted: 0, orders: 0, rejected: true,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "997", partner: "nord", has: []string{"AK2*850*0001~", "AK5*R*4~", "AK9*R*1*1*0~"}}},
		},
		{
			name: "x12 two interchanges, the second from an unknown sender",
			in:   append(append([]byte(nil), x12...), stranger...), opts: Options{Partner: partnerFor(nord)},
			msgs: []msgWant{
				{0, 0, "850", true, true, false},
				{1, 1, "850", false, false, false},
			},
			messages: 2, accepted: 1, orders: 1,
			ics: []icWant{{known: true, rejected: no}, {known: false, rejected: yes, errIs: ErrUnknownSender}},
			acks: []ackWant{
				{kind: "997", partner: "nord", has: []string{"AK1*PO*4711~", "AK5*A~"}, hasNot: []string{"AK1*PO*4712~"}},
				{kind: "TA1", partner: "", has: []string{"TA1*000004712*261127*1200*R*006~"}},
			},
		},
		{
			name: "x12 without a resolver uses the default partner",
			in:   x12, opts: Options{Default: Partner{ID: "cli", Functional: "999"}},
			msgs:     []msgWant{{0, 0, "850", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "999", partner: "cli", has: []string{"IK5*A~"}}},
		},
		{
			name: "edifact valid with CONTRL always gets UCI 7",
			in:   ef, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "always" }))},
			msgs:     []msgWant{{0, 0, "ORDERS", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "CONTRL", partner: "nord", has: []string{ucAccepted, "UCM+1+ORDERS:D:96A:UN:EAN008+7'"}}},
		},
		{
			name: "edifact valid with CONTRL requested and no UNB 0031 gets none",
			in:   ef, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "requested" }))},
			msgs:     []msgWant{{0, 0, "ORDERS", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics: []icWant{{known: true, rejected: no}},
		},
		{
			name: "edifact valid with CONTRL requested and UNB 0031 = 1 gets UCI 7",
			in:   efAckRequested, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "requested" }))},
			msgs:     []msgWant{{0, 0, "ORDERS", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, rejected: no}},
			acks: []ackWant{{kind: "CONTRL", partner: "nord", has: []string{ucAccepted}}},
		},
		{
			name: "edifact CONTRL never gets none even when asked",
			in:   efAckRequested, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "never" }))},
			msgs:     []msgWant{{0, 0, "ORDERS", true, true, false}},
			messages: 1, accepted: 1, orders: 1,
			ics: []icWant{{known: true, rejected: no}},
		},
		{
			name: "edifact unknown sender asking for a CONTRL gets UCI 4 23",
			in:   efAckRequested, opts: Options{Partner: unknownSender},
			msgs:     []msgWant{{0, 0, "ORDERS", false, false, false}},
			messages: 1, rejected: true,
			ics:  []icWant{{known: false, rejected: yes, errIs: ErrUnknownSender}},
			acks: []ackWant{{kind: "CONTRL", partner: "", has: []string{"UCI+815+4012345000009:14+4000000000002:14+4+23+UNB+2'"}, hasNot: []string{"UCM+"}}},
		},
		{
			// An unknown sender has no settings: CONTRL "requested"
			// applies, and this interchange does not ask.
			// An unknown sender is told why, whether it asked or not, as
			// an X12 sender gets its TA1 006.
			name: "edifact unknown sender not asking still gets CONTRL 23",
			in:   ef, opts: Options{Partner: unknownSender},
			acks:     []ackWant{{kind: "CONTRL", has: []string{"+4+23"}}},
			msgs:     []msgWant{{0, 0, "ORDERS", false, false, false}},
			messages: 1, rejected: true,
			ics: []icWant{{known: false, rejected: yes, errIs: ErrUnknownSender}},
		},
		{
			name: "edifact duplicate with policy reject gets UCI 4 26 and no order",
			in:   ef, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "always"; p.Duplicates = "reject" })), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "ORDERS", true, false, true}},
			messages: 1, accepted: 1, orders: 0,
			ics:  []icWant{{known: true, duplicate: true}},
			acks: []ackWant{{kind: "CONTRL", partner: "nord", has: []string{"UCI+815+4012345000009:14+4000000000002:14+4+26+UNB+5'"}, hasNot: []string{"UCM+"}}},
		},
		{
			name: "edifact duplicate with policy ack-and-drop gets UCI 7 and no order",
			in:   ef, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "always"; p.Duplicates = "ack-and-drop" })), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "ORDERS", true, false, true}},
			messages: 1, accepted: 1, orders: 0,
			ics:  []icWant{{known: true, duplicate: true, rejected: no}},
			acks: []ackWant{{kind: "CONTRL", partner: "nord", has: []string{ucAccepted}}},
		},
		{
			name: "edifact duplicate with policy hold emits the order marked duplicate",
			in:   ef, opts: Options{Partner: partnerFor(with(func(p *Partner) { p.CONTRL = "always"; p.Duplicates = "hold" })), Duplicate: seenBefore},
			msgs:     []msgWant{{0, 0, "ORDERS", true, true, true}},
			messages: 1, accepted: 1, orders: 1,
			ics:  []icWant{{known: true, duplicate: true, rejected: no}},
			acks: []ackWant{{kind: "CONTRL", partner: "nord", has: []string{ucAccepted}}},
		},
		{
			name:     "not EDI at all is a document error",
			in:       []byte("Dear supplier, please send 24 boxes of screws.\n"),
			opts:     Options{Partner: partnerFor(nord)},
			rejected: true,
			docErr:   ErrNotEDI,
		},
		{
			name:     "empty input is not EDI",
			in:       nil,
			opts:     Options{Partner: partnerFor(nord)},
			rejected: true,
			docErr:   ErrNotEDI,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runProcessCase(t, tt) })
		tt.opts.Workers = 1
		t.Run(tt.name+" (workers 1)", func(t *testing.T) { runProcessCase(t, tt) })
	}
}

func runProcessCase(t *testing.T, tt processCase) {
	t.Helper()
	if tt.opts.Now == nil {
		tt.opts.Now = fixedNow
	}
	var got []*Message
	sum, err := Processor{}.Process(context.Background(), bytes.NewReader(tt.in), "po.edi", tt.opts, func(m *Message) error {
		got = append(got, m)
		return nil
	})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	if len(got) != len(tt.msgs) {
		t.Fatalf("messages emitted = %d, want %d", len(got), len(tt.msgs))
	}
	for i, w := range tt.msgs {
		m := got[i]
		if m.Index != w.index || m.Interchange != w.interchange || m.Type != w.typ || m.Accepted != w.accepted ||
			(m.Order != nil) != w.order || m.Duplicate != w.duplicate {
			t.Errorf("message %d = {index %d, interchange %d, type %s, accepted %v, order %v, duplicate %v} (errors %v), want %+v",
				i, m.Index, m.Interchange, m.Type, m.Accepted, m.Order != nil, m.Duplicate, m.Errors, w)
		}
		if m.Order != nil && m.Order.CustomerID != m.Partner.CustomerID {
			t.Errorf("message %d: order customer = %q, want the partner's %q", i, m.Order.CustomerID, m.Partner.CustomerID)
		}
		if !w.accepted && len(m.Errors) == 0 && w.interchange < len(tt.ics) && tt.ics[w.interchange].known {
			t.Errorf("message %d: rejected without an error", i)
		}
	}
	if sum.Messages != tt.messages || sum.Accepted != tt.accepted || sum.Orders != tt.orders {
		t.Errorf("summary counts = {messages %d, accepted %d, orders %d}, want {%d, %d, %d}",
			sum.Messages, sum.Accepted, sum.Orders, tt.messages, tt.accepted, tt.orders)
	}
	if got, want := sum.Rejected(), tt.rejected; got != want {
		t.Errorf("Summary.Rejected() = %v, want %v", got, want)
	}
	if tt.docErr == nil && len(sum.Errors) > 0 {
		t.Errorf("Summary.Errors = %v, want none", sum.Errors)
	}
	if tt.docErr != nil && !anyIs(sum.Errors, tt.docErr) {
		t.Errorf("Summary.Errors = %v, want one matching %v", sum.Errors, tt.docErr)
	}
	if len(sum.Interchanges) != len(tt.ics) {
		t.Fatalf("interchanges = %d, want %d", len(sum.Interchanges), len(tt.ics))
	}
	for i, w := range tt.ics {
		ic := sum.Interchanges[i]
		if ic.PartnerKnown != w.known || ic.Duplicate != w.duplicate {
			t.Errorf("interchange %d = {known %v, duplicate %v}, want {%v, %v}", i, ic.PartnerKnown, ic.Duplicate, w.known, w.duplicate)
		}
		if w.rejected != nil && ic.Rejected != *w.rejected {
			t.Errorf("interchange %d rejected = %v (errors %v), want %v", i, ic.Rejected, ic.Errors, *w.rejected)
		}
		if w.errIs != nil && !anyIs(ic.Errors, w.errIs) {
			t.Errorf("interchange %d errors = %v, want one matching %v", i, ic.Errors, w.errIs)
		}
		if w.errIs == nil && len(ic.Errors) > 0 {
			t.Errorf("interchange %d errors = %v, want none", i, ic.Errors)
		}
	}
	checkAcks(t, sum.Acks, tt.acks)
}

func checkAcks(t *testing.T, got []Ack, want []ackWant) {
	t.Helper()
	var kinds, wantKinds []string
	for _, a := range got {
		kinds = append(kinds, a.Kind)
	}
	for _, w := range want {
		wantKinds = append(wantKinds, w.kind)
	}
	if fmt.Sprint(kinds) != fmt.Sprint(wantKinds) {
		t.Fatalf("ack kinds = %v, want %v", kinds, wantKinds)
	}
	for i, w := range want {
		a := got[i]
		if a.PartnerID != w.partner {
			t.Errorf("%s ack partner = %q, want %q", a.Kind, a.PartnerID, w.partner)
		}
		for _, s := range w.has {
			if !bytes.Contains(a.Body, []byte(s)) {
				t.Errorf("%s ack lacks %q:\n%s", a.Kind, s, a.Body)
			}
		}
		for _, s := range w.hasNot {
			if bytes.Contains(a.Body, []byte(s)) {
				t.Errorf("%s ack has %q, want it absent:\n%s", a.Kind, s, a.Body)
			}
		}
	}
}

func anyIs(errs []error, target error) bool {
	for _, e := range errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// TestProcessCorpus runs real interchanges from other projects' test
// suites, with every sender a partner (the command line's view).
func TestProcessCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("the shared corpus is not at %s: %v", root, err)
	}
	tests := []struct {
		file                       string
		messages, accepted, orders int
		interchanges               int
		acks                       []ackWant
	}{
		{
			file:     "bots-plugins/x12/850/850-004010.14.x12", // three interchanges, CR as terminator
			messages: 3, accepted: 3, orders: 3, interchanges: 3,
			acks: []ackWant{{kind: "997", partner: "cli", has: []string{"AK1*PO*150", "AK1*PO*151", "AK1*PO*152", "AK5*A"}, hasNot: []string{"AK5*R"}}},
		},
		{
			file:     "bots-plugins/x12/850/850-004010-02.x12", // two groups with the same GS06, four sets
			messages: 4, accepted: 4, orders: 4, interchanges: 1,
			acks: []ackWant{{kind: "997", partner: "cli", has: []string{"AK9*A*2*2*2~", "GE*2*"}}},
		},
		{
			file:     "pyx12/x12/fail_no_IEA.txt", // an 837 with a bad SE count and no IEA
			messages: 1, accepted: 0, orders: 0, interchanges: 1,
			acks: []ackWant{{kind: "997", partner: "cli", has: []string{"*R*023~", "AK5*R*4~"}}},
		},
		{
			file:     "bots-plugins/edifact/orders/orders01_two_interchanges.edi",
			messages: 3, accepted: 3, orders: 3, interchanges: 2,
			acks: []ackWant{{kind: "CONTRL", partner: "cli", has: []string{"UCI+T0000000004-1+PARTNER1:14+PARTNER2:14+7'", "UCI+T0000000004-2+PARTNER1:14+PARTNER2:14+7'"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(root, filepath.FromSlash(tt.file)))
			if err != nil {
				t.Skipf("corpus file missing: %v", err)
			}
			defer f.Close()
			n := 0
			sum, err := Processor{}.Process(context.Background(), f, tt.file,
				Options{Default: Partner{ID: "cli", CONTRL: "always"}, Now: fixedNow},
				func(m *Message) error {
					if m.Index != n {
						t.Errorf("message index = %d, want %d", m.Index, n)
					}
					n++
					return nil
				})
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if sum.Messages != tt.messages || sum.Accepted != tt.accepted || sum.Orders != tt.orders {
				t.Errorf("summary counts = {messages %d, accepted %d, orders %d}, want {%d, %d, %d}",
					sum.Messages, sum.Accepted, sum.Orders, tt.messages, tt.accepted, tt.orders)
			}
			if got, want := n, tt.messages; got != want {
				t.Errorf("messages emitted = %d, want %d", got, want)
			}
			if got, want := len(sum.Interchanges), tt.interchanges; got != want {
				t.Errorf("interchanges = %d, want %d", got, want)
			}
			checkAcks(t, sum.Acks, tt.acks)
		})
	}
}

// isa13s returns the interchange control number of every ISA in an X12
// ack (the element separator is ISA's fourth byte).
func isa13s(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	for i := bytes.Index(body, []byte("ISA")); i >= 0; {
		if i+4 > len(body) {
			break
		}
		sep := body[i+3]
		fields := strings.Split(string(body[i:min(i+106, len(body))]), string(sep))
		if len(fields) < 14 {
			t.Fatalf("short ISA in %q", body[i:])
		}
		out = append(out, fields[13])
		next := bytes.Index(body[i+3:], []byte("ISA"+string(sep)))
		if next < 0 {
			break
		}
		i += 3 + next
	}
	return out
}

// unbRefs returns the interchange control reference (0020) of every UNB
// in a CONTRL written with the default separators.
func unbRefs(body []byte) []string {
	var out []string
	for _, seg := range strings.Split(string(body), "'") {
		seg = strings.TrimSpace(seg)
		if strings.HasPrefix(seg, "UNB+") {
			if f := strings.Split(seg, "+"); len(f) > 5 {
				out = append(out, f[5])
			}
		}
	}
	return out
}

func TestProcessControlNumbers(t *testing.T) {
	type call struct{ partner, kind string }
	two := func(a, b []byte) []byte { return append(append([]byte(nil), a...), b...) }
	tests := []struct {
		name     string
		in       []byte
		partner  Partner
		callback bool
		want     []string // the ack's interchange control numbers
		calls    []call   // with the callback
	}{
		{
			name: "x12 ISA13 comes from the callback", in: fixtures.X12850(4711, "PO-1", 1),
			partner: Partner{ID: "nord"}, callback: true,
			want: []string{"000424242"},
			// One draw per ack: the group reuses the interchange number,
			// sets count from 1 within the ack.
			calls: []call{{"nord", "x12-interchange"}},
		},
		{
			name: "x12 unknown sender's TA1 asks with no partner", in: fixtures.X12850(4711, "PO-1", 1),
			callback: true,
			want:     []string{"000424242"},
			calls:    []call{{"", "x12-interchange"}},
		},
		{
			name: "edifact UNB 0020 comes from the callback", in: fixtures.EDIFACTOrders(815, "PO-1", 1),
			partner: Partner{ID: "nord", CONTRL: "always"}, callback: true,
			want:  []string{"424242"},
			calls: []call{{"nord", "edifact-interchange"}},
		},
		{
			// In memory, every ack interchange of one document needs its
			// own number: two acks with one ISA13 look like a duplicate.
			name: "x12 in memory counts across interchanges", in: two(fixtures.X12850(1, "PO-1", 1), fixtures.X12850(2, "PO-2", 1)),
			partner: Partner{ID: "nord"},
			want:    []string{"000000001", "000000002"},
		},
		{
			name: "edifact in memory counts across interchanges", in: two(fixtures.EDIFACTOrders(1, "PO-1", 1), fixtures.EDIFACTOrders(2, "PO-2", 1)),
			partner: Partner{ID: "nord", CONTRL: "always"},
			want:    []string{"1", "2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []call
			opts := Options{Now: fixedNow, Partner: partnerFor(tt.partner)}
			if tt.partner.ID == "" {
				opts.Partner = unknownSender
			}
			if tt.callback {
				opts.ControlNumber = func(partnerID, kind string) (int64, error) {
					calls = append(calls, call{partnerID, kind})
					return 424242, nil
				}
			}
			sum, err := Processor{}.Process(context.Background(), bytes.NewReader(tt.in), "po.edi", opts, func(*Message) error { return nil })
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if len(sum.Acks) != 1 {
				t.Fatalf("acks = %d, want 1", len(sum.Acks))
			}
			var got []string
			if sum.Standard == edi.X12 {
				got = isa13s(t, sum.Acks[0].Body)
			} else {
				got = unbRefs(sum.Acks[0].Body)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ack control numbers = %v, want %v\n%s", got, tt.want, sum.Acks[0].Body)
			}
			if tt.callback && fmt.Sprint(calls) != fmt.Sprint(tt.calls) {
				t.Errorf("ControlNumber calls = %v, want %v", calls, tt.calls)
			}
		})
	}
}

func TestProcessCallbackErrors(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		in   []byte
		opts Options
		emit func(*Message) error
	}{
		{"x12 emit", fixtures.X12850(1, "PO-1", 1), Options{}, func(*Message) error { return errBoom }},
		{"edifact emit", fixtures.EDIFACTOrders(1, "PO-1", 1), Options{}, func(*Message) error { return errBoom }},
		{"x12 duplicate", fixtures.X12850(1, "PO-1", 1),
			Options{Duplicate: func(edi.Standard, edi.Envelope, Partner) (bool, error) { return false, errBoom }}, nil},
		{"edifact duplicate", fixtures.EDIFACTOrders(1, "PO-1", 1),
			Options{Duplicate: func(edi.Standard, edi.Envelope, Partner) (bool, error) { return false, errBoom }}, nil},
		{"x12 control number", fixtures.X12850(1, "PO-1", 1),
			Options{ControlNumber: func(string, string) (int64, error) { return 0, errBoom }}, nil},
		{"edifact control number", fixtures.EDIFACTOrders(1, "PO-1", 1),
			Options{Default: Partner{CONTRL: "always"}, ControlNumber: func(string, string) (int64, error) { return 0, errBoom }}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emit := tt.emit
			if emit == nil {
				emit = func(*Message) error { return nil }
			}
			sum, err := Processor{}.Process(context.Background(), bytes.NewReader(tt.in), "po.edi", tt.opts, emit)
			if !errors.Is(err, errBoom) {
				t.Fatalf("Process error = %v, want %v", err, errBoom)
			}
			if sum != nil {
				t.Errorf("Summary = %+v, want nil with an error", sum)
			}
		})
	}
}
