// Command loadgen measures the gateway end to end: it starts `ordergate
// serve` on a fresh data directory with a folder inbox and a filedrop
// backend, drops N purchase order files into the inbox (as fast as it can,
// or at a fixed rate), and watches the backend's folder. It reports the
// throughput from the first file visible to the last order routed, the
// latency percentiles per file (visible in the inbox -> order file in the
// backend folder) and the server's peak RSS.
//
//	go build -o /tmp/ordergate ./cmd/ordergate
//	go run ./internal/tools/loadgen -bin /tmp/ordergate -n 5000 -lines 30
//	go run ./internal/tools/loadgen -bin /tmp/ordergate -n 3000 -lines 30 -rate 200
//	go run ./internal/tools/loadgen -bin /tmp/ordergate -n 2000 -lines 30 -archive files
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/proc"
)

const config = `store: %s
http: {listen: "127.0.0.1:%d"}
log: {level: warn}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match:
      x12: [{qualifier: ZZ, id: BAUMARKTNORD}]
      edifact: [{qualifier: "14", id: "4012345000009"}]
    acks: {functional: "997", contrl: always}
channels:
  - {name: inbox, type: dir, path: ./inbox, outbox: ./outbox, poll: 5ms, min_age: 0s}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
`

func main() {
	bin := flag.String("bin", "ordergate", "the ordergate `binary`")
	n := flag.Int("n", 2000, "files to drop")
	lines := flag.Int("lines", 30, "lines per purchase order")
	rate := flag.Float64("rate", 0, "files per second (0: as fast as possible)")
	edifact := flag.Bool("edifact", false, "alternate X12 and EDIFACT files (default: X12 only)")
	keep := flag.Bool("keep", false, "keep the working directory")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after")
	dsn := flag.String("postgres", "", "run on postgres: the `DSN` of an empty database (default: sqlite)")
	arch := flag.String("archive", "database", "where the raw files are archived: `files` (archive_dir) or database (store.archive)")
	flag.Parse()
	if *arch != "files" && *arch != "database" {
		fmt.Fprintf(os.Stderr, "loadgen: -archive %q: want files or database\n", *arch)
		os.Exit(2)
	}
	if err := run(*bin, *n, *lines, *rate, *edifact, *keep, *timeout, storeYAML(*dsn, *arch), *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(bin string, n, lines int, rate float64, edifact, keep bool, timeout time.Duration, storeCfg, dsn string) error {
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("working directory:", dir)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, d := range []string{"inbox", "outbox", "outbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fmt.Sprintf(config, storeCfg, port)), 0o644); err != nil {
		return err
	}
	var logBuf bytes.Buffer
	cmd := exec.Command(bin, "serve", "--config", "config.yaml")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &logBuf, &logBuf
	if dsn != "" {
		cmd.Env = append(os.Environ(), "OG_DSN="+dsn, "ORDERGATE_ADMIN_TOKEN=loadgen-0123456789abcdef0123456789abcdef")
	}
	// The server dies with the load tool, however that ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := proc.WaitReady(port, 30*time.Second); err != nil {
		return fmt.Errorf("%w\n%s", err, logBuf.String())
	}

	// Prepare the files first so generation does not count.
	type file struct {
		name string
		body []byte
		po   string
	}
	files := make([]file, n)
	for i := range files {
		po := fmt.Sprintf("LOAD-%07d", i)
		if edifact && i%2 == 1 {
			files[i] = file{fmt.Sprintf("%07d.edi", i), fixtures.EDIFACTOrders(1000000+i, po, lines), po}
		} else {
			files[i] = file{fmt.Sprintf("%07d.x12", i), fixtures.X12850(1000000+i, po, lines), po}
		}
	}
	visible := make(map[string]time.Time, n)
	routed := make(map[string]time.Time, n)
	done := make(chan error, 1)
	outbound := filepath.Join(dir, "outbound")
	go func() { done <- watch(outbound, n, routed, timeout) }()
	// The measure ends when the order is routed (its delivery
	// queued); the files in outbound/ come after the delivery worker sent
	// them. The gateway's counter of routed orders gives the first.
	routedAll := make(chan time.Time, 1)
	stopCount := make(chan struct{})
	defer close(stopCount)
	go func() { routedAll <- countRouted(port, n, stopCount) }()

	start := time.Now()
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	var bytesIn int64
	for i, f := range files {
		if interval > 0 {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		tmp := filepath.Join(dir, "inbox", f.name+".part")
		if err := os.WriteFile(tmp, f.body, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, "inbox", f.name)); err != nil {
			return err
		}
		visible[f.po] = time.Now()
		bytesIn += int64(len(f.body))
	}
	dropped := time.Since(start)
	if err := <-done; err != nil {
		return fmt.Errorf("%w\n%s", err, proc.Tail(logBuf.String(), 40))
	}
	var last time.Time
	lat := make([]time.Duration, 0, n)
	for po, at := range routed {
		v, ok := visible[po]
		if !ok {
			return fmt.Errorf("routed an unknown PO %s", po)
		}
		lat = append(lat, at.Sub(v))
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(lat)
	total := last.Sub(start)
	fmt.Printf("files            %d x %d lines (%.1f MB)%s\n", n, lines, float64(bytesIn)/1e6, map[bool]string{true: ", X12 and EDIFACT", false: ", X12"}[edifact])
	if rate > 0 {
		fmt.Printf("offered rate     %.0f files/s (dropped in %s)\n", rate, dropped.Round(time.Millisecond))
	} else {
		fmt.Printf("offered          all at once (dropped in %s)\n", dropped.Round(time.Millisecond))
	}
	select {
	case at := <-routedAll:
		if !at.IsZero() {
			t := at.Sub(start)
			fmt.Printf("routed           %d orders in %s: %.0f orders/s (file visible -> order routed, its delivery queued; from the gateway's counter, sampled every 20 ms)\n",
				n, t.Round(time.Millisecond), float64(n)/t.Seconds())
		}
	case <-time.After(time.Second):
	}
	fmt.Printf("delivered        %d orders in %s: %.0f orders/s (file visible -> order file written by the backend)\n", len(routed), total.Round(time.Millisecond), float64(len(routed))/total.Seconds())
	fmt.Printf("latency          p50 %s  p90 %s  p99 %s  max %s (file visible -> order file written)\n",
		proc.Pct(lat, 50), proc.Pct(lat, 90), proc.Pct(lat, 99), lat[len(lat)-1].Round(time.Millisecond))
	if rss, err := proc.PeakRSS(cmd.Process.Pid); err == nil {
		fmt.Printf("server peak RSS  %s\n", rss)
	}
	if cpu, err := proc.CPUTime(cmd.Process.Pid); err == nil {
		fmt.Printf("server CPU       %s user+system, %s per order (less sensitive to other load than wall time)\n",
			cpu.Round(time.Millisecond), (cpu / time.Duration(len(routed))).Round(time.Microsecond))
	}
	printStages(port)
	return nil
}

// printStages prints the mean handler time per pipeline stage from the
// gateway's metrics.
func printStages(port int) {
	sums, counts := map[string]float64{}, map[string]float64{}
	scrape(port, func(line string) {
		for _, kind := range []string{"_sum", "_count"} {
			prefix := "ordergate_stage_duration_seconds" + kind + `{stage="`
			rest, ok := strings.CutPrefix(line, prefix)
			if !ok {
				continue
			}
			stage, val, _ := strings.Cut(rest, `"} `)
			var v float64
			fmt.Sscan(val, &v)
			if kind == "_sum" {
				sums[stage] = v
			} else {
				counts[stage] = v
			}
		}
	})
	for _, st := range []string{"parse", "normalize", "decide", "route"} {
		if counts[st] > 0 {
			fmt.Printf("stage %-10s %6.0f messages, mean %s\n", st, counts[st], time.Duration(sums[st]/counts[st]*float64(time.Second)).Round(time.Microsecond))
		}
	}
}

// countRouted polls the gateway's metrics until its counter of routed
// orders reaches n and returns when it saw that (zero when stopped
// first).
func countRouted(port, n int, stop <-chan struct{}) time.Time {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return time.Time{}
		case <-tick.C:
		}
		if routedCount(port) >= float64(n) {
			return time.Now()
		}
	}
}

