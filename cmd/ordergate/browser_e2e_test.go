package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ordergate/ordergate/internal/fixtures"
)

const e2ePassword = "correct horse battery staple"

// addUser runs `ordergate user add` with the password on stdin and,
// when given, the approval roles (comma-separated) the user decides in.
func addUser(t *testing.T, dir, name, role string, approvalRoles ...string) {
	t.Helper()
	args := []string{"user", "--config", "config.yaml", "add", name, "--role", role}
	if len(approvalRoles) > 0 {
		args = append(args, "--approval-roles", strings.Join(approvalRoles, ","))
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(e2ePassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add %s: %v\n%s", name, err, out)
	}
}

// TestBrowserEndToEnd drives the real gateway's web UI in Chromium: a
// desk user keys a three-line phone order and finds it in the orders
// list, an approver releases an order the credit rule held, and a desk
// user corrects a low-confidence field of a fax draft and accepts it;
// each order then goes on through the pipeline to the backend.
func TestBrowserEndToEnd(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser tests need Chromium at %s: %v", chromium, err)
	}
	dir, g := newDecisionsGateway(t)
	g.kill() // users are added with the gateway stopped, then it starts again
	addUser(t, dir, "dora", "desk")
	addUser(t, dir, "bert", "approver", "approver")
	addUser(t, dir, "bernd", "desk")
	g = start(t, dir, g.port)
	base := g.url("")
	shots := t.TempDir()
	if d := os.Getenv("ORDERGATE_ARTIFACTS"); d != "" {
		shots = filepath.Join(d, "e2e")
		_ = os.MkdirAll(shots, 0o755)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(90)(ctx, tg)
			if err != nil {
				return err
			}
			p := filepath.Join(shots, name+".png")
			t.Logf("screenshot: %s", p)
			return os.WriteFile(p, buf, 0o644)
		})
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[int]("1")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	tab := func() context.Context {
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		tctx, cancelT := context.WithTimeout(ctx, 45*time.Second)
		t.Cleanup(cancelT)
		return tctx
	}
	run := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("browser: %s: %v\n%s", what, err, g.log)
		}
	}
	text := func(ctx context.Context, sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return v
	}
	login := func(user string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), user),
			chromedp.SendKeys(chromedp.CSS("#password"), e2ePassword),
			chromedp.Click(chromedp.CSS("#signin")),
			chromedp.WaitVisible(chromedp.CSS("form.logout")),
		)
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	t.Run("desk keys a three-line phone order", func(t *testing.T) {
		ctx := tab()
		row := func(n int, field string) chromedp.CSS {
			return css(fmt.Sprintf("#lines tbody tr:nth-child(%d) input.%s", n, field))
		}
		run(ctx, "keying the order",
			login("dora"),
			chromedp.Navigate(base+"/desk"),
			chromedp.WaitVisible(css("#cq")),
			chromedp.SendKeys(css("#cq"), "Grosshandel\r"),
			chromedp.WaitVisible(css("a.customer")),
			chromedp.Click(css("a.customer")),
			chromedp.WaitVisible(css("#desk")),
			chromedp.SendKeys(css("#po"), "TEL-0815"),
			chromedp.SendKeys(row(1, "item"), "SCR-001"),
			chromedp.SetValue(row(1, "qty"), "10"),
			chromedp.SendKeys(row(1, "qty"), "\r"),
			chromedp.WaitVisible(row(2, "item")),
			chromedp.SendKeys(row(2, "item"), "SCR-002"),
			chromedp.SetValue(row(2, "qty"), "2"),
			chromedp.SendKeys(row(2, "qty"), "\r"),
			chromedp.WaitVisible(row(3, "item")),
			chromedp.SendKeys(row(3, "item"), "SCR-003"),
			chromedp.SetValue(row(3, "qty"), "5"),
			shot("e2e-desk"),
			chromedp.Click(css("#submit-order")),
			chromedp.WaitVisible(css("#timeline")),
		)
		o := g.orderByPO("TEL-0815", "delivered")
		run(ctx, "the orders list",
			chromedp.Navigate(base+"/orders"),
			chromedp.WaitVisible(css("#orders")),
			shot("e2e-orders"),
		)
		if list := text(ctx, "#orders"); !strings.Contains(list, "TEL-0815") {
			t.Errorf("orders list lacks TEL-0815:\n%s", list)
		}
		var view struct {
			Order struct {
				Channel string `json:"channel"`
				Lines   []struct {
					SKU      string `json:"sku"`
					Quantity string `json:"quantity"`
				} `json:"lines"`
			} `json:"order"`
		}
		g.getJSON("/api/v1/orders/"+o.ID, &view)
		if view.Order.Channel != "phone" || len(view.Order.Lines) != 3 || view.Order.Lines[2].SKU != "SCR-003" || view.Order.Lines[2].Quantity != "5" {
			t.Errorf("stored phone order = %+v", view.Order)
		}
	})

	t.Run("approver releases a held order", func(t *testing.T) {
		// 3 lines, 29.20 EUR: C-1001 is at 90 of 100 (and has the phone
		// order of C-2000 nothing to do with it).
		drop(t, dir, "credit.x12", fixtures.X12850(41, "PO-UI-CREDIT", 3))
		o := g.orderByPO("PO-UI-CREDIT", "held")
		ctx := tab()
		sel := "#held-" + o.ID
		run(ctx, "approving",
			login("bert"),
			chromedp.Navigate(base+"/approvals"),
			chromedp.WaitVisible(css(sel)),
			shot("e2e-approvals"),
		)
		if figures := text(ctx, sel); !strings.Contains(figures, "credit_limit") || !strings.Contains(figures, "100.00") {
			t.Errorf("held order shows %q, want the credit rule and the limit", figures)
		}
		run(ctx, "approving",
			chromedp.SendKeys(css(sel+" textarea[name=comment]"), "paid"),
			chromedp.Click(css(sel+" button.approve")),
			chromedp.WaitVisible(css("p.notice")),
		)
		g.orderByPO("PO-UI-CREDIT", "delivered")
	})

	t.Run("desk corrects a fax draft", func(t *testing.T) {
		draft := `{"channel":"fax","status":"review","source":{"standard":"fax","test":false},"po_number":"FX-77","customer_id":"C-2000",
			"currency":"EUR","lines":[{"line_no":"1","quantity":"8","unit":"EA","unit_price":"1.50","sku":"SCR-001"}],
			"confidence":{"po_number":0.97,"lines[0].quantity":0.41,"lines[0].sku":0.95},
			"boxes":{"lines[0].quantity":{"page":1,"x":100,"y":400,"w":40,"h":20}}}`
		if err := os.WriteFile(filepath.Join(dir, "faxes", "draft.json"), []byte(draft), 0o644); err != nil {
			t.Fatal(err)
		}
		o := g.orderByPO("FX-77", "review")
		ctx := tab()
		run(ctx, "opening the draft",
			login("dora"),
			chromedp.Navigate(base+"/review"),
			chromedp.WaitVisible(css("#drafts")),
			chromedp.Click(css(`a[href="/review/`+o.ID+`"]`)),
			chromedp.WaitVisible(css("#f-lines-0-quantity")),
			shot("e2e-review"),
		)
		class, err := chromedp.Run(ctx, chromedp.AttributeValue(css("#f-lines-0-quantity"), "class"))
		if err != nil || !strings.Contains(class.Value, "low") {
			t.Errorf("the low-confidence quantity is not highlighted: %q %v", class.Value, err)
		}
		run(ctx, "correcting and accepting",
			chromedp.SetValue(css("#f-lines-0-quantity"), "18"),
			chromedp.Click(css("#accept")),
			chromedp.WaitVisible(css("#timeline")),
			shot("e2e-review-accepted"),
		)
		g.orderByPO("FX-77", "delivered")
		var view struct {
			Order struct {
				Lines []struct {
					Quantity string `json:"quantity"`
				} `json:"lines"`
			} `json:"order"`
			Events []struct { // the timeline
				Kind  string `json:"kind"`
				Actor string `json:"actor"`
			} `json:"timeline"`
		}
		g.getJSON("/api/v1/orders/"+o.ID, &view)
		if len(view.Order.Lines) != 1 || view.Order.Lines[0].Quantity != "18" {
			t.Errorf("accepted order lines = %+v, want the quantity corrected to 18", view.Order.Lines)
		}
		reviewed := false
		for _, e := range view.Events {
			reviewed = reviewed || e.Kind == "review_accepted" && e.Actor == "dora"
		}
		if !reviewed {
			t.Errorf("timeline %+v lacks dora's review", view.Events)
		}
		// Per-field accuracy after review, in the metrics: a fax counts
		// under its customer (no fax number in a file draft).
		resp, err := http.Get(g.url("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`ordergate_reviewed_fields_total{field="lines.quantity",outcome="corrected",sender="fax:customer:C-2000"} 1`,
			`ordergate_reviewed_fields_total{field="po_number",outcome="correct",sender="fax:customer:C-2000"} 1`} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("sales rep marks a task done", func(t *testing.T) {
		// A faxed note for C-2000, whose sales rep is Bernd Maier
		// (bernd@example.com): the user bernd sees it on the tasks page.
		note := `{"channel":"fax","source":{"standard":"fax","test":false},"po_number":"FX-NOTE","customer_id":"C-2000","currency":"EUR",
			"notes":["Bitte Lieferschein doppelt"],"lines":[{"line_no":"1","quantity":"1","unit":"EA","unit_price":"1.50","sku":"SCR-001"}]}`
		if err := os.WriteFile(filepath.Join(dir, "faxes", "note.json"), []byte(note), 0o644); err != nil {
			t.Fatal(err)
		}
		g.orderByPO("FX-NOTE", "delivered")
		ctx := tab()
		run(ctx, "the tasks page",
			login("bernd"),
			chromedp.Click(css(`nav a[href="/tasks"]`)),
			chromedp.WaitVisible(css("#tasks")),
			shot("e2e-tasks"),
		)
		if list := text(ctx, "#tasks"); !strings.Contains(list, "Bitte Lieferschein doppelt") {
			t.Fatalf("tasks page lacks the note:\n%s", list)
		}
		run(ctx, "marking it done",
			chromedp.Click(css("#tasks button")),
			chromedp.WaitVisible(css("#no-tasks")),
		)
		var tasks struct {
			Tasks []struct{ Text string } `json:"tasks"`
		}
		g.getJSON("/api/v1/tasks", &tasks)
		for _, tk := range tasks.Tasks {
			if strings.Contains(tk.Text, "Lieferschein") {
				t.Errorf("the task is still open: %+v", tasks)
			}
		}
	})
}
