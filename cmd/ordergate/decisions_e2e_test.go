package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
)

// decisionsConfig runs the rules: credit limits and customers from master
// data, contract prices with a tolerance (the EDIFACT partner's prices are
// corrected), notes to the sales rep; the X12 partner answers with 855,
// the EDIFACT partner with ORDRSP; faxes belong to the X12 partner.
const decisionsConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match: {x12: [{qualifier: ZZ, id: BAUMARKTNORD}]}
    acks: {functional: "997", order_response: "855", via: inbox}
    duplicates: hold
  - id: grosshandel
    customer_id: C-2000
    match: {edifact: [{qualifier: "14", id: "4012345000009"}]}
    acks: {functional: none, contrl: always, order_response: ordrsp, via: inbox}
    price_policy: correct
channels:
  - {name: inbox, type: dir, path: ./inbox, outbox: ./outbox, poll: 10ms, min_age: 0s}
  - {name: faxes, type: dir, path: ./faxes, poll: 10ms, min_age: 0s, partner: baumarkt-nord}
rules:
  credit_limit: {enabled: true}
  customers: {enabled: true}
  price_tolerance: "0.5%%"
  price_policy: hold
  notes_to_sales_rep: {enabled: true}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
masterdata:
  load:
    - {kind: customers, file: ./md/customers.csv}
    - {kind: products, file: ./md/products.csv}
    - {kind: prices, file: ./md/prices.csv}
`

const (
	mdCustomers = `number,name,currency,credit_limit,open_balance,payment_terms,blocked,price_list,sales_rep,sales_rep_email,phone,email,ship_to,ship_to_name,ship_to_street,ship_to_city,ship_to_region,ship_to_postal_code,ship_to_country,ship_to_gln
C-1001,Baumarkt Nord,EUR,100.00,90.00,NET30,0,,Anna Schmidt,anna@example.com,,einkauf@baumarkt-nord.example,,,,,,,,
C-2000,Grosshandel Sued,EUR,100000.00,0.00,NET30,0,,Bernd Maier,bernd@example.com,,,,,,,,,,
`
	mdProducts = `sku,description,base_unit,gtin,pack_sizes,min_order_qty
SCR-001,Wood screws,EA,,,
SCR-002,Wood screws,EA,,,
SCR-003,Wood screws,EA,,,
`
	mdPrices = `sku,customer,price_list,min_qty,valid_from,valid_to,price,currency
