package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// duplicates applies the duplicate rule and reports whether the decision
// is final (rejected or dropped). Only original orders are compared, and
// only with earlier originals that were not rejected: a change, replace or
// cancel with the same PO number is the sender's intent, and a resend of
// a rejected order is a new attempt.
func (dc *decider) duplicates() bool {
	if !isOriginal(dc.o.Purpose) {
		return false
	}
	var prior *PriorOrder
	same := false
	for i := range dc.f.Prior {
		p := &dc.f.Prior[i]
		if !isOriginal(p.Purpose) || p.Status == order.StatusRejected {
			continue
		}
		if dc.f.ContentHash != "" && p.ContentHash == dc.f.ContentHash {
			prior, same = p, true
			break
		}
		prior = p // the latest of the different ones
	}
	if prior == nil {
		return false
	}
	content := "different content"
	if same {
		content = "the same content"
	}
	h := Hold{
		Rule: RuleDuplicate, Line: -1,
		Reason: fmt.Sprintf("PO %s of customer %s was already received as order %s via %s (status %s), with %s",
			dc.o.PONumber, dc.customerName(), prior.ID, prior.Channel, prior.Status, content),
		Numbers: map[string]string{
			"po_number":     dc.o.PONumber,
			"prior_order":   prior.ID,
			"prior_channel": string(prior.Channel),
			"prior_status":  string(prior.Status),
			"same_content":  strconv.FormatBool(same),
			"policy":        string(dc.cfg.DuplicatePolicy),
		},
	}
	switch dc.cfg.DuplicatePolicy {
	case DuplicateReject:
		h.Reason += "; rejected as a duplicate"
		dc.d.Outcome = OutcomeReject
		dc.d.Rejections = append(dc.d.Rejections, h)
		return true
	case DuplicateDrop:
		h.Reason += "; acknowledged and dropped as a duplicate"
		dc.d.Outcome = OutcomeDrop
		dc.d.Rejections = append(dc.d.Rejections, h)
		return true
	case DuplicateChange:
		if same {
			h.Reason += "; nothing changes, dropped"
			dc.d.Outcome = OutcomeDrop
			dc.d.Rejections = append(dc.d.Rejections, h)
			return true
		}
		dc.d.Replaces = prior.ID
		dc.o.Purpose = order.PurposeReplace
		dc.d.Changes = append(dc.d.Changes, LineChange{
			Line: -1, Field: "purpose", From: string(purposeOrOriginal(dc.in.Purpose)), To: string(order.PurposeReplace),
			Reason: fmt.Sprintf("PO %s was already received as order %s with different content: this order replaces it", dc.o.PONumber, prior.ID),
		})
		return false
	default:
		h.Reason += "; held as a possible duplicate"
		dc.hold(h)
		return false
	}
}

func isOriginal(p order.Purpose) bool { return p == "" || p == order.PurposeOriginal }

func purposeOrOriginal(p order.Purpose) order.Purpose {
	if p == "" {
		return order.PurposeOriginal
	}
	return p
}

func (dc *decider) customerName() string {
	c := dc.f.Customer
	switch {
	case c.Name != "" && c.Number != "":
		return c.Name + " (" + c.Number + ")"
	case c.Number != "":
		return c.Number
	case dc.o.CustomerID != "":
		return dc.o.CustomerID
	}
	return "(unknown)"
}

// customer holds orders of customers not in master data and of blocked
// customers, whatever else is configured.
func (dc *decider) customer() {
	c := dc.f.Customer
	switch {
	case !c.Known && dc.cfg.NoCustomerCheck:
	case !c.Known:
		id := dc.o.CustomerID
		if id == "" {
			id = "(none)"
		}
		dc.hold(Hold{Rule: RuleCustomer, Line: -1,
			Reason:  fmt.Sprintf("customer %s is not in master data", id),
			Numbers: map[string]string{"customer": id}})
	case c.Blocked:
		dc.hold(Hold{Rule: RuleCustomer, Line: -1,
			Reason:  fmt.Sprintf("customer %s is blocked", dc.customerName()),
			Numbers: map[string]string{"customer": c.Number, "blocked": "true", "open_balance": c.OpenBalance.String()}})
	}
}

// describeLine names a line for people: its number and the best id.
func describeLine(l order.Line) string {
	id := l.SKU
	for _, s := range []string{l.SupplierPart, l.BuyerPart, l.GTIN, l.Description} {
		if id != "" {
			break
		}
		id = s
	}
	if id == "" {
		return "line " + l.LineNo
	}
	return fmt.Sprintf("line %s (%s)", l.LineNo, id)
}

