package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/proc"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/filedrop"
)

// intakeBatch is how many files the folder channel hands intake at once
// in a burst.
const intakeBatch = 64

// BenchmarkIntake measures intake alone, as the folder channel hands it
// a burst: batches of 64 X12 850 files of 30 lines (those of
// internal/tools/loadgen) go through TakeBatch on SQLite with the raw
// files in the database, as the gateway runs by default. Each file is
// parsed, stored with its acknowledgement, and its order normalized,
// decided and routed (its delivery queued), in one transaction per batch.
// No worker runs, so the write lock is intake's alone and the figures
// are those of the transaction the gateway's throughput depends on. It
// reports orders/s and the CPU time per order. Run with a fixed count:
//
//	go test -run '^$' -bench BenchmarkIntake -benchtime 3000x ./internal/pipeline
func BenchmarkIntake(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	cfg, problems := config.Parse("bench.yaml", fmt.Appendf(nil, testConfig, dir, "reject", 5, "  - {name: default, to: [files]}", "", "none", "", ""))
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	for _, d := range []string{"inbox", "outbox", "outbound", "copies"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(ctx, store.Options{Path: cfg.Store.DSN, ArchiveInDB: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	files, err := filedrop.New(filedrop.Config{Name: "files", Dir: filepath.Join(dir, "outbound")})
	if err != nil {
		b.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Deps{
		Store: st, Queue: pipeline.NewSQLiteQueue(st, 0, cfg.Pipeline.PollInterval, cfg.Pipeline.BatchSize, nil),
		Config: func() *config.Config { return cfg }, Processor: ediproc.Processor{},
		Backends:  map[string]routing.Backend{"files": files},
		Outbounds: map[string]channels.Outbound{"inbox": &dirdrop.Outbox{Dir: filepath.Join(dir, "outbox")}},
	})
	if err != nil {
		b.Fatal(err)
	}
	docs := inboxBatch("load", 1, b.N, 30)
	cpu0, err := proc.SelfCPU()
	if err != nil {
		b.Fatal(err)
	}
	w0 := writtenBytes(b)
	b.ResetTimer()
	for start := 0; start < b.N; start += intakeBatch {
		if _, err := p.TakeBatch(ctx, docs[start:min(start+intakeBatch, b.N)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu1, err := proc.SelfCPU()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-us/order")
	b.ReportMetric(float64(writtenBytes(b)-w0)/float64(b.N), "written-B/order")
	var routed int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE status = 'routed'`).Scan(&routed); err != nil {
		b.Fatal(err)
	}
	if routed != b.N {
		b.Fatalf("%d of %d orders routed", routed, b.N)
	}
}

// writtenBytes is how many bytes the process has written to files (the
// database, its WAL, the archive), from /proc/self/io.
func writtenBytes(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no wchar in /proc/self/io")
	return 0
}
