// Package proc holds what the load tools and the end-to-end benchmarks
// share: a process's CPU time and peak RSS from /proc, a free loopback
// port, waiting for a gateway's /readyz, and latency percentiles.
package proc
