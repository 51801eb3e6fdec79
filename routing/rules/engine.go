package rules

import (
	"errors"
	"fmt"
	"slices"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// Engine is a compiled Config. It is safe for concurrent use.
type Engine struct {
	cfg       Config
	approvals []compiledApproval
}

type compiledApproval struct {
	Approval
	program   *vm.Program
	usesTotal bool // the expression reads order.total
}

// ApprovalError is an approval whose configuration or when expression is
// wrong. For an expression error, Err is expr's *file.Error, which carries
// the line and column and prints the expression with a marker.
type ApprovalError struct {
	Index int    // position in Config.Approvals
	Name  string // the approval's name
	Err   error
}

func (e *ApprovalError) Error() string {
	name := e.Name
	if name == "" {
		name = fmt.Sprintf("#%d", e.Index+1)
	}
	return fmt.Sprintf("approval %s: %v", name, e.Err)
}

func (e *ApprovalError) Unwrap() error { return e.Err }

// Compile checks cfg and compiles the approvals' expressions once. The
// error joins every problem found; approval problems are *ApprovalError.
func Compile(cfg Config) (*Engine, error) {
	var errs []error
	switch cfg.PricePolicy {
	case "", PriceHold, PriceNote, PriceCorrect:
	default:
		errs = append(errs, fmt.Errorf("price policy %q: want hold, note or correct", cfg.PricePolicy))
	}
	switch cfg.ItemPolicy {
	case "", ItemHold, ItemAdjust, ItemReject:
	default:
		errs = append(errs, fmt.Errorf("item policy %q: want hold, adjust or reject", cfg.ItemPolicy))
	}
	switch cfg.DuplicatePolicy {
	case "", DuplicateHold, DuplicateReject, DuplicateDrop, DuplicateChange:
	default:
		errs = append(errs, fmt.Errorf("duplicate policy %q: want reject, hold, ack-and-drop or change", cfg.DuplicatePolicy))
	}
	if t := cfg.PriceTolerance; t != nil && t.IsNeg() {
		errs = append(errs, fmt.Errorf("price tolerance %s%% is negative", t))
	}
	for rule, role := range cfg.HoldRoles {
		if role == "" {
			errs = append(errs, fmt.Errorf("hold role for %s is empty", rule))
		}
	}
	if cfg.PricePolicy == "" {
		cfg.PricePolicy = PriceHold
	}
	if cfg.ItemPolicy == "" {
		cfg.ItemPolicy = ItemHold
	}
	if cfg.DuplicatePolicy == "" {
		cfg.DuplicatePolicy = DuplicateHold
	}
	e := &Engine{cfg: cfg}
	seen := map[string]bool{}
	for i, a := range cfg.Approvals {
		fail := func(err error) { errs = append(errs, &ApprovalError{Index: i, Name: a.Name, Err: err}) }
		switch {
		case a.Name == "":
			fail(errors.New("has no name"))
		case seen[a.Name]:
			fail(errors.New("is defined twice"))
		}
		seen[a.Name] = true
		switch {
		case a.Role != "" && len(a.Levels) > 0:
			fail(errors.New("has both role and levels: give one"))
		case a.Role == "" && len(a.Levels) == 0:
			fail(errors.New("has neither role nor levels"))
		case slices.Contains(a.Levels, ""):
			fail(errors.New("has an empty role in levels"))
		}
		if a.When == "" {
			fail(errors.New("has no when expression"))
			continue
		}
		p, usesTotal, err := compileWhen(a.When)
		if err != nil {
			fail(fmt.Errorf("compiling when %q: %w", a.When, err))
			continue
		}
		a.Levels = slices.Clone(a.levels())
		a.Role = ""
		e.approvals = append(e.approvals, compiledApproval{Approval: a, program: p, usesTotal: usesTotal})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

// compileWhen compiles an approval's when expression against the
// environment: a boolean over order and customer; unknown names are
// errors.
func compileWhen(code string) (p *vm.Program, usesTotal bool, err error) {
	defer func() { // expr reports problems as errors; this guards the gateway against a panic on odd input
		if r := recover(); r != nil {
			p, usesTotal, err = nil, false, fmt.Errorf("expression rejected: %v", r)
		}
	}()
	opts := append([]expr.Option{expr.Env(exprEnv{}), expr.AsBool()}, decimalOperators()...)
	p, err = expr.Compile(code, opts...)
	if err != nil {
		return nil, false, err
	}
	v := &totalFinder{}
	node := p.Node()
	ast.Walk(&node, v)
	return p, v.found, nil
}

// totalFinder finds order.total in an expression.
type totalFinder struct{ found bool }

func (v *totalFinder) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok1 := m.Node.(*ast.IdentifierNode)
	prop, ok2 := m.Property.(*ast.StringNode)
	if ok1 && ok2 && id.Value == "order" && prop.Value == "total" {
		v.found = true
	}
}

// evalWhen runs a compiled when expression.
func evalWhen(p *vm.Program, env exprEnv) (matched bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			matched, err = false, fmt.Errorf("evaluation failed: %v", r)
		}
	}()
	out, err := expr.Run(p, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("result %v is not true or false", out)
	}
	return b, nil
}

// lineState is what the rules did to one line of the input order.
type lineState struct {
	rejected     bool
	itemUnknown  bool
	changed      bool // quantity or price corrected: the response says changed
	priceFilled  bool
	reasons      []string
	rejectReason string
}

// decider holds one Decide call's work.
type decider struct {
	e     *Engine
	cfg   *Config
	in    *order.Order
	o     *order.Order // the copy, same line indices as in until finish
	f     *Facts
	d     Decision
	lines []lineState
}

