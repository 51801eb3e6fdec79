package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/proc"
	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/normalize/order"
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
		err := s.Write(ctx, func(tx *Tx) error { return insertReceived(ctx, tx, in, o) })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkWriteArchived is BenchmarkWrite with a new 3.5 KB document
// archived per transaction: in the file archive before it (fsync of the
// file and its directory), or in the database in it
// (Store.ArchiveInTx: the commit is the only fsync). Reports the CPU
// time per operation besides the wall time (the machine is shared).
func BenchmarkWriteArchived(b *testing.B) {
	for _, inDB := range []bool{false, true} {
		b.Run(archiveName(inDB), func(b *testing.B) {
			opts := testDriver{DriverSQLite}.options(b)
			opts.ArchiveInDB = inDB
			s := openStore(b, opts, nil)
			ctx := context.Background()
			o := testOrder("4500012345")
			doc := []byte(strings.Repeat("PO1*1*24*EA*12.50**BP*4012345678901~\n", 96))
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				content := fmt.Appendf(nil, "ISA*00*%09d~\n%s", i, doc)
				in := DocumentInput{Channel: "edi", SourceKey: fmt.Sprintf("bench-%d", i), SHA256: archive.Sum(content), Size: int64(len(content))}
				i++
				if !s.ArchiveInTx() {
					if _, _, err := s.Archive().Put(ctx, bytes.NewReader(content)); err != nil {
						b.Fatal(err)
					}
				}
				err := s.Write(ctx, func(tx *Tx) error {
					if s.ArchiveInTx() {
						if _, _, err := tx.PutContent(ctx, bytes.NewReader(content), in.Size, in.SHA256); err != nil {
							return err
						}
					}
					return insertReceived(ctx, tx, in, o)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime(b *testing.B) time.Duration {
	d, err := proc.SelfCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// insertReceived writes what intake writes for one order document: the
// document, its order and the "received" event.
func insertReceived(ctx context.Context, tx *Tx, in DocumentInput, o *order.Order) error {
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
}