// items checks every line's item and quantity against the products.
func (dc *decider) items() {
	policy := dc.cfg.ItemPolicy
	for i, l := range dc.o.Lines {
		p, known := dc.f.Products[l.SKU]
		known = known && l.SKU != ""
		nums := map[string]string{"quantity": l.Quantity.String()}
		if l.SKU != "" {
			nums["sku"] = l.SKU
		}
		// Problems no adjustment fixes: reject per policy, else hold.
		var fatal string
		switch {
		case !known:
			dc.lines[i].itemUnknown = true
			if l.SKU == "" {
				fatal = fmt.Sprintf("%s: the item is not one of ours (no SKU resolved from %s)", describeLine(l), lineIDs(l))
			} else {
				fatal = fmt.Sprintf("%s: item %s is not in the product master", describeLine(l), l.SKU)
			}
		case !l.Quantity.IsPos():
			fatal = fmt.Sprintf("%s: quantity %s is not positive", describeLine(l), l.Quantity)
		case l.Unit != "" && p.Unit != "" && !strings.EqualFold(l.Unit, p.Unit):
			fatal = fmt.Sprintf("%s: ordered in %s, the item is sold in %s", describeLine(l), l.Unit, p.Unit)
			nums["unit"], nums["product_unit"] = l.Unit, p.Unit
		}
		if fatal != "" {
			if policy == ItemReject {
				dc.rejectLine(i, fatal)
			} else {
				dc.hold(Hold{Rule: RuleItem, Line: i, Reason: fatal, Numbers: nums})
			}
			continue
		}

		want, problems, err := fitQuantity(l.Quantity, p)
		if err != nil {
			dc.hold(Hold{Rule: RuleItem, Line: i, Reason: fmt.Sprintf("%s: %v", describeLine(l), err), Numbers: nums})
			continue
		}
		if len(problems) == 0 {
			continue
		}
		if p.MOQ.IsPos() {
			nums["moq"] = p.MOQ.String()
		}
		if p.PackSize.IsPos() {
			nums["pack_size"] = p.PackSize.String()
		}
		nums["suggested_quantity"] = want.String()
		what := fmt.Sprintf("%s: quantity %s is %s", describeLine(l), l.Quantity, strings.Join(problems, " and "))
		switch policy {
		case ItemReject:
			dc.rejectLine(i, what)
		case ItemAdjust:
			reason := fmt.Sprintf("%s; adjusted to %s", what, want)
			dc.d.Changes = append(dc.d.Changes, LineChange{Line: i, LineNo: l.LineNo, Field: "quantity",
				From: l.Quantity.String(), To: want.String(), Reason: reason})
			dc.o.Lines[i].Quantity = want
			dc.lines[i].changed = true
			dc.lines[i].reasons = append(dc.lines[i].reasons, fmt.Sprintf("quantity %s adjusted to %s: %s", l.Quantity, want, strings.Join(problems, " and ")))
		default:
			dc.hold(Hold{Rule: RuleItem, Line: i, Reason: fmt.Sprintf("%s; %s would fit", what, want), Numbers: nums})
		}
	}
}

// fitQuantity returns the smallest quantity at least q, the MOQ and a
// multiple of the pack size, and what q breaks.
func fitQuantity(q decimal.Decimal, p Product) (decimal.Decimal, []string, error) {
	var problems []string
	want := q
	if p.MOQ.IsPos() && q.Cmp(p.MOQ) < 0 {
		problems = append(problems, fmt.Sprintf("below the minimum order quantity %s", p.MOQ))
		want = p.MOQ
	}
	if p.PackSize.IsPos() {
		if _, r, err := q.QuoRem(p.PackSize); err != nil {
			return q, nil, fmt.Errorf("checking quantity %s against pack size %s: %w", q, p.PackSize, err)
		} else if !r.IsZero() {
			problems = append(problems, fmt.Sprintf("not a multiple of the pack size %s", p.PackSize))
		}
		n, r, err := want.QuoRem(p.PackSize)
		if err == nil && !r.IsZero() {
			if n, err = n.Add(decimal.One); err == nil {
				want, err = n.Mul(p.PackSize)
			}
		}
		if err != nil {
			return q, nil, fmt.Errorf("rounding quantity %s up to pack size %s: %w", want, p.PackSize, err)
		}
	}
	return want.Trim(0), problems, nil
}

