package edifact

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/edi"
)

var t0 = time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)

func TestWriterEnvelopeAndEscaping(t *testing.T) {
	tests := []struct {
		name   string
		seps   Separators
		syntax string
		ver    string
		opts   []WriterOption
		value  string
		want   string
	}{
		{"defaults, no UNA", DefaultSeparators, "UNOA", "3", nil, "A+B:C'D?E",
			"UNB+UNOA:3+S:14+R:14+261118:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++A?+B?:C?'D??E'UNT+3+1'UNZ+1+1'"},
		{"UNA asked", DefaultSeparators, "UNOA", "3", []WriterOption{WithUNA()}, "X",
			"UNA:+.? 'UNB+UNOA:3+S:14+R:14+261118:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++X'UNT+3+1'UNZ+1+1'"},
		{"partner UNA", Separators{'=', '*', ',', '?', 0, '~'}, "UNOB", "3", nil, "a*b=c?",
			"UNA=*,? ~UNB*UNOB=3*S=14*R=14*261118=0930*1~UNH*1*ORDERS=D=96A=UN~FTX*AAI***a?*b?=c??~UNT*3*1~UNZ*1*1~"},
		{"syntax 4 defaults", Separators{':', '+', '.', '?', '*', '\''}, "UNOW", "4", nil, "東京*",
			"UNB+UNOW:4+S:14+R:14+20261118:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++東京?*'UNT+3+1'UNZ+1+1'"},
		{"latin-1", DefaultSeparators, "UNOC", "3", nil, "Müller",
			"UNB+UNOC:3+S:14+R:14+261118:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++M\xfcller'UNT+3+1'UNZ+1+1'"},
		{"latin-2", DefaultSeparators, "UNOD", "3", nil, "Łódź",
			"UNB+UNOD:3+S:14+R:14+261118:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++\xa3\xf3d\xbc'UNT+3+1'UNZ+1+1'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, tt.seps, tt.opts...)
			ctx := context.Background()
			if err := w.BeginInterchange(ctx, InterchangeHeader{SyntaxID: tt.syntax, SyntaxVersion: tt.ver, SenderID: "S", SenderQual: "14",
				RecipientID: "R", RecipQual: "14", Time: t0}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.BeginMessage(ctx, MessageID{Type: "ORDERS", Version: "D", Release: "96A", Agency: "UN"}); err != nil {
				t.Fatal(err)
			}
			if err := w.SegmentElements("FTX", []string{"AAI"}, nil, nil, []string{tt.value}); err != nil {
				t.Fatal(err)
			}
			if err := w.EndMessage(); err != nil {
				t.Fatal(err)
			}
			if err := w.EndInterchange(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			// What was written reads back to the same value.
			msgs, _ := decodeAll(t, buf.String(), WithoutDictionary())
			if len(msgs) != 1 || !msgs[0].Accepted {
				t.Fatalf("read back %d messages: %+v", len(msgs), msgs)
			}
			if got := msgs[0].Segments[1].Component(4, 1); got != tt.value {
				t.Errorf("read back %q, want %q", got, tt.value)
			}
		})
	}
}

func TestWriterRefuses(t *testing.T) {
	tests := []struct {
		name, syntax, value string
	}{
		{"lowercase in UNOA", "UNOA", "abc"},
		{"umlaut in UNOB", "UNOB", "Müller"},
		{"cyrillic in UNOC", "UNOC", "Москва"},
		{"line break", "UNOW", "a\nb"},
		{"control character", "UNOC", "a\x01b"},
		{"invalid UTF-8", "UNOW", "a\xffb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(&bytes.Buffer{}, DefaultSeparators)
			ctx := context.Background()
			if err := w.BeginInterchange(ctx, InterchangeHeader{SyntaxID: tt.syntax, SenderID: "S", RecipientID: "R", Time: t0}); err != nil {
				t.Fatal(err)
			}
			err := w.Segment("FTX", "AAI", "", "", tt.value)
			if !errors.Is(err, ErrUnrepresentable) || !errors.Is(err, ErrWrite) {
				t.Errorf("got %v, want ErrUnrepresentable", err)
			}
		})
	}
}

