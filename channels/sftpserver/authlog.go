package sftpserver

import (
	"sync"
	"time"
)

// maxAuthLogHosts bounds the remote hosts remembered for throttling.
const maxAuthLogHosts = 4096

// authLog throttles the logging of authentication failures: at most one
// line per remote host and interval, reporting how many were suppressed
// since the last one.
type authLog struct {
	interval time.Duration

	mu    sync.Mutex
	hosts map[string]*authHost
}

type authHost struct {
	last       time.Time // when a failure was last logged
	suppressed int
}

func newAuthLog(interval time.Duration) *authLog {
	return &authLog{interval: interval, hosts: map[string]*authHost{}}
}

// allow reports whether a failure from host at now is to be logged, and
// how many failures from it were suppressed since the last logged one.
func (a *authLog) allow(host string, now time.Time) (suppressed int, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[host]
	if h != nil && now.Sub(h.last) < a.interval {
		h.suppressed++
		return 0, false
	}
	if h == nil {
		if len(a.hosts) >= maxAuthLogHosts {
			a.prune(now)
		}
		h = &authHost{}
		a.hosts[host] = h
	}
	suppressed, h.suppressed, h.last = h.suppressed, 0, now
	return suppressed, true
}

// prune forgets hosts whose interval is over; if none is, it forgets all
// (a flood from many hosts is then logged once more per host).
func (a *authLog) prune(now time.Time) {
	for host, h := range a.hosts {
		if now.Sub(h.last) >= a.interval {
			delete(a.hosts, host)
		}
	}
	if len(a.hosts) >= maxAuthLogHosts {
		clear(a.hosts)
	}
}