func lineIDs(l order.Line) string {
	var ids []string
	for _, kv := range [][2]string{{"GTIN", l.GTIN}, {"buyer part", l.BuyerPart}, {"supplier part", l.SupplierPart}, {"description", l.Description}} {
		if kv[1] != "" {
			ids = append(ids, kv[0]+" "+kv[1])
		}
	}
	if len(ids) == 0 {
		return "no item id"
	}
	return strings.Join(ids, ", ")
}

func (dc *decider) rejectLine(i int, reason string) {
	ls := &dc.lines[i]
	ls.rejected, ls.rejectReason = true, reason
	dc.d.Changes = append(dc.d.Changes, LineChange{Line: i, LineNo: dc.in.Lines[i].LineNo, Field: "line",
		From: "ordered", To: "rejected", Reason: reason})
}

// prices fills missing prices from the price facts and, with a tolerance,
// checks every price against them.
func (dc *decider) prices() {
	tol := dc.cfg.PriceTolerance
	cur := dc.orderCurrency()
	for i := range dc.o.Lines {
		ls := &dc.lines[i]
		if ls.rejected || ls.itemUnknown {
			continue
		}
		l := &dc.o.Lines[i]
		var ref *Price
		if i < len(dc.f.Prices) {
			ref = dc.f.Prices[i]
		}
		refOK := ref != nil && (ref.Currency == "" || cur == "" || strings.EqualFold(ref.Currency, cur))
		if l.UnitPrice == nil {
			switch {
			case refOK:
				p := ref.UnitPrice
				l.UnitPrice = &p
				ls.priceFilled = true
				ls.reasons = append(ls.reasons, fmt.Sprintf("price %s from the %s price", p, sourceOf(ref)))
				dc.d.Changes = append(dc.d.Changes, LineChange{Line: i, LineNo: l.LineNo, Field: "unit_price",
					From: "", To: p.String(), Reason: fmt.Sprintf("%s had no price: filled from the %s price", describeLine(*l), sourceOf(ref))})
			case tol == nil:
			case ref != nil:
				dc.hold(Hold{Rule: RulePrice, Line: i,
					Reason:  fmt.Sprintf("%s has no price and its %s price is in %s, the order in %s", describeLine(*l), sourceOf(ref), ref.Currency, cur),
					Numbers: map[string]string{sourceOf(ref) + "_price": ref.UnitPrice.String(), "price_currency": ref.Currency, "currency": cur}})
			default:
				dc.hold(Hold{Rule: RulePrice, Line: i,
					Reason:  fmt.Sprintf("%s has no price and there is no contract or list price", describeLine(*l)),
					Numbers: map[string]string{"price": "", "currency": cur}})
			}
			continue
		}
		if tol == nil {
			continue
		}
		dc.checkPrice(i, ref, refOK, cur, *tol)
	}
}

func sourceOf(p *Price) string {
	if p.Source == PriceList {
		return PriceList
	}
	return PriceContract
}

func (dc *decider) checkPrice(i int, ref *Price, refOK bool, cur string, tol decimal.Decimal) {
	l := &dc.o.Lines[i]
	price := *l.UnitPrice
	nums := map[string]string{"price": price.String(), "tolerance": tol.String(), "currency": cur}
	var what string
	correctable := false
	switch {
	case ref == nil:
		what = fmt.Sprintf("%s: price %s %s cannot be checked: there is no contract or list price", describeLine(*l), price, cur)
	case !refOK:
		nums[sourceOf(ref)+"_price"], nums["price_currency"] = ref.UnitPrice.String(), ref.Currency
		what = fmt.Sprintf("%s: price %s %s cannot be checked: the %s price is in %s", describeLine(*l), price, cur, sourceOf(ref), ref.Currency)
	default:
		key := sourceOf(ref) + "_price"
		nums[key] = ref.UnitPrice.String()
		within, dev, err := withinTolerance(price, ref.UnitPrice, tol)
		if err != nil {
			what = fmt.Sprintf("%s: price %s %s cannot be compared with the %s price %s: %v", describeLine(*l), price, cur, sourceOf(ref), ref.UnitPrice, err)
			break
		}
		nums["deviation_percent"] = dev
		if within {
			return
		}
		correctable = true
		what = fmt.Sprintf("%s: price %s %s differs from the %s price %s by %s%%, more than the tolerance of %s%%",
			describeLine(*l), price, cur, sourceOf(ref), ref.UnitPrice, dev, tol)
	}
	switch {
	case dc.cfg.PricePolicy == PriceNote:
		dc.d.Notes = append(dc.d.Notes, what+"; accepted at the ordered price")
	case dc.cfg.PricePolicy == PriceCorrect && correctable:
		p := ref.UnitPrice
		l.UnitPrice = &p
		ls := &dc.lines[i]
		ls.changed = true
		ls.reasons = append(ls.reasons, fmt.Sprintf("price corrected to the %s price %s", sourceOf(ref), p))
		dc.d.Changes = append(dc.d.Changes, LineChange{Line: i, LineNo: l.LineNo, Field: "unit_price",
			From: price.String(), To: p.String(), Reason: what + "; corrected to the " + sourceOf(ref) + " price"})
	default:
		dc.hold(Hold{Rule: RulePrice, Line: i, Reason: what, Numbers: nums})
	}
}

