package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkWrite measures one intake-and-parse transaction (InsertDocument
// + InsertOrder + AddEvent) per Write, synchronous=FULL, content archived
// before the loop. Reports ops/s besides ns/op.
func BenchmarkWrite(b *testing.B) {
	s := testStore(b, nil)
	ctx := context.Background()
	h, n, err := s.Archive().Put(ctx, strings.NewReader("ISA*00*...IEA*1*000004711~"))
	if err != nil {
		b.Fatal(err)
	}
	o := testOrder("4500012345")
	b.ResetTimer()
	i := 0
	for b.Loop() {
		in := DocumentInput{Channel: "edi", SourceKey: fmt.Sprintf("bench-%d", i), SHA256: h, Size: n}
		i++
		err := s.Write(ctx, func(tx *Tx) error {
			d, _, err := tx.InsertDocument(ctx, in)
			if err != nil {
				return err
			}
			r, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: d.ID, Order: o})
			if err != nil {
				return err
			}
			_, err = tx.AddEvent(ctx, EventInput{OrderID: r.ID, DocumentID: d.ID, Actor: ActorSystem, Kind: EventReceived})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
