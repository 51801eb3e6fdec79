package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ordergate/ordergate/internal/web"
	"github.com/ordergate/ordergate/normalize/order"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for the test and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser tests need Chromium at %s: %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser; its context must not time out.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// tab opens a tab in a browser context of its own (no cookies shared with
// other tabs), limited to 20 seconds.
func tab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 20*time.Second)
	t.Cleanup(cancelT)
	return tctx
}

// artifactDir is where screenshots go: $ORDERGATE_ARTIFACTS or a temp dir.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ORDERGATE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page screenshot as name.png and logs its path.
func shot(t *testing.T, dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", name, err)
		}
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return err
		}
		t.Logf("screenshot: %s", p)
		return nil
	})
}

func loginActions(base, user string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("form.logout")),
	)
}

// run runs the steps and fails the test on error.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// read runs one action that returns a value.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

func TestBrowser(t *testing.T) {
	e := newEnv(t)
	browserCtx := browser(t)
	dir := artifactDir(t)
	base := e.srv.URL

	t.Run("DeskKeysThreeLinePhoneOrder", func(t *testing.T) {
		ctx := tab(t, browserCtx)
		row := func(n int, field string) chromedp.CSS {
			return css(fmt.Sprintf("#lines tbody tr:nth-child(%d) input.%s", n, field))
		}
		run(t, ctx, "choosing the customer",
			loginActions(base, "dora"),
			chromedp.Navigate(base+"/desk"),
			chromedp.WaitVisible(css("#cq")),
			chromedp.SendKeys(css("#cq"), "baumarkt\r"),
			chromedp.WaitVisible(css("a.customer")),
			chromedp.Click(css("a.customer")),
			chromedp.WaitVisible(css("#desk")),
		)
		customer := read(t, ctx, chromedp.Text(css("#customer")))
		if js := read(t, ctx, chromedp.Evaluate[string](`document.documentElement.className`)); js != "js" {
			t.Errorf("the page script did not run (html class %q)", js)
		}
		// Enter adds lines in place (the script); count page loads to
		// tell it from the no-script path, where Enter posts the form.
		run(t, ctx, "marking the page", chromedp.Evaluate[chromedp.Void](`window.__samePage = true`))
		run(t, ctx, "keying three lines",
			chromedp.SendKeys(css("#po"), "TEL-4711"),
			// Line 1 by SKU; Enter adds the next line.
			chromedp.SendKeys(row(1, "item"), "SCR-100"),
			chromedp.SetValue(row(1, "qty"), "10"),
			chromedp.SendKeys(row(1, "qty"), "\r"),
			chromedp.WaitVisible(row(2, "item")),
			// Line 2 by GTIN.
			chromedp.SendKeys(row(2, "item"), "4012345000030"),
			chromedp.SetValue(row(2, "qty"), "2"),
			chromedp.SendKeys(row(2, "qty"), "\r"),
			chromedp.WaitVisible(row(3, "item")),
			// Line 3 by words of the description.
			chromedp.SendKeys(row(3, "item"), "claw hammer"),
			chromedp.SetValue(row(3, "qty"), "5"),
			chromedp.SendKeys(css("#notes"), "Customer asks for a call before delivery"),
			shot(t, dir, "desk-three-lines"),
		)
		if same := read(t, ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
			t.Errorf("Enter reloaded the page; want the script to add the lines in place")
		}
		// The script looks the GTIN up as it is typed (debounced fetch).
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
			`document.querySelector("#lines tbody tr:nth-child(2) td.desc").textContent === "Cordless drill 18V"`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			t.Errorf("line 2 shows no description: the GTIN was not looked up as typed: %v", err)
		}
		run(t, ctx, "submitting",
			chromedp.Click(css("#submit-order")),
			chromedp.WaitVisible(css("#timeline")),
		)
		timeline := read(t, ctx, chromedp.Text(css("#timeline")))
		total := read(t, ctx, chromedp.Text(css("#lines tfoot")))
		run(t, ctx, "opening the orders list",
			shot(t, dir, "desk-order-submitted"),
			chromedp.Navigate(base+"/orders"),
			chromedp.WaitVisible(css("#orders")),
			shot(t, dir, "orders-list"),
		)
		ordersTable := read(t, ctx, chromedp.Text(css("#orders")))

		if !strings.Contains(customer, "C-1000") {
			t.Errorf("desk customer %q, want C-1000", customer)
		}
		if !strings.Contains(ordersTable, "TEL-4711") {
			t.Errorf("orders list lacks the phone order:\n%s", ordersTable)
		}
		if len(e.svc.Submitted) != 1 {
			t.Fatalf("%d orders submitted, want 1", len(e.svc.Submitted))
		}
		o := e.svc.Submitted[0]
		if o.Channel != order.ChannelPhone || o.Source.Standard != "DESK" || o.PONumber != "TEL-4711" || o.CustomerID != "C-1000" {
			t.Errorf("submitted order header: %+v", o)
		}
		var got []string
		for _, l := range o.Lines {
			got = append(got, l.SKU+" x"+l.Quantity.String()+" "+l.Unit+" @"+l.UnitPrice.String())
		}
		want := []string{"SCR-100 x10 BX @12.50", "DRL-550 x2 EA @89.00", "HAM-300 x5 EA @9.80"}
		if !slices.Equal(got, want) {
			t.Errorf("submitted lines %v, want %v", got, want)
		}
		if st := o.Party(order.RoleShipTo); st == nil || st.ID != "ST-HH-01" {
			t.Errorf("ship-to %+v, want the customer's first address", st)
		}
		if len(o.Notes) != 1 || !strings.Contains(o.Notes[0], "call before delivery") {
			t.Errorf("notes %v", o.Notes)
		}
		if !strings.Contains(total, "352.00") { // 125.00 + 178.00 + 49.00
			t.Errorf("order total %q, want 352.00", total)
		}
		if !strings.Contains(timeline, "received by dora") {
			t.Errorf("timeline %q lacks the receipt by dora", timeline)
		}
	})

	t.Run("ApproverApprovesHeldOrder", func(t *testing.T) {
		ctx := tab(t, browserCtx)
		held := e.svc.HeldIDs()
		if len(held) == 0 {
			t.Fatal("no held order in the fake")
		}
		id := held[0]
		sel := "#held-" + id
		run(t, ctx, "opening approvals",
			loginActions(base, "bert"),
			chromedp.Navigate(base+"/approvals"),
			chromedp.WaitVisible(css(sel)),
		)
		figures := read(t, ctx, chromedp.Text(css(sel+" table")))
		run(t, ctx, "approving",
			chromedp.SendKeys(css(sel+" textarea[name=comment]"), "Customer paid the open invoices"),
			shot(t, dir, "approvals-held"),
			chromedp.Click(css(sel+" button.approve")),
			chromedp.WaitVisible(css("p.notice")),
			shot(t, dir, "approvals-approved"),
		)
		after := read(t, ctx, chromedp.Text(css("main")))
		if !strings.Contains(figures, "credit_limit") || !strings.Contains(figures, "exposure") || !strings.Contains(figures, "limit") {
			t.Errorf("hold figures shown: %q", figures)
		}
		if !strings.Contains(after, "Order approved") {
			t.Errorf("after approving: %q", after)
		}
		od, err := e.svc.GetOrder(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if od.Order.Status != order.StatusAccepted {
			t.Errorf("order status %s, want accepted", od.Order.Status)
		}
		last := od.Timeline[len(od.Timeline)-1]
		if last.Kind != "approved" || last.Actor != "bert" || last.Reason != "Customer paid the open invoices" {
			t.Errorf("last timeline event %+v", last)
		}
	})

	t.Run("ReviewCorrectsLowConfidenceFieldOfFax", func(t *testing.T) {
		ctx := tab(t, browserCtx)
		drafts := e.svc.DraftIDs()
		if len(drafts) == 0 {
			t.Fatal("no draft in the fake")
		}
		id := drafts[0] // the fax
		run(t, ctx, "opening the draft",
			loginActions(base, "dora"),
			chromedp.Navigate(base+"/review"),
			chromedp.WaitVisible(css("#drafts")),
			chromedp.Click(css(`a[href="/review/`+id+`"]`)),
			chromedp.WaitVisible(css("#f-lines-0-quantity")),
		)
		lowClass := read(t, ctx, chromedp.AttributeValue(css("#f-lines-0-quantity"), "class"))
		boxCount := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.page rect.box.low").length`))
		lowFields := read(t, ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".field.low input")).map(i => i.name).join(",")`))
		imgOK := read(t, ctx, chromedp.Evaluate[bool](`fetch(document.querySelector("svg.page image").getAttribute("href")).then(r => r.ok && r.headers.get("Content-Type") === "image/png")`, chromedp.EvalAwaitPromise))
		run(t, ctx, "correcting and accepting",
			chromedp.Focus(css("#f-lines-0-quantity")),
			shot(t, dir, "review-fax-draft"),
			chromedp.SetValue(css("#f-lines-0-quantity"), "18"),
			chromedp.SetValue(css("#f-po_number"), "BN-7712"),
			chromedp.Click(css("#accept")),
			chromedp.WaitVisible(css("#timeline")),
			shot(t, dir, "review-accepted-order"),
		)
		timeline := read(t, ctx, chromedp.Text(css("#timeline")))
		if !strings.Contains(lowClass.Value, "low") {
			t.Errorf("line 1 quantity (confidence 0.41) not highlighted: class %q", lowClass.Value)
		}
		if lowFields != "po_number,lines[0].quantity" {
			t.Errorf("highlighted fields %q, want po_number,lines[0].quantity", lowFields)
		}
		if boxCount != 2 {
			t.Errorf("%d low-confidence boxes drawn on the page, want 2", boxCount)
		}
		if !imgOK {
			t.Errorf("the page image did not load as PNG")
		}
		if !strings.Contains(timeline, "reviewed by dora") || !strings.Contains(timeline, "lines[0].quantity") || !strings.Contains(timeline, `"new":"18"`) {
			t.Errorf("timeline lacks the correction:\n%s", timeline)
		}
		if slices.Contains(e.svc.DraftIDs(), id) {
			t.Errorf("draft %s still in the review queue", id)
		}
		list, _ := e.svc.ListOrders(context.Background(), web.OrderFilter{Query: "BN-7712"})
		if len(list.Orders) != 1 {
			t.Fatalf("orders with the corrected PO: %d, want 1", len(list.Orders))
		}
		od, _ := e.svc.GetOrder(context.Background(), list.Orders[0].ID)
		if q := od.Order.Lines[0].Quantity.String(); q != "18" {
			t.Errorf("accepted quantity %s, want 18", q)
		}
		if c := od.Order.Confidence["lines[0].quantity"]; c != 1 {
			t.Errorf("confidence of the corrected field %v, want 1", c)
		}
	})

	got := e.auditActions(t)
	for _, want := range []string{"dora desk.submit", "bert order.approve", "dora draft.accept"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("audit log lacks %q", want)
		}
	}
}