// withinTolerance reports whether |price - ref| <= tol% of ref, exactly,
// and the signed deviation in percent rounded to two places ("n/a" when
// ref is zero).
func withinTolerance(price, ref, tol decimal.Decimal) (bool, string, error) {
	diff, err := price.Sub(ref)
	if err != nil {
		return false, "", err
	}
	if ref.IsZero() {
		return diff.IsZero(), "n/a", nil
	}
	lhs, err := diff.Abs().Mul(decimal.Hundred)
	if err != nil {
		return false, "", err
	}
	rhs, err := tol.Mul(ref.Abs())
	if err != nil {
		return false, "", err
	}
	dev, err := diff.Mul(decimal.Hundred)
	if err == nil {
		dev, err = dev.Quo(ref)
	}
	if err != nil {
		return false, "", err
	}
	return lhs.Cmp(rhs) <= 0, dev.Round(2).Trim(0).String(), nil
}

// credit holds the order when the customer's exposure (open balance + open
// orders + this order, in the customer's currency) is over the limit, or
// cannot be known.
func (dc *decider) credit(t orderTotal) {
	c := dc.f.Customer
	if !dc.cfg.CreditLimit || !c.Known || c.CreditLimit == nil {
		return
	}
	limit := *c.CreditLimit
	cur := dc.orderCurrency()
	nums := map[string]string{
		"open_balance": c.OpenBalance.String(),
		"open_orders":  dc.f.OpenOrdersAmount.String(),
		"order_total":  t.known.String(),
		"limit":        limit.String(),
		"currency":     c.Currency,
	}
	fail := func(format string, args ...any) {
		dc.hold(Hold{Rule: RuleCreditLimit, Line: -1, Reason: fmt.Sprintf(format, args...), Numbers: nums})
	}
	if t.err != nil {
		fail("the credit limit cannot be checked: %v", t.err)
		return
	}
	if n := len(dc.f.OpenOrdersUncounted); n > 0 {
		nums["open_orders_uncounted"] = strings.Join(dc.f.OpenOrdersUncounted, "; ")
		fail("the credit limit cannot be checked: open orders of %s are not counted in the exposure: %s",
			dc.customerName(), strings.Join(dc.f.OpenOrdersUncounted, "; "))
		return
	}
	total := t.known
	if cur != "" && c.Currency != "" && !strings.EqualFold(cur, c.Currency) {
		nums["order_currency"] = cur
		rate, ok := dc.f.Rates[strings.ToUpper(cur)]
		if !ok {
			fail("the credit limit cannot be checked: the order is in %s, the account of %s in %s, and there is no exchange rate from %s to %s",
				cur, dc.customerName(), c.Currency, strings.ToUpper(cur), strings.ToUpper(c.Currency))
			return
		}
		var err error
		if total, err = total.Mul(rate); err != nil {
			fail("the credit limit cannot be checked: converting %s %s: %v", t.known, cur, err)
			return
		}
		nums["rate"], nums["order_total_converted"] = rate.String(), total.String()
	}
	exposure, err := decimal.Sum(c.OpenBalance, dc.f.OpenOrdersAmount, total)
	if err != nil {
		fail("the credit limit cannot be checked: %v", err)
		return
	}
	nums["exposure"] = exposure.String()
	over := exposure.Cmp(limit) > 0
	if over {
		by, _ := exposure.Sub(limit)
		nums["over_by"] = by.String()
	}
	switch {
	case t.unpriced > 0:
		nums["unpriced_lines"] = strconv.Itoa(t.unpriced)
		if over {
			fail("exposure of at least %s %s (open balance %s + open orders %s + this order %s, %s without a price not counted) exceeds the credit limit %s %s",
				exposure, c.Currency, c.OpenBalance, dc.f.OpenOrdersAmount, total, plural(t.unpriced, "line"), limit, c.Currency)
		} else {
			fail("the credit limit cannot be checked: %s without a price; exposure without them is %s %s of the credit limit %s %s",
				plural(t.unpriced, "line"), exposure, c.Currency, limit, c.Currency)
		}
	case over:
		fail("exposure %s %s (open balance %s + open orders %s + this order %s) exceeds the credit limit %s %s by %s",
			exposure, c.Currency, c.OpenBalance, dc.f.OpenOrdersAmount, total, limit, c.Currency, nums["over_by"])
	}
}

