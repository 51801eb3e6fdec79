package proc

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		in   []time.Duration
		p    int
		want time.Duration
	}{
		{nil, 99, 0},
		{ms(5), 50, 5 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 100, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Pct(tt.in, tt.p); got != tt.want {
			t.Errorf("Pct(%v, %d) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestOwnProcess(t *testing.T) {
	pid := os.Getpid()
	end := time.Now().Add(150 * time.Millisecond)
	for time.Now().Before(end) { // burn some CPU so the count is above 0
	}
	cpu, err := CPUTime(pid)
	if err != nil || cpu <= 0 {
		t.Errorf("CPUTime = %v, %v; want > 0", cpu, err)
	}
	rss, err := PeakRSS(pid)
	if err != nil || !strings.HasSuffix(rss, "kB") {
		t.Errorf("PeakRSS = %q, %v; want a kB figure", rss, err)
	}
	if _, err := CPUTime(-1); err == nil {
		t.Error("CPUTime of no process: no error")
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\nc", 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("a", 5); got != "a" {
		t.Errorf("Tail = %q", got)
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	for range 50 {
		ports, err := FreePorts(4)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, p := range ports {
			if p <= 0 || seen[p] {
				t.Fatalf("ports %v: not distinct positive ports", ports)
			}
			seen[p] = true
		}
	}
}
