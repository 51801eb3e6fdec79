package ediproc

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/ordergate/ordergate/internal/fixtures"
)

// BenchmarkProcessSizeHint processes a 30-line X12 850 and EDIFACT
// ORDERS as the gateway does (a reader of known size: buffers of the
// document's size), and with the size hidden (the 64 KiB buffers):
//
//	go test -run '^$' -bench BenchmarkProcessSizeHint ./internal/ediproc
func BenchmarkProcessSizeHint(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{{"edifact", fixtures.EDIFACTOrders(1, "PO-1", 30)}, {"x12", fixtures.X12850(1, "PO-1", 30)}} {
		for _, hide := range []bool{false, true} {
			name := c.name + "/sized"
			if hide {
				name = c.name + "/unsized"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var r io.Reader = bytes.NewReader(c.data)
					if hide {
						r = struct{ io.Reader }{r}
					}
					if _, err := (Processor{}).Process(context.Background(), r, "f", Options{}, func(*Message) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