// Decide runs the rules on o with the facts f and returns the decision. It
// does not modify o.
func (e *Engine) Decide(o *order.Order, f Facts) Decision {
	c := *o
	c.Lines = slices.Clone(o.Lines)
	c.Notes = slices.Clone(o.Notes)
	c.Holds = nil
	dc := &decider{e: e, cfg: &e.cfg, in: o, o: &c, f: &f, lines: make([]lineState, len(o.Lines))}
	dc.d.Order = &c

	if dc.duplicates() {
		return dc.finish()
	}
	dc.customer()
	if !dc.cfg.NoItemCheck {
		dc.items()
	}
	dc.prices()
	t := dc.total()
	dc.credit(t)
	dc.approvals(t)
	dc.notes()
	return dc.finish()
}

func (dc *decider) hold(h Hold) {
	if len(h.Levels) == 0 {
		h.Levels = []string{dc.cfg.holdRole(h.Rule)}
	}
	if h.Line >= 0 && h.Line < len(dc.in.Lines) {
		h.LineNo = dc.in.Lines[h.Line].LineNo
	}
	dc.d.Holds = append(dc.d.Holds, h)
}

// orderCurrency is the order's currency, or the customer's when the order
// names none.
func (dc *decider) orderCurrency() string {
	if dc.o.Currency != "" {
		return dc.o.Currency
	}
	return dc.f.Customer.Currency
}

// orderTotal is the sum over the kept lines of quantity x unit price.
type orderTotal struct {
	known    decimal.Decimal // sum of the priced lines
	unpriced int             // lines without a price, not in known
	err      error           // overflow
}

func (dc *decider) total() orderTotal {
	var t orderTotal
	for i, l := range dc.o.Lines {
		if dc.lines[i].rejected {
			continue
		}
		if l.UnitPrice == nil {
			t.unpriced++
			continue
		}
		a, err := l.Quantity.Mul(*l.UnitPrice)
		if err == nil {
			t.known, err = t.known.Add(a)
		}
		if err != nil && t.err == nil {
			t.err = fmt.Errorf("adding line %s to the order total: %w", l.LineNo, err)
		}
	}
	return t
}

// finish sets the outcome, the response and the order copy's status,
// holds and lines.
func (dc *decider) finish() Decision {
	d := &dc.d
	allRejected := len(dc.lines) > 0
	for _, ls := range dc.lines {
		allRejected = allRejected && ls.rejected
	}
	date := dateOf(dc.f)
	switch {
	case d.Outcome == OutcomeReject || d.Outcome == OutcomeDrop:
	case allRejected:
		d.Outcome = OutcomeReject
		d.Rejections = append(d.Rejections, Hold{Rule: RuleItem, Line: -1, Reason: "every line of the order is rejected"})
	case len(d.Holds) > 0:
		d.Outcome = OutcomeHold
	default:
		d.Outcome = OutcomeAccept
	}

	switch d.Outcome {
	case OutcomeDrop:
		d.Response = nil
	case OutcomeReject:
		reasons := make([]string, len(d.Rejections))
		for i, r := range d.Rejections {
			reasons[i] = r.Reason
		}
		if allRejected {
			d.Response = dc.lineResponse(date)
			d.Response.Status = order.ResponseRejected
		} else {
			d.Response = RejectedResponse(dc.in, joinSentences(reasons), date)
		}
	default:
		d.Response = dc.lineResponse(date)
	}

	kept := dc.o.Lines[:0:0]
	for i, l := range dc.o.Lines {
		if !dc.lines[i].rejected {
			kept = append(kept, l)
		}
	}
	if d.Outcome != OutcomeReject {
		dc.o.Lines = kept
	}
	switch d.Outcome {
	case OutcomeAccept:
		dc.o.Status = order.StatusAccepted
	case OutcomeHold:
		dc.o.Status = order.StatusHeld
	case OutcomeReject, OutcomeDrop:
		dc.o.Status = order.StatusRejected
	}
	dc.o.Holds = OrderHolds(d.Holds)
	return *d
}

func (dc *decider) lineResponse(date order.Date) *order.Response {
	r := &order.Response{Status: order.ResponseAccepted, Date: date}
	rejected := 0
	for i, l := range dc.o.Lines {
		ls := dc.lines[i]
		lr := order.LineResponse{LineNo: l.LineNo, Status: order.ResponseAccepted}
		switch {
		case ls.rejected:
			lr.Status, lr.Reason = order.ResponseRejected, ls.rejectReason
			rejected++
		case ls.changed:
			lr.Status = order.ResponseChanged
			lr.Reason = joinSentences(ls.reasons)
		}
		if !ls.rejected && (ls.changed || ls.priceFilled) {
			in := dc.in.Lines[i]
			if !l.Quantity.Equal(in.Quantity) {
				q := l.Quantity
				lr.Quantity, lr.Unit = &q, l.Unit
			}
			if l.UnitPrice != nil && (in.UnitPrice == nil || !l.UnitPrice.Equal(*in.UnitPrice)) {
				p := *l.UnitPrice
				lr.UnitPrice = &p
			}
			if ls.priceFilled && !ls.changed {
				lr.Reason = joinSentences(ls.reasons)
			}
		}
		if lr.Status != order.ResponseAccepted {
			r.Status = order.ResponseChanged
		}
		r.Lines = append(r.Lines, lr)
	}
	if rejected > 0 && rejected == len(dc.o.Lines) {
		r.Status = order.ResponseRejected
	}
	return r
}

func dateOf(f *Facts) order.Date {
	if f.Now.IsZero() {
		return order.Date{}
	}
	y, m, d := f.Now.Date()
	return order.Date{Year: y, Month: m, Day: d}
}
