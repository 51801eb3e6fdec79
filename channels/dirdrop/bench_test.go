package dirdrop

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// processCPU is the process's user + system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
			ctx := context.Background()
			var pending []channels.OutFile
			cpu0 := processCPU(b)
			i := 0
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
					continue
				}
				// One file per operation; a batch is written when full.
				pending = append(pending, channels.OutFile{Name: name, Body: body})
				if len(pending) == bc.batch {
					for _, r := range o.WriteBatch(ctx, pending) {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
					pending = pending[:0]
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N)/1e3, "cpu-µs/file")
		})
	}
}
