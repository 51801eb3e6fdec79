// Command apiload measures the order API end to end under a fixed offered
// load: it starts `ordergate serve` on a fresh data directory with one web
// channel and a filedrop backend, creates an API key, and posts orders at
// -rate per second for -duration (open loop: each request has a scheduled
// send time, and its latency runs from that time to the 202, so a slow
// answer delays the requests behind it and shows in the percentiles
// instead of lowering the offered rate). While it posts, it counts the
// orders the stages have routed (files in the backend's folder); after
// it, it waits until every accepted order is routed. It reports the
// answered rate, the latency percentiles, the routed rate during the load
// and the time the stages needed to drain the backlog, the server's CPU
// per order and its peak RSS.
//
//	go build -o /tmp/ordergate ./cmd/ordergate
//	go run ./internal/tools/apiload -bin /tmp/ordergate -rate 500 -duration 30s
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ordergate/ordergate/internal/proc"
)

const config = `store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive%s}
http: {listen: "127.0.0.1:%d"}
log: {level: warn}
channels:
  - {name: shop, type: web}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
%s`

type options struct {
	bin      string
	rate     float64
	duration time.Duration
	lines    int
	clients  int
	archive  string
	batch    int
	keep     bool
	drain    time.Duration
	p99      time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "ordergate", "the ordergate `binary`")
	flag.Float64Var(&o.rate, "rate", 500, "orders offered per second")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to offer them")
	flag.IntVar(&o.lines, "lines", 1, "lines per order")
	flag.IntVar(&o.clients, "clients", 64, "most requests in flight at once")
	flag.StringVar(&o.archive, "archive", "", "store.archive of the gateway (files or database; empty: the default)")
	flag.IntVar(&o.batch, "batch", 0, "pipeline.batch_size of the gateway (0: the default)")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.DurationVar(&o.drain, "drain", 5*time.Minute, "how long to wait for the stages to route every accepted order")
	flag.DurationVar(&o.p99, "p99", 100*time.Millisecond, "the latency bar the verdict checks")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(1)
	}
}

type gateway struct {
	dir  string
	port int
	key  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func startGateway(o options) (*gateway, error) {
	dir, err := os.MkdirTemp("", "apiload")
	if err != nil {
		return nil, err
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	g := &gateway{dir: dir, port: port, log: &bytes.Buffer{}}
	archive := ""
	if o.archive != "" {
		archive = ", archive: " + o.archive
	}
	pipeline := ""
	if o.batch > 0 {
		pipeline = fmt.Sprintf("pipeline: {batch_size: %d}\n", o.batch)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), fmt.Appendf(nil, config, archive, port, pipeline), 0o644); err != nil {
		return g, err
	}
	keyCmd := exec.Command(o.bin, "apikey", "--config", "config.yaml", "create", "C-1")
	keyCmd.Dir = dir
	out, err := keyCmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return g, fmt.Errorf("apikey create: %w: %s", err, ee.Stderr)
		}
		return g, fmt.Errorf("apikey create: %w", err)
	}
	g.key = strings.TrimSpace(string(out))
	g.cmd = exec.Command(o.bin, "serve", "--config", "config.yaml")
	g.cmd.Dir, g.cmd.Stdout, g.cmd.Stderr = dir, g.log, g.log
	// The server dies with the load tool, however that ends.
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := g.cmd.Start(); err != nil {
		return g, err
	}
	if err := proc.WaitReady(port, 30*time.Second); err != nil {
		return g, fmt.Errorf("%w\n%s", err, g.log.String())
	}
	return g, nil
}

func (g *gateway) stop() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		_ = g.cmd.Wait()
	}
}

// routed counts the order files the backend has written.
func (g *gateway) routed() int {
	entries, err := os.ReadDir(filepath.Join(g.dir, "outbound"))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".part") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

func orderBody(i, lines int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"po_number":"API-%07d","lines":[`, i)
	for l := range lines {
		if l > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"line_no":"%d","quantity":"%d","unit":"EA","unit_price":"%d.50","sku":"SKU-%04d"}`, l+1, 1+l%7, 1+l%40, l)
	}
	b.WriteString("]}")
	return b.Bytes()
}

type sample struct {
	lat    time.Duration
	status int
	err    error
}