// routedCount sums ordergate_orders_total{stage="route",status="routed"}.
func routedCount(port int) float64 {
	var sum float64
	scrape(port, func(line string) {
		if !strings.HasPrefix(line, "ordergate_orders_total{") || !strings.Contains(line, `stage="route"`) || !strings.Contains(line, `status="routed"`) {
			return
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
			sum += v
		}
	})
	return sum
}

// scrape hands each line of the gateway's /metrics to fn; nothing when
// the gateway does not answer.
func scrape(port int, fn func(line string)) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		fn(sc.Text())
	}
}

// watch records when each order file appears in dir until n were seen.
func watch(dir string, n int, routed map[string]time.Time, timeout time.Duration) error {
	seen := map[string]bool{}
	deadline := time.Now().Add(timeout)
	for len(routed) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d orders routed after %s", len(routed), n, timeout)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, e := range entries {
			name := e.Name()
			if seen[name] || strings.HasSuffix(name, ".part") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			var o struct {
				PONumber string `json:"po_number"`
			}
			if err := json.Unmarshal(b, &o); err != nil {
				continue
			}
			seen[name] = true
			if _, dup := routed[o.PONumber]; dup {
				return fmt.Errorf("PO %s routed twice", o.PONumber)
			}
			routed[o.PONumber] = now
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// storeYAML is the store section: sqlite in the working directory, or the
// postgres database, with the raw archive in archive_dir (files) or in
// the database.
func storeYAML(dsn, arch string) string {
	if dsn == "" {
		return fmt.Sprintf("{dsn: ./data/ordergate.db, archive_dir: ./data/archive, archive: %s}", arch)
	}
	return fmt.Sprintf("{driver: postgres, dsn_env: OG_DSN, archive_dir: ./data/archive, archive: %s}", arch)
}
