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
//
// The working directory is made in -dir (default: $TMPDIR or /tmp). Give
// it a folder on the file system the gateway would run on: the gateway
// writes two files per order there (its acknowledgement and the order
// file) besides the dropped file. On an ext4 without a journal (this
// project's benchmark VM mounts its root so) creating a file costs
// hundreds of microseconds of CPU for minutes after many files were
// deleted (every run deletes its working directory), and the figures then
// depend on the runs before; docs/benchmarks.md says how to mount a
// journaled ext4 for the runs.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

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
	parent := flag.String("dir", "", "make the working directory in this `folder` (default: $TMPDIR or /tmp)")
	flag.Parse()
	if *arch != "files" && *arch != "database" {
		fmt.Fprintf(os.Stderr, "loadgen: -archive %q: want files or database\n", *arch)
		os.Exit(2)
	}
	if err := run(*bin, *parent, *n, *lines, *rate, *edifact, *keep, *timeout, storeYAML(*dsn, *arch), *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(bin, parent string, n, lines int, rate float64, edifact, keep bool, timeout time.Duration, storeCfg, dsn string) error {
	dir, err := os.MkdirTemp(parent, "loadgen")
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
	cmd.Env = append(os.Environ(), "ORDERGATE_ADMIN_TOKEN="+adminToken)
	if dsn != "" {
		cmd.Env = append(cmd.Env, "OG_DSN="+dsn)
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
	delivered := make(map[string]time.Time, n)
	done := make(chan error, 1)
	outbound := filepath.Join(dir, "outbound")
	watching := make(chan error, 1)
	go func() { done <- watch(outbound, n, delivered, timeout, watching) }()
	if err := <-watching; err != nil {
		return err
	}

	start := time.Now()
	busy0, total0, machineErr := proc.MachineCPU()
	self0, selfErr := proc.SelfCPU()
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
	// The measure ends when the order is routed (its delivery
	// queued), which the order's timeline records; the files in
	// outbound/ come after the delivery worker sent them. Nothing polls
	// the gateway during the run: the timelines are read after it.
	cpu, cpuErr := proc.CPUTime(cmd.Process.Pid) // before the API reads below
	rss, rssErr := proc.PeakRSS(cmd.Process.Pid) // likewise: the load's peak
	busy1, total1, err := proc.MachineCPU()
	machineErr = errors.Join(machineErr, err)
	self1, err := proc.SelfCPU()
	selfErr = errors.Join(selfErr, err)
	routed, err := routedTimes(port, n)
	if err != nil {
		return err
	}
	fmt.Printf("files            %d x %d lines (%.1f MB)%s\n", n, lines, float64(bytesIn)/1e6, map[bool]string{true: ", X12 and EDIFACT", false: ", X12"}[edifact])
	if rate > 0 {
		fmt.Printf("offered rate     %.0f files/s (dropped in %s)\n", rate, dropped.Round(time.Millisecond))
	} else {
		fmt.Printf("offered          all at once (dropped in %s)\n", dropped.Round(time.Millisecond))
	}
	for _, m := range []struct {
		name, what string
		at         map[string]time.Time
	}{
		{"routed", "file visible -> order routed, its delivery queued (the order's timeline)", routed},
		{"delivered", "file visible -> order file written by the backend", delivered},
	} {
		lat, last, err := latencies(visible, m.at)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		total := last.Sub(start)
		fmt.Printf("%-16s %d orders in %s: %.0f orders/s (%s)\n", m.name, len(lat), total.Round(time.Millisecond), float64(len(lat))/total.Seconds(), m.what)
		fmt.Printf("  latency        p50 %s  p90 %s  p99 %s  max %s\n",
			proc.Pct(lat, 50), proc.Pct(lat, 90), proc.Pct(lat, 99), lat[len(lat)-1].Round(time.Millisecond))
	}
	if rssErr == nil {
		fmt.Printf("server peak RSS  %s (during the run)\n", rss)
	}
	if rss, err := proc.PeakRSS(cmd.Process.Pid); err == nil {
		fmt.Printf("                 %s (with the API reads of every order's timeline after it)\n", rss)
	}
	if cpuErr == nil {
		fmt.Printf("server CPU       %s user+system, %s per order (less sensitive to other load than wall time)\n",
			cpu.Round(time.Millisecond), (cpu / time.Duration(n)).Round(time.Microsecond))
	}
	if selfErr == nil {
		fmt.Printf("load tool CPU    %s user+system (writing the files, watching the backend's folder)\n", (self1 - self0).Round(time.Millisecond))
	}
	if machineErr == nil && total1 > total0 {
		fmt.Printf("machine busy     %.0f %% of %d cores over the run\n", 100*float64(busy1-busy0)/float64(total1-total0), runtime.NumCPU())
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

// adminToken is the API token the load tool gives the gateway.
const adminToken = "loadgen-0123456789abcdef0123456789abcdef"

// routedTimes reads, after the run, when each order was routed (its
// "routed" timeline event), by PO number: the order list, then each
// order's timeline, four requests at a time.
func routedTimes(port, n int) (map[string]time.Time, error) {
	base := fmt.Sprintf("http://127.0.0.1:%d/api/v1/orders", port)
	type summary struct {
		ID       string `json:"id"`
		PONumber string `json:"po_number"`
	}
	var all []summary
	for cursor := ""; ; {
		var page struct {
			Orders []summary `json:"orders"`
			Next   string    `json:"next_cursor"`
		}
		if err := getJSON(base+"?limit=1000&cursor="+url.QueryEscape(cursor), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Orders...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(all) != n {
		return nil, fmt.Errorf("the API lists %d orders, want %d", len(all), n)
	}
	out := make(map[string]time.Time, n)
	var mu sync.Mutex
	var firstErr error
	next := make(chan summary)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for o := range next {
				var detail struct {
					Timeline []struct {
						At   time.Time `json:"at"`
						Kind string    `json:"kind"`
					} `json:"timeline"`
				}
				err := getJSON(base+"/"+url.PathEscape(o.ID), &detail)
				var at time.Time
				for _, e := range detail.Timeline {
					if e.Kind == "routed" {
						at = e.At
					}
				}
				if err == nil && at.IsZero() {
					err = fmt.Errorf("order %s (PO %s) has no routed event", o.ID, o.PONumber)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[o.PONumber] = at
				mu.Unlock()
			}
		})
	}
	for _, o := range all {
		next <- o
	}
	close(next)
	wg.Wait()
	return out, firstErr
}

func getJSON(u string, v any) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// latencies returns, for every PO in at, the time from the file being
// visible to at, sorted, and the latest at.
func latencies(visible, at map[string]time.Time) ([]time.Duration, time.Time, error) {
	var last time.Time
	lat := make([]time.Duration, 0, len(at))
	for po, t := range at {
		v, ok := visible[po]
		if !ok {
			return nil, last, fmt.Errorf("an unknown PO %s", po)
		}
		lat = append(lat, t.Sub(v))
		if t.After(last) {
			last = t
		}
	}
	if len(lat) == 0 {
		return nil, last, fmt.Errorf("no orders")
	}
	slices.Sort(lat)
	return lat, last, nil
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
// It waits for inotify's events (renames of the backend's .part files)
// rather than listing the folder, and lists it once a second in case
// the kernel's event queue overflowed. It reports on watching once it
// watches.
func watch(dir string, n int, seenAt map[string]time.Time, timeout time.Duration, watching chan<- error) error {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(dir)
	}
	watching <- err
	if err != nil {
		return err
	}
	defer w.Close()
	seen := map[string]bool{}
	record := func(name string, at time.Time) error {
		if seen[name] || strings.HasSuffix(name, ".part") {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil // gone or not yet there: the listing finds it
		}
		po, ok := poNumber(b)
		if !ok {
			return nil
		}
		seen[name] = true
		if _, dup := seenAt[po]; dup {
			return fmt.Errorf("PO %s written twice", po)
		}
		seenAt[po] = at
		return nil
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	list := time.NewTicker(time.Second)
	defer list.Stop()
	for len(seenAt) < n {
		select {
		case ev := <-w.Events:
			if err := record(filepath.Base(ev.Name), time.Now()); err != nil {
				return err
			}
		case err := <-w.Errors:
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return err
			}
		case <-list.C:
			entries, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			now := time.Now()
			for _, e := range entries {
				if err := record(e.Name(), now); err != nil {
					return err
				}
			}
		case <-deadline.C:
			return fmt.Errorf("only %d of %d order files written after %s", len(seenAt), n, timeout)
		}
	}
	return nil
}

// poNumber finds the "po_number" of a canonical order's JSON without
// decoding all of it.
func poNumber(b []byte) (string, bool) {
	const key = `"po_number":"`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
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
