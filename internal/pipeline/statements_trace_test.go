//go:build sqlite_trace

package pipeline_test

import (
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// statementCounter counts the SQL statements SQLite runs in write
// transactions (those between a BEGIN and its COMMIT on one connection
// that change something), by statement and by the kind of transaction
// (its first statement).
type statementCounter struct {
	mu     sync.Mutex
	open   map[uintptr][]string // statements of the open transaction per connection
	stmts  map[string]int       // statement -> count
	kinds  map[string]int       // first statement -> statements in such transactions
	writes int                  // statements in write transactions, BEGIN and COMMIT included
	nanos  map[string]int64     // statement -> SQLite's run time, every statement
	runs   map[string]int       // statement -> runs, every statement
	sqlOf  map[uintptr]string   // statement handle -> its SQL, from its last TraceStmt
}

var (
	sqlWords      = regexp.MustCompile(`\s+`)
	sqlSavepoints = regexp.MustCompile(`(sqliteq_[a-z]+)[0-9]+`)
)

func (c *statementCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stmts, c.kinds, c.writes = map[string]int{}, map[string]int{}, 0
	c.nanos, c.runs, c.sqlOf = map[string]int64{}, map[string]int{}, map[uintptr]string{}
}

func (c *statementCounter) trace(info sqlite3.TraceInfo) int {
	if info.EventCode != sqlite3.TraceStmt && info.EventCode != sqlite3.TraceProfile || strings.HasPrefix(info.StmtOrTrigger, "--") {
		return 0
	}
	s := sqlWords.ReplaceAllString(strings.TrimSpace(info.StmtOrTrigger), " ")
	s = sqlSavepoints.ReplaceAllString(s, "${1}N")
	if len(s) > 100 {
		s = s[:60] + "..." + s[len(s)-90:]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if info.EventCode == sqlite3.TraceProfile {
		s = c.sqlOf[info.StmtHandle]
		c.nanos[s] += info.RunTimeNanosec
		c.runs[s]++
		return 0
	}
	c.sqlOf[info.StmtHandle] = s
	upper := strings.ToUpper(s)
	switch {
	case strings.HasPrefix(upper, "BEGIN"):
		c.open[info.ConnHandle] = []string{}
	case strings.HasPrefix(upper, "COMMIT") || strings.HasPrefix(upper, "ROLLBACK"):
		stmts, ok := c.open[info.ConnHandle]
		delete(c.open, info.ConnHandle)
		wrote := false
		for _, st := range stmts {
			u := strings.ToUpper(st)
			wrote = wrote || strings.HasPrefix(u, "INSERT") || strings.HasPrefix(u, "UPDATE") || strings.HasPrefix(u, "DELETE")
		}
		if !ok || !wrote {
			return 0
		}
		c.writes += len(stmts) + 2
		c.kinds[stmts[0]] += len(stmts) + 2
		for _, st := range stmts {
			c.stmts[st]++
		}
	default:
		if stmts, ok := c.open[info.ConnHandle]; ok {
			c.open[info.ConnHandle] = append(stmts, s)
		}
	}
	return 0
}

// report logs the counts per order, largest first.
func (c *statementCounter) report(t *testing.T, orders int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := func(m map[string]int) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "\n\t%6.2f  %s", float64(m[k])/float64(orders), k)
		}
		return b.String()
	}
	t.Logf("statements per order by kind of write transaction (its first statement):%s", lines(c.kinds))
	t.Logf("statements per order in write transactions:%s", lines(c.stmts))
	t.Logf("%d orders: %d statements in write transactions, BEGIN and COMMIT included: %.1f per order", orders, c.writes, float64(c.writes)/float64(orders))
	keys := make([]string, 0, len(c.nanos))
	var total int64
	for k, v := range c.nanos {
		keys = append(keys, k)
		total += v
	}
	sort.Slice(keys, func(i, j int) bool { return c.nanos[keys[i]] > c.nanos[keys[j]] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n\t%8.1f µs %6.2f runs  %s", float64(c.nanos[k])/1e3/float64(orders), float64(c.runs[k])/float64(orders), k)
	}
	t.Logf("SQLite's run time per order by statement (every statement), %.1f µs in all:%s", float64(total)/1e3/float64(orders), b.String())
}

// TestStatementsPerOrder reports the statements SQLite runs per 30-line
// X12 order, intake to delivery, by kind of write transaction. It needs
// the sqlite_trace build tag:
//
//	go test -tags sqlite_trace -run StatementsPerOrder -v ./internal/pipeline/
func TestStatementsPerOrder(t *testing.T) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	drv := db.Driver().(*sqlite3.SQLiteDriver)
	db.Close()
	c := &statementCounter{open: map[uintptr][]string{}}
	c.reset()
	drv.ConnectHook = func(conn *sqlite3.SQLiteConn) error {
		return conn.SetTrace(&sqlite3.TraceConfig{Callback: c.trace, EventMask: sqlite3.TraceStmt | sqlite3.TraceProfile})
	}
	defer func() { drv.ConnectHook = nil }()

	t.Run("sqlite", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		const n = 300
		c.reset()
		for i := range n {
			h.src.push(fmt.Sprintf("f%03d", i), fixtures.X12850(1000+i, fmt.Sprintf("PO-%04d", i), 30))
		}
		h.eventually(fmt.Sprintf("%d orders delivered", n), func() (bool, string) {
			page, err := h.st.ListOrders(h.ctx, store.OrderFilter{Status: order.StatusDelivered}, "", 1000)
			if err != nil {
				return false, err.Error()
			}
			return len(page.Orders) == n, fmt.Sprintf("%d delivered", len(page.Orders))
		})
		c.report(t, n)
	})
}