SCR-001,C-2000,,0,,,1.50,EUR
SCR-001,C-1001,,0,,,2.01,EUR
SCR-002,C-1001,,0,,,3.02,EUR
SCR-003,C-1001,,0,,,4.03,EUR
SCR-002,,,0,,,3.10,EUR
SCR-003,,,0,,,4.10,EUR
`
)

// postAs posts as a gateway user (HTTP Basic, the e2e password).
func (g *gateway) postAs(user, path, body string) (int, []byte) {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.url(path), strings.NewReader(body))
	req.SetBasicAuth(user, e2ePassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func newDecisionsGateway(t *testing.T) (string, *gateway) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.yaml", fmt.Sprintf(decisionsConfig, port))
	write("md/customers.csv", mdCustomers)
	write("md/products.csv", mdProducts)
	write("md/prices.csv", mdPrices)
	for _, d := range []string{"inbox", "faxes", "outbox", "outbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// ann clears the holds of the rules' role approver, fay those of
	// finance, root (an admin) overrides.
	addUser(t, dir, "ann", "approver", "approver")
	addUser(t, dir, "fay", "approver", "finance")
	addUser(t, dir, "root", "admin")
	return dir, start(t, dir, port)
}

// appendConfig adds lines to the channels section of the gateway's config
// (the channels section is the config's last list before rules).
func appendConfig(t *testing.T, dir, channelLines string) {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "rules:\n", channelLines+"rules:\n", 1)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (g *gateway) postJSON(path, body string) (int, []byte) {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.url(path), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// orderByPO waits until the order with the PO number has status want.
func (g *gateway) orderByPO(po, want string) apiOrder {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := g.orders("po_number=" + po)
		for _, o := range seen {
			if o.Status == want {
				return o
			}
		}
		if time.Now().After(deadline) {
			var timelines []string
			for _, o := range seen {
				var v struct {
					Timeline []struct{ Kind, Reason string } `json:"timeline"`
				}
				g.getJSON("/api/v1/orders/"+o.ID, &v)
				timelines = append(timelines, fmt.Sprintf("%s %s: %+v", o.ID, o.Status, v.Timeline))
			}
			g.t.Fatalf("order %s not %s after 30s; seen:\n%s", po, want, strings.Join(timelines, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outboxFile waits for a file in the outbox whose name contains part and
// returns its content.
func outboxFile(t *testing.T, dir, part string) string {
	t.Helper()
	var body []byte
	waitFor(t, 30*time.Second, "an outbox file "+part, func() bool {
		for _, name := range files(t, filepath.Join(dir, "outbox")) {
			if strings.Contains(name, part) {
				b, err := os.ReadFile(filepath.Join(dir, "outbox", name))
				if err == nil {
					body = b
					return true
				}
			}
		}
		return false
	})
	return string(body)
}

// TestDecisionsEndToEnd runs the scenarios through the binary:
// a credit hold released over the API and answered with an 855, a price
// corrected to the contract price and reported in the ORDRSP, the same
// PO by EDI and by fax caught as a duplicate, a note made a task.
func TestDecisionsEndToEnd(t *testing.T) {
	dir, g := newDecisionsGateway(t)

	t.Run("price corrected, ORDRSP", func(t *testing.T) {
		// One line of SCR-001 at 2.01; the contract price is 1.50.
		drop(t, dir, "price.edi", fixtures.EDIFACTOrders(21, "PO-PRICE", 1))
		o := g.orderByPO("PO-PRICE", "delivered")
		var view struct {
			Order struct {
				Lines []struct {
					UnitPrice string `json:"unit_price"`
				} `json:"lines"`
			} `json:"order"`
			Events []struct {
				Kind   string `json:"kind"`
				Reason string `json:"reason"`
			} `json:"events"`
		}
		g.getJSON("/api/v1/orders/"+o.ID, &view)
		if len(view.Order.Lines) != 1 || view.Order.Lines[0].UnitPrice != "1.50" {
			t.Errorf("lines = %+v, want the price corrected to 1.50", view.Order.Lines)
		}
		ordrsp := outboxFile(t, dir, "ORDRSP-"+o.ID)
		for _, seg := range []string{"UNH+", "ORDRSP", "BGM+231+PO-PRICE+4", "LIN+1+3", "PRI+AAA:1.50"} {
			if !strings.Contains(ordrsp, seg) {
				t.Errorf("ORDRSP lacks %s:\n%s", seg, ordrsp)
			}
		}
	})

	t.Run("same PO by EDI and by fax", func(t *testing.T) {
		drop(t, dir, "dup.x12", fixtures.X12850(31, "PO-DUP", 1))
		first := g.orderByPO("PO-DUP", "delivered")
		// The faxed copy: the same order, as capture reads it.
		fax := `{"channel":"fax","source":{"standard":"fax","test":false},"po_number":"PO-DUP","customer_id":"C-1001","currency":"EUR",
			"requested_delivery":"2026-12-15","parties":[{"role":"ship_to","id":"ST-HH-01"}],
			"lines":[{"line_no":"1","quantity":"2","unit":"EA","unit_price":"2.01","sku":"SCR-001"}]}`
		if err := os.WriteFile(filepath.Join(dir, "faxes", "fax-copy.json"), []byte(fax), 0o644); err != nil {
			t.Fatal(err)
		}
		held := g.orderByPO("PO-DUP", "held")
		if held.ID == first.ID {
			t.Fatal("the first order was held, not the copy")
		}
		var appr struct {
			Approvals []struct {
				OrderID string `json:"order_id"`
				Holds   []struct {
					Rule    string            `json:"rule"`
					Numbers map[string]string `json:"numbers"`
				} `json:"holds"`
			} `json:"approvals"`
		}
		g.getJSON("/api/v1/approvals", &appr)
		ok := false
		for _, a := range appr.Approvals {
			if a.OrderID == held.ID && len(a.Holds) == 1 && a.Holds[0].Rule == "duplicate" &&
				a.Holds[0].Numbers["prior_order"] == first.ID && a.Holds[0].Numbers["same_content"] == "true" {
				ok = true
			}
		}
		if !ok {
			t.Errorf("approvals = %+v, want %s held as a duplicate of %s with the same content", appr, held.ID, first.ID)
		}
	})

	t.Run("a note becomes a task", func(t *testing.T) {
		note := `{"channel":"fax","source":{"standard":"fax","test":false},"po_number":"PO-NOTE","customer_id":"C-1001","currency":"EUR",
			"notes":["Bitte vor 8 Uhr liefern, Tor 3"],
			"lines":[{"line_no":"1","quantity":"1","unit":"EA","unit_price":"2.01","sku":"SCR-001"}]}`
		if err := os.WriteFile(filepath.Join(dir, "faxes", "note.json"), []byte(note), 0o644); err != nil {
			t.Fatal(err)
		}
		o := g.orderByPO("PO-NOTE", "delivered")
		var tasks struct {
			Tasks []struct {
				OrderID  string `json:"order_id"`
				Assignee string `json:"assignee"`
				Text     string `json:"text"`
			} `json:"tasks"`
		}
		g.getJSON("/api/v1/tasks?assignee=Anna%20Schmidt", &tasks)
		found := false
		for _, tk := range tasks.Tasks {
			found = found || tk.OrderID == o.ID && strings.Contains(tk.Text, "Tor 3")
		}
		if !found {
			t.Errorf("tasks = %+v, want one for %s with the note", tasks, o.ID)
		}
	})
	// Last: the orders above are open orders of C-1001 now (4.02 + 2.01).
	t.Run("credit limit, approval, 855", func(t *testing.T) {
		// 3 lines: 4.02 + 9.06 + 16.12 = 29.20; 90 + 6.03 + 29.20 > 100.
		drop(t, dir, "credit.x12", fixtures.X12850(11, "PO-CREDIT", 3))
		o := g.orderByPO("PO-CREDIT", "held")
		var appr struct {
			Approvals []struct {
				OrderID string   `json:"order_id"`
				Pending []string `json:"pending_roles"`
				Holds   []struct {
					Rule    string            `json:"rule"`
					Numbers map[string]string `json:"numbers"`
				} `json:"holds"`
			} `json:"approvals"`
		}
		if code := g.getJSON("/api/v1/approvals", &appr); code != 200 {
			t.Fatalf("approvals: %d", code)
		}
		found := false
		for _, a := range appr.Approvals {
			if a.OrderID == o.ID {
				found = len(a.Holds) == 1 && a.Holds[0].Rule == "credit_limit" && a.Holds[0].Numbers["limit"] == "100.00" &&
					a.Holds[0].Numbers["open_balance"] == "90.00" && a.Holds[0].Numbers["order_total"] == "29.20" &&
					a.Holds[0].Numbers["open_orders"] == "6.03"
			}
		}
		if !found {
			t.Fatalf("approvals = %+v, want the credit hold of %s with its numbers", appr, o.ID)
		}
		if names := files(t, filepath.Join(dir, "outbox")); strings.Contains(strings.Join(names, " "), "855-"+o.ID) {
			t.Error("an 855 went out while the order was held")
		}
		// People decide with their own credentials in their own roles:
		// fay (finance) may not clear the approver's hold, ann may.
		if code, body := g.postAs("fay", "/api/v1/orders/"+o.ID+"/approve", `{}`); code != 403 {
			t.Errorf("approve in the wrong role: %d %s, want 403", code, body)
		}
		if code, body := g.postAs("ann", "/api/v1/orders/"+o.ID+"/approve", `{"user":"ann","role":"finance"}`); code != 403 {
			t.Errorf("approve claiming a role ann does not hold: %d %s, want 403", code, body)
		}
		if code, body := g.postJSON("/api/v1/orders/"+o.ID+"/approve", `{"user":"ann","role":"approver"}`); code != 400 {
			t.Errorf("the admin token claiming a role: %d %s, want 400", code, body)
		}
		code, body := g.postAs("ann", "/api/v1/orders/"+o.ID+"/approve", `{"comment":"paid"}`)
		if code != 200 || !strings.Contains(string(body), `"role": "approver"`) {
			t.Fatalf("approve: %d %s", code, body)
		}
		g.orderByPO("PO-CREDIT", "delivered")
		ack := outboxFile(t, dir, "855-"+o.ID)
		for _, seg := range []string{"ST*855*", "BAK*00*AD*PO-CREDIT", "ACK*IA*2*EA", "ACK*IA*3*EA", "ACK*IA*4*EA"} {
			if !strings.Contains(ack, seg) {
				t.Errorf("855 lacks %s:\n%s", seg, ack)
			}
		}
	})

	// An admin clears a hold none of the admin's roles clears (the fax
	// copy held as a duplicate): an override, on the timeline as such.
	t.Run("admin override", func(t *testing.T) {
		held := g.orderByPO("PO-DUP", "held")
		code, body := g.postAs("root", "/api/v1/orders/"+held.ID+"/approve", `{"comment":"a second delivery is wanted"}`)
		if code != 200 || !strings.Contains(string(body), `"override": true`) {
			t.Fatalf("override: %d %s", code, body)
		}
		g.checkOverride(held.ID, "root")
	})

	// The web UI decides with the signed-in user's approval roles too,
	// against the real gateway: fay (finance) cannot clear the duplicate
	// hold, root overrides it.
	t.Run("web UI roles and override", func(t *testing.T) {
		drop(t, dir, "dup2.x12", fixtures.X12850(41, "PO-DUP", 1))
		held := g.orderByPO("PO-DUP", "held")
		if code := g.uiPost(g.uiLogin("fay"), "/approvals/"+held.ID+"/approve"); code != http.StatusForbidden {
			t.Errorf("fay approves in the UI: %d, want 403", code)
		}
		if code := g.uiPost(g.uiLogin("root"), "/approvals/"+held.ID+"/approve"); code != http.StatusSeeOther {
			t.Fatalf("root overrides in the UI: %d, want 303", code)
		}
		g.checkOverride(held.ID, "root")
	})

	t.Run("approver rejects, 855 RD", func(t *testing.T) {
		drop(t, dir, "credit2.x12", fixtures.X12850(51, "PO-CREDIT-2", 3))
		o := g.orderByPO("PO-CREDIT-2", "held")
		code, body := g.postAs("ann", "/api/v1/orders/"+o.ID+"/reject", `{"comment":"no more credit this month"}`)
		if code != 200 || !strings.Contains(string(body), `"status": "rejected"`) {
			t.Fatalf("reject: %d %s", code, body)
		}
		g.orderByPO("PO-CREDIT-2", "rejected")
		ack := outboxFile(t, dir, "855-"+o.ID)
		for _, seg := range []string{"BAK*00*R", "PO-CREDIT-2", "ACK*IR*"} {
			if !strings.Contains(ack, seg) {
				t.Errorf("855 lacks %s:\n%s", seg, ack)
			}
		}
	})

	// The master data import API writes to the gateway's store: the
	// rates arrive, a second post changes nothing, a bad line is named.
	t.Run("import API", func(t *testing.T) {
		csv := "pair,rate,valid_from\nUSD/EUR,0.92,2026-01-01\n"
		code, body := g.postCSV("/api/v1/masterdata/rates", csv)
		if code != 200 || !strings.Contains(string(body), `"inserted": 1`) {
			t.Errorf("import: %d %s", code, body)
		}
		if code, body := g.postCSV("/api/v1/masterdata/rates", csv); code != 200 || !strings.Contains(string(body), `"unchanged": 1`) {
			t.Errorf("import again: %d %s", code, body)
		}
		if code, body := g.postCSV("/api/v1/masterdata/rates", "from,to,rate\nUSD,EUR,0\n"); code != 422 || !strings.Contains(string(body), "not positive") {
			t.Errorf("bad rate: %d %s", code, body)
		}
	})

	// What the rules would decide now on the stored orders, through the
	// binary while the gateway runs: the credit order released above
	// would be held again (the open orders grew), next to its status now.
	t.Run("replay --rules-only", func(t *testing.T) {
		code, out, stderr := runBinary(t, dir, "replay", "--config", "config.yaml", "--rules-only", "--since", "2020-01-01", "--json")
		if code != 0 {
			t.Fatalf("replay: exit %d\n%s\n%s", code, out, stderr)
		}
		found := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var w struct {
				PONumber string `json:"po_number"`
				Now      string `json:"status_now"`
				Outcome  string `json:"outcome"`
				Holds    []struct {
					Rule string `json:"rule"`
				} `json:"holds"`
			}
			if err := json.Unmarshal([]byte(line), &w); err != nil {
				t.Fatalf("replay line %q: %v", line, err)
			}
			rules := ""
			for _, h := range w.Holds {
				rules += " " + h.Rule
			}
			found[w.PONumber+" "+w.Now] = w.Outcome + rules
		}
		if got := found["PO-CREDIT delivered"]; got != "hold credit_limit" {
			t.Errorf("PO-CREDIT: %q, want hold credit_limit; all: %v", got, found)
		}
		if got := found["PO-PRICE delivered"]; got != "accept" {
			t.Errorf("PO-PRICE: %q, want accept; all: %v", got, found)
		}
	})

	if t.Failed() {
		t.Logf("gateway log:\n%s", g.log)
	}
}

// postCSV posts a CSV body with the admin token.
func (g *gateway) postCSV(path, body string) (int, []byte) {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.url(path), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// runBinary runs the ordergate binary in dir and returns its exit status
// and output.
func runBinary(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("running %v: %v", args, err)
	return -1, "", ""
}

// uiLogin signs a user in to the web UI and returns the session cookie.
func (g *gateway) uiLogin(user string) *http.Cookie {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.url("/login"), strings.NewReader(url.Values{"name": {user}, "password": {e2ePassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", g.url(""))
	resp, err := noFollow.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Value != "" {
			return c
		}
	}
	g.t.Fatalf("login of %s: %d, no session cookie", user, resp.StatusCode)
	return nil
}

// uiPost posts an empty same-origin form with the session and returns
// the status.
func (g *gateway) uiPost(c *http.Cookie, path string) int {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.url(path), strings.NewReader("comment=ok"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", g.url(""))
	req.AddCookie(c)
	resp, err := noFollow.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// checkOverride checks that the order's timeline records user's admin
// override of its hold.
func (g *gateway) checkOverride(id, user string) {
	g.t.Helper()
	var view struct {
		Timeline []struct{ Actor, Kind, Reason string } `json:"timeline"`
	}
	g.getJSON("/api/v1/orders/"+id, &view)
	for _, e := range view.Timeline {
		if e.Kind == "approved" && e.Actor == user && strings.Contains(e.Reason, "admin override") {
			return
		}
	}
	g.t.Errorf("timeline of %s %+v lacks %s's override", id, view.Timeline, user)
}

// uiGet reads a page with the session and returns its body (200 or the
// test fails).
func (g *gateway) uiGet(c *http.Cookie, path string) string {
	g.t.Helper()
	req, _ := http.NewRequest("GET", g.url(path), nil)
	req.AddCookie(c)
	resp, err := noFollow.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		g.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return string(b)
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
