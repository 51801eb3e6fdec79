package main

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

// kondition is an order mail whose table titles the unit price
// "Kondition", a title capture does not know.
func kondition(po, p1, p2 string) string {
	return fmt.Sprintf("Guten Tag,\n\nBestellnummer: %s\nDatum: 18.11.2026\n\n"+
		"Artikel      Bezeichnung          Menge    Kondition\n"+
		"SCR-100      Holzschrauben          500    %s\n"+
		"HAM-200      Hammer                   2    %s\n\nGruss\nEinkauf\n", po, p1, p2)
}

func textMail(from, subject, body string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: orders@toolsupply.example\r\nSubject: %s\r\nMessage-ID: <%s@learn.test>\r\n"+
		"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
		from, subject, strings.ReplaceAll(subject, " ", "-"), strings.ReplaceAll(body, "\n", "\r\n")))
}

// TestCaptureLearnsFromReview: two order mails of a sender are captured
// by the running gateway into drafts without unit prices (the column's
// title is unknown); a desk user corrects the prices in the web review
// and accepts; `ordergate capture propose` learns a column hint from
// those corrections, and `ordergate parse --template` with the proposed
// profile reads the prices of a third mail. Without corrections propose
// prints nothing and exits 1.
func TestCaptureLearnsFromReview(t *testing.T) {
	dv := dovecot.Start(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(imapConfig, port, dv.IMAPPort, dv.User)
	for name, body := range map[string][]byte{"config.yaml": []byte(cfg), "ca.pem": dv.CACertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	addUser(t, dir, "dora", "desk")
	prices := map[string][2]string{"PO-7001": {"0,09", "12,50"}, "PO-7002": {"0,08", "11,50"}}
	for po, p := range prices {
		dv.Deliver(textMail("einkauf@baumarkt-nord.de", "Bestellung "+po, kondition(po, p[0], p[1])))
	}
	g := start(t, dir, port, "OG_TEST_IMAP_PASSWORD="+dv.Password)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", g.log)
		}
	})
	var drafts []apiOrder
	waitFor(t, time.Minute, "two drafts in review", func() bool {
		drafts = g.orders("status=review")
		return len(drafts) == 2
	})

	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := web.PostForm(g.url(path), form)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("/login", url.Values{"name": {"dora"}, "password": {e2ePassword}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	for _, d := range drafts {
		p := prices[d.PONumber]
		form := url.Values{"lines[0].unit_price": {strings.Replace(p[0], ",", ".", 1)}, "lines[1].unit_price": {strings.Replace(p[1], ",", ".", 1)}}
		resp := post("/review/"+d.ID+"/accept", form)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/orders/") {
			t.Fatalf("accepting %s (%s): status %d, location %q", d.ID, d.PONumber, resp.StatusCode, loc)
		}
	}
	waitFor(t, 30*time.Second, "the reviewed orders delivered", func() bool { return len(g.orders("status=delivered")) == 2 })

	propose := func(sender string) (int, string, string) {
		cmd := exec.Command(binary, "capture", "propose", "--config", "config.yaml", "--sender", sender, "baumarkt")
		cmd.Dir = dir
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := propose("nobody.example"); code != 1 || out != "" || !strings.Contains(errOut, "no reviewer corrections") {
		t.Errorf("propose without corrections: exit %d, stdout %q, stderr %q; want 1, nothing, the reason", code, out, errOut)
	}
	code, profile, errOut := propose("baumarkt-nord.de")
	if code != 0 || !strings.Contains(profile, "Kondition") || !strings.Contains(profile, "columns:") {
		t.Fatalf("propose: exit %d, stderr %q, profile:\n%s", code, errOut, profile)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles.yaml"), []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "learned.yaml"), []byte(cfg+"capture: {profiles: ./profiles.yaml}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := filepath.Join(dir, "third.eml")
	if err := os.WriteFile(third, textMail("einkauf@baumarkt-nord.de", "Bestellung PO-7003", kondition("PO-7003", "0,07", "10,50")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"parse", "--config", "learned.yaml", third}, `"unit_price"`},
		{[]string{"parse", "--config", "learned.yaml", "--template", "baumarkt", third}, `"unit_price":"0.07"`},
	} {
		cmd := exec.Command(binary, tt.args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if !strings.Contains(string(out), tt.want) || !strings.Contains(string(out), `"unit_price":"10.50"`) {
			t.Errorf("%v: want the learned prices (%s) in:\n%s", tt.args, tt.want, out)
		}
	}
}
