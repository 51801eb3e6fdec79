package proc

import (
	"testing"
	"time"
)

func TestCPULine(t *testing.T) {
	tests := []struct {
		name        string
		line        string
		busy, total time.Duration
		wantErr     bool
	}{
		{"idle and iowait are not busy", "cpu  100 0 50 800 50 0 0 0 0 0", 150 * 10 * time.Millisecond, 1000 * 10 * time.Millisecond, false},
		{"guest time is in user already", "cpu  100 0 0 100 0 0 0 0 70 30", 100 * 10 * time.Millisecond, 200 * 10 * time.Millisecond, false},
		{"irq, softirq and steal are busy", "cpu  0 0 0 10 0 1 2 3", 6 * 10 * time.Millisecond, 16 * 10 * time.Millisecond, false},
		{"older kernels: five fields", "cpu 1 2 3 4", 6 * 10 * time.Millisecond, 10 * 10 * time.Millisecond, false},
		{"not the cpu line", "intr 1 2 3 4 5", 0, 0, true},
		{"not a number", "cpu 1 x 3 4 5", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy, total, err := cpuLine(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if busy != tt.busy || total != tt.total {
				t.Errorf("busy, total = %v, %v; want %v, %v", busy, total, tt.busy, tt.total)
			}
		})
	}
}
