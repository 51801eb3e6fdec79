package ediproc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
)

// TestProcessWorkers checks that decoding and mapping on goroutines of
// their own (Options.Workers) changes nothing the caller sees: the
// messages, their orders and errors, the summary with its acks, and the
// order of the Partner, Duplicate and emit calls, on files with known,
// unknown and repeated senders, rejected and unmappable messages.
func TestProcessWorkers(t *testing.T) {
	var x bytes.Buffer
	if err := bulk.X12(&x, 120, 3, 9); err != nil {
		t.Fatal(err)
	}
	x.Write(fixtures.X12850(4711, "PO-4711", 2))
	x.WriteString(strings.ReplaceAll(string(fixtures.X12850(4712, "PO-4712", 1)), fixtures.X12Sender, "OTHERSENDER1"))
	x.Write(fixtures.X12850(4713, "PO-4713", 1))
	x.WriteString(strings.Replace(string(fixtures.X12850(4714, "PO-4714", 2)), "DTM*002*20261215", "DTM*002*20261315", 1))
	x.Write(fixtures.X12850(4711, "PO-4711", 2)) // seen before
	var e bytes.Buffer
	if err := bulk.EDIFACT(&e, 120, 3, 9); err != nil {
		t.Fatal(err)
	}
	e.Write(fixtures.EDIFACTOrders(815, "PO-815", 2))
	e.WriteString(strings.ReplaceAll(string(fixtures.EDIFACTOrders(816, "PO-816", 1)), fixtures.EDIFACTSender, "4099999999999"))
	e.WriteString(strings.Replace(string(fixtures.EDIFACTOrders(817, "PO-817", 2)), "BGM+220+PO-817+9", "BGM+220+PO-817+31", 1))
	e.WriteString(strings.Replace(string(fixtures.EDIFACTOrders(818, "PO-818", 1)), "UNOC", "UNOX", 1))
	e.Write(fixtures.EDIFACTOrders(815, "PO-815", 2))
	for _, in := range [][]byte{x.Bytes(), e.Bytes()} {
		run := func(workers int, acks bool) string {
			var log strings.Builder
			seen := map[string]bool{}
			opts := Options{Now: fixedNow, Workers: workers, NoAcks: !acks,
				Partner: func(std edi.Standard, env edi.Envelope) (Partner, bool) {
					fmt.Fprintf(&log, "partner %s %s\n", env.SenderID, env.InterchangeControl)
					if strings.HasPrefix(env.SenderID, "OTHER") || env.SenderID == "4099999999999" {
						return Partner{}, false
					}
					return Partner{ID: "p", CustomerID: "C-1"}, true
				},
				Duplicate: func(std edi.Standard, env edi.Envelope, p Partner) (bool, error) {
					k := env.SenderID + "/" + env.InterchangeControl
					fmt.Fprintf(&log, "duplicate? %s\n", k)
					dup := seen[k]
					seen[k] = true
					return dup, nil
				}}
			sum, err := Processor{}.Process(context.Background(), bytes.NewReader(in), "f", opts, func(m *Message) error {
				j, _ := json.Marshal(m.Order)
				fmt.Fprintf(&log, "emit %d ic=%d %s acc=%v dup=%v errs=%v %s\n", m.Index, m.Interchange, m.Type, m.Accepted, m.Duplicate, m.Errors, j)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&log, "summary %d %d %d %v\n", sum.Messages, sum.Accepted, sum.Orders, sum.Errors)
			for _, ic := range sum.Interchanges {
				fmt.Fprintf(&log, "ic %+v\n", ic)
			}
			for _, a := range sum.Acks {
				fmt.Fprintf(&log, "ack %s %s %q\n", a.Kind, a.PartnerID, a.Body)
			}
			return log.String()
		}
		for _, acks := range []bool{false, true} {
			want := run(0, acks)
			if !strings.Contains(want, "dup=true") || !strings.Contains(want, "acc=false") {
				t.Fatalf("the input lacks the cases:\n%s", want)
			}
			for _, w := range []int{1, 2} {
				if got := run(w, acks); !reflect.DeepEqual(got, want) {
					t.Errorf("workers %d, acks %v:\n%s\nwant\n%s", w, acks, got, want)
				}
			}
		}
	}
}