func TestWriterOrder(t *testing.T) {
	w := NewWriter(&bytes.Buffer{}, DefaultSeparators)
	if _, err := w.BeginMessage(context.Background(), MessageID{Type: "ORDRSP"}); !errors.Is(err, ErrWrite) {
		t.Errorf("message outside an interchange: got %v, want ErrWrite", err)
	}
	w = NewWriter(&bytes.Buffer{}, Separators{':', ':', '.', '?', 0, '\''})
	if err := w.BeginInterchange(context.Background(), InterchangeHeader{SenderID: "S", RecipientID: "R", Time: t0}); !errors.Is(err, ErrWrite) {
		t.Errorf("same separator twice: got %v, want ErrWrite", err)
	}
}

func TestWriterGroups(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, DefaultSeparators, WithControlNumbers(NewCounter(100)))
	ctx := context.Background()
	w.BeginInterchange(ctx, InterchangeHeader{SenderID: "S", RecipientID: "R", Time: t0})
	w.BeginGroup(ctx, GroupHeader{FunctionalID: "ORDRSP", SenderID: "S", RecipientID: "R", Time: t0, Agency: "UN", Version: "D", Release: "96A"})
	for i := 0; i < 2; i++ {
		w.BeginMessage(ctx, MessageID{Type: "ORDRSP", Version: "D", Release: "96A", Agency: "UN"})
		w.Segment("BGM", "231", "X", "29")
		w.EndMessage()
	}
	w.EndGroup()
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	_, rep := decodeAll(t, buf.String(), WithoutDictionary())
	if len(rep.Interchanges) != 1 || len(rep.Interchanges[0].Errors) > 0 || len(rep.Interchanges[0].Groups) != 1 || len(rep.Interchanges[0].Groups[0].Errors) > 0 {
		t.Errorf("written interchange does not decode cleanly:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "UNE+2+100'UNZ+1+100'") {
		t.Errorf("counts or references wrong:\n%s", buf.String())
	}
}

func TestOrderResponseGolden(t *testing.T) {
	r := &OrderResponse{Number: "RSP-4711", Function: ResponseChanged, Date: t0, OrderNumber: "PO-4711", OrderDate: t0.AddDate(0, 0, -2),
		Currency: "EUR", Notes: []string{"Teillieferung: Artikel 2 erst nächste Woche"},
		Parties: []ResponseParty{{Function: "SU", ID: "4000000000001", Agency: "9"}, {Function: "BY", ID: "4000000000002", Agency: "9", Name: "Baumarkt Nord", City: "Hamburg", Country: "DE"}},
		Lines: []ResponseLine{
			{LineNo: "1", Action: LineAccepted, ItemID: "4000000000017", ItemType: "EN", Quantity: "24", Unit: "PCE"},
			{LineNo: "2", Action: LineChanged, ItemID: "4000000000024", ItemType: "EN", SupplierPart: "SCR-100", Quantity: "10.5", Unit: "PCE", Price: "12.50",
				Delivery: t0.AddDate(0, 0, 7), Note: "nur 10,5 lieferbar"},
			{LineNo: "3", Action: LineNotAccepted, BuyerPart: "BN-9", Note: "ausgelistet"},
		}}
	for _, tc := range []struct {
		name string
		seps Separators
	}{{"ordrsp_default", DefaultSeparators}, {"ordrsp_comma", Separators{':', '+', ',', '?', 0, '\''}}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, tc.seps, WithLineBreaks())
			ctx := context.Background()
			if err := w.BeginInterchange(ctx, InterchangeHeader{SyntaxID: "UNOC", SenderID: "4000000000001", SenderQual: "14", RecipientID: "4000000000002", RecipQual: "14", Time: t0}); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteOrderResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := w.EndInterchange(); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "ordrsp", tc.name+".edi")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				os.WriteFile(golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run with -update): %v", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("ORDRSP differs from %s:\n%s", golden, buf.Bytes())
			}
			msgs, _ := decodeAll(t, buf.String())
			if len(msgs) != 1 || !msgs[0].Accepted {
				t.Fatalf("the ORDRSP does not validate against ORDRSP D96A: %v", msgs[0].Errors)
			}
			var bgm edi.Segment
			for _, s := range msgs[0].Segments {
				if s.Tag == "BGM" {
					bgm = s
				}
			}
			if got := bgm.Value(3); got != "4" {
				t.Errorf("BGM 1225 = %q, want 4", got)
			}
		})
	}
}
