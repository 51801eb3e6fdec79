package dirdrop

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/proc"
)

// processCPU is the process's user + system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	d, err := proc.SelfCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkOutboxFiles writes 3.5 KB files (a 997 or an order file) into
// a folder, one per operation: through WriteBatch in batches of 1 and 64
// (the file written as .part, fsynced, linked, the folder fsynced once
// per batch), and as the floor, a plain create, write and close in an
// os.Root with no fsync. It reports the process CPU per file besides the
// wall time: on a VM file creation can cost more CPU than anything the
// gateway does with the order (docs/benchmarks.md).
func BenchmarkOutboxFiles(b *testing.B) {
	body := make([]byte, 3500)
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batch-1", 1}, {"batch-64", 64}, {"create-only", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			o := &Outbox{Dir: dir}
			root, err := os.OpenRoot(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer root.Close()
			var pending []channels.OutFile
			cpu0 := processCPU(b)
			i, written := 0, 0
			for b.Loop() {
				name := fmt.Sprintf("f%08d.x12", i)
				i++
				if bc.batch == 0 {
					f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := f.Write(body); err != nil {
						b.Fatal(err)
					}
					if err := f.Close(); err != nil {
						b.Fatal(err)
					}
					written++
					continue
				}
				// One file per operation; a batch is written when full.
				pending = append(pending, channels.OutFile{Name: name, Body: body})
				if len(pending) == bc.batch {
					writeAll(b, o, pending)
					written += len(pending)
					pending = pending[:0]
				}
			}
			// Per file written: a last, partial batch stays unwritten.
			if written > 0 {
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(written)/1e3, "cpu-µs/file")
			}
		})
	}
}

// writeAll writes files as one batch and fails the benchmark on an error.
func writeAll(b *testing.B, o *Outbox, files []channels.OutFile) {
	for _, r := range o.WriteBatch(context.Background(), files) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
