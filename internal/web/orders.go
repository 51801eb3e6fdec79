package web

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

type ordersData struct {
	Q, Status, Channel, From, To string
	Statuses                     []order.Status
	Channels                     []order.Channel
	List                         OrderList
	NextURL                      string
	Errors                       []string
}

var allStatuses = []order.Status{order.StatusReceived, order.StatusReview, order.StatusHeld, order.StatusAccepted,
	order.StatusRejected, order.StatusRouted, order.StatusDelivered, order.StatusFailed}

var allChannels = []order.Channel{order.ChannelEDI, order.ChannelEmail, order.ChannelFax, order.ChannelWeb, order.ChannelPhone}

func (u *UI) ordersList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := ordersData{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Channel: q.Get("channel"),
		From: q.Get("from"), To: q.Get("to"), Statuses: allStatuses, Channels: allChannels}
	f := OrderFilter{Query: d.Q, Cursor: q.Get("cursor"), Limit: 50}
	for _, st := range allStatuses {
		if string(st) == d.Status {
			f.Status = st
		}
	}
	for _, ch := range allChannels {
		if string(ch) == d.Channel {
			f.Channel = ch
		}
	}
	for _, x := range []struct {
		v   string
		dst *time.Time
		add int
	}{{d.From, &f.From, 0}, {d.To, &f.To, 1}} {
		if x.v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", x.v, time.Local)
		if err != nil {
			d.Errors = append(d.Errors, fmt.Sprintf("%q is not a date (YYYY-MM-DD).", x.v))
			continue
		}
		*x.dst = t.AddDate(0, 0, x.add)
	}
	list, err := u.svc.ListOrders(r.Context(), f)
	if err != nil {
		u.serviceError(w, r, s, "searching orders", err)
		return
	}
	d.List = list
	if list.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", list.Next)
		d.NextURL = "/orders?" + nq.Encode()
	}
	u.render(w, r, s, http.StatusOK, "orders.html", page{Title: "Orders", Data: d})
}

type orderData struct {
	OrderDetail
	Buyer  *order.Party
	Amount string
}

func (u *UI) orderDetail(w http.ResponseWriter, r *http.Request, s *session) {
	od, err := u.svc.GetOrder(r.Context(), r.PathValue("id"))
	if err != nil {
		u.serviceError(w, r, s, "reading the order", err)
		return
	}
	d := orderData{OrderDetail: od, Buyer: od.Order.Party(order.RoleBuyer)}
	if t, ok := od.Order.LinesTotal(); ok && len(od.Order.Lines) > 0 {
		d.Amount = t.String()
	}
	u.render(w, r, s, http.StatusOK, "order.html", page{Title: "Order " + od.Order.ID, Data: d})
}

// orderRaw serves the order's raw document as a download, sandboxed so
// that a hostile document cannot run in the UI's origin.
func (u *UI) orderRaw(w http.ResponseWriter, r *http.Request, s *session) {
	raw, err := u.svc.RawDocument(r.Context(), r.PathValue("id"))
	if err != nil {
		u.serviceError(w, r, s, "reading the raw document", err)
		return
	}
	ct := raw.ContentType
	if ct == "" || strings.Contains(ct, "html") || strings.Contains(ct, "xml") || strings.Contains(ct, "svg") || strings.Contains(ct, "javascript") {
		ct = "application/octet-stream"
	}
	name := path.Base(raw.Filename)
	if name == "." || name == "/" || name == "" {
		name = "document"
	}
	disp := "attachment"
	if strings.HasPrefix(ct, "text/plain") || ct == "application/pdf" || strings.HasPrefix(ct, "image/png") || strings.HasPrefix(ct, "image/jpeg") {
		disp = "inline"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	w.Write(raw.Body)
}

type dashboardData struct {
	Dashboard
	Touchless string
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	db, err := u.svc.Dashboard(r.Context())
	if err != nil {
		u.serviceError(w, r, s, "reading the dashboard", err)
		return
	}
	d := dashboardData{Dashboard: db, Touchless: "–"}
	if rate := db.TouchlessRate(); rate >= 0 {
		d.Touchless = fmt.Sprintf("%.1f%%", rate)
	}
	u.render(w, r, s, http.StatusOK, "dashboard.html", page{Title: "Dashboard", Data: d})
}

// numberRow is one figure of a hold, sorted by name for display.
type numberRow struct{ Name, Value string }

func sortedNumbers(m map[string]string) []numberRow {
	out := make([]numberRow, 0, len(m))
	for k, v := range m {
		out = append(out, numberRow{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