// approvals holds the order for every approval whose when is true, or
// cannot be evaluated.
func (dc *decider) approvals(t orderTotal) {
	if len(dc.e.approvals) == 0 {
		return
	}
	env := newEnv(dc.o, dc.f, t)
	for _, a := range dc.e.approvals {
		h := Hold{Rule: RuleApproval, Approval: a.Name, Line: -1, Levels: a.Levels,
			Numbers: map[string]string{"when": a.When, "customer": dc.f.Customer.Number}}
		if t.err == nil {
			h.Numbers["order_total"] = t.known.String()
			h.Numbers["currency"] = dc.orderCurrency()
		}
		if a.usesTotal && (t.unpriced > 0 || t.err != nil) {
			h.Numbers["unpriced_lines"] = strconv.Itoa(t.unpriced)
			h.Reason = fmt.Sprintf("approval %s cannot be decided: the order total is unknown (%s without a price); needs %s",
				a.Name, plural(t.unpriced, "line"), strings.Join(a.Levels, " then "))
			dc.hold(h)
			continue
		}
		matched, err := evalWhen(a.program, env)
		switch {
		case err != nil:
			h.Reason = fmt.Sprintf("approval %s cannot be decided: %v; needs %s", a.Name, err, strings.Join(a.Levels, " then "))
		case matched:
			h.Reason = fmt.Sprintf("approval %s: %s; needs %s", a.Name, a.When, strings.Join(a.Levels, " then "))
		default:
			continue
		}
		dc.hold(h)
	}
}

// notes turns the order's free text into a task for the sales rep and,
// with Wait, holds the order for the rep.
func (dc *decider) notes() {
	if !dc.cfg.Notes.Enabled {
		return
	}
	var texts []string
	for _, n := range dc.in.Notes {
		if s := strings.TrimSpace(n); s != "" {
			texts = append(texts, s)
		}
	}
	for _, l := range dc.in.Lines {
		for _, n := range l.Notes {
			if s := strings.TrimSpace(n); s != "" {
				texts = append(texts, "line "+l.LineNo+": "+s)
			}
		}
	}
	if len(texts) == 0 {
		return
	}
	rep := dc.f.Customer.SalesRep
	var b strings.Builder
	fmt.Fprintf(&b, "PO %s of %s, received by %s, has notes:\n", dc.o.PONumber, dc.customerName(), dc.o.Channel)
	for _, t := range texts {
		b.WriteString("- " + t + "\n")
	}
	wait := dc.cfg.Notes.Wait
	if wait {
		b.WriteString("The order waits for you to release it.")
	} else {
		b.WriteString("The order proceeds without waiting.")
	}
	dc.d.Tasks = append(dc.d.Tasks, Task{SalesRep: rep.Name, Email: rep.Email, Text: b.String(), Wait: wait})
	if !wait {
		return
	}
	who := "the sales rep"
	if rep.Name != "" {
		who = "sales rep " + rep.Name
	}
	if rep.Name == "" && rep.Email == "" {
		who = "a sales rep (the customer has none on file)"
	}
	dc.hold(Hold{Rule: RuleNotes, Line: -1,
		Reason:  fmt.Sprintf("the order waits for %s to read %s", who, plural(len(texts), "note")),
		Numbers: map[string]string{"notes": strconv.Itoa(len(texts))}})
}

func joinSentences(s []string) string { return strings.Join(s, "; ") }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