func run(o options) error {
	if o.rate <= 0 || o.duration <= 0 || o.clients <= 0 || o.lines <= 0 {
		return errors.New("-rate, -duration, -clients and -lines must be positive")
	}
	g, err := startGateway(o)
	if g != nil {
		defer func() {
			g.stop()
			if o.keep {
				fmt.Println("working directory:", g.dir)
			} else {
				os.RemoveAll(g.dir)
			}
		}()
	}
	if err != nil {
		return err
	}
	n := int(o.rate * o.duration.Seconds())
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = orderBody(i, o.lines)
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients},
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v1/orders", g.port)
	cpu0, _ := proc.CPUTime(g.cmd.Process.Pid)

	type job struct {
		i  int
		at time.Time
	}
	jobs := make(chan job, n)
	samples := make([]sample, n)
	var answered atomic.Int64
	var wg sync.WaitGroup
	for range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if d := time.Until(j.at); d > 0 {
					time.Sleep(d)
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[j.i]))
				req.Header.Set("Authorization", "Bearer "+g.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				s := sample{err: err}
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					s.status = resp.StatusCode
				}
				s.lat = time.Since(j.at)
				samples[j.i] = s
				answered.Add(1)
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / o.rate)
	start := time.Now()
	for i := range n {
		jobs <- job{i, start.Add(time.Duration(i) * interval)}
	}
	close(jobs)
	wg.Wait()
	loadEnd := time.Now()
	routedAtEnd := g.routed()

	var lat []time.Duration
	accepted, failed := 0, 0
	var firstErr string
	for _, s := range samples {
		if s.err == nil && s.status == http.StatusAccepted {
			accepted++
			lat = append(lat, s.lat)
			continue
		}
		failed++
		if firstErr == "" {
			if s.err != nil {
				firstErr = s.err.Error()
			} else {
				firstErr = fmt.Sprintf("status %d", s.status)
			}
		}
	}
	slices.Sort(lat)
	loadTook := loadEnd.Sub(start)

	// Drain: every accepted order routed.
	deadline := time.Now().Add(o.drain)
	routed := g.routed()
	for routed < accepted && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		routed = g.routed()
	}
	drained := time.Now()
	cpu1, _ := proc.CPUTime(g.cmd.Process.Pid)

	fmt.Printf("offered          %.0f orders/s for %s (%d orders of %d line(s), at most %d in flight)\n", o.rate, o.duration, n, o.lines, o.clients)
	fmt.Printf("answered         %d with 202, %d failed%s: %.1f orders/s over %s\n", accepted, failed, errNote(firstErr), float64(accepted)/loadTook.Seconds(), loadTook.Round(time.Millisecond))
	if len(lat) > 0 {
		fmt.Printf("latency          p50 %s  p90 %s  p99 %s  max %s (scheduled send -> 202)\n",
			proc.Pct(lat, 50), proc.Pct(lat, 90), proc.Pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond))
	}
	fmt.Printf("routed           %d during the load (%.1f orders/s); ", routedAtEnd, float64(routedAtEnd)/loadTook.Seconds())
	if routed >= accepted {
		fmt.Printf("all %d %s after it ended (%.1f orders/s from the first post to the last routed)\n",
			accepted, drained.Sub(loadEnd).Round(time.Millisecond), float64(accepted)/drained.Sub(start).Seconds())
	} else {
		fmt.Printf("only %d of %d after waiting %s\n", routed, accepted, o.drain)
	}
	if rss, err := proc.PeakRSS(g.cmd.Process.Pid); err == nil {
		fmt.Printf("server peak RSS  %s\n", rss)
	}
	if accepted > 0 {
		fmt.Printf("server CPU       %s user+system, %s per order\n", (cpu1 - cpu0).Round(time.Millisecond), ((cpu1 - cpu0) / time.Duration(accepted)).Round(time.Microsecond))
	}
	intakeOK := failed == 0 && float64(accepted)/loadTook.Seconds() >= 0.98*o.rate && len(lat) > 0 && proc.Pct(lat, 99) < o.p99
	stagesOK := float64(routedAtEnd) >= 0.95*float64(accepted)
	fmt.Printf("verdict          intake at %.0f/s with p99 < %s: %s; stages kept up during the load (>= 95%% routed by its end): %s\n",
		o.rate, o.p99, yesNo(intakeOK), yesNo(stagesOK))
	if routed < accepted {
		return fmt.Errorf("%d accepted orders not routed\n%s", accepted-routed, proc.Tail(g.log.String(), 40))
	}
	return nil
}

func errNote(first string) string {
	if first == "" {
		return ""
	}
	return " (first: " + first + ")"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
