// Package rules decides on a normalized order before it goes to
// fulfilment: credit limit, approvals, prices, items and quantities,
// duplicates and notes. It is pure: the caller gathers the facts (master
// data, open orders, earlier orders with the same PO number, the time) and
// stores what comes back; the package does no I/O, reads no clock and
// logs nothing.
//
// # Model
//
// Compile checks a Config (the rules section with the partner's policies
// resolved) and compiles the approvals' when expressions once into an
// Engine. Engine.Decide takes an order and its Facts and returns a
// Decision: an Outcome (accept, hold, reject, drop), the Holds, each
// naming its rule, a reason for people, the numbers behind it as exact
// decimal strings, the line and the roles that must approve; the Changes
// made to a copy of the order (Decision.Order; the input is not
// modified); Notes, Tasks for the sales rep and the order Response for the
// sender. OrderHolds turns holds into the order JSON's holds.
//
// The rules, in the order they run:
//
//   - duplicate: an original order whose customer and PO number match an
//     earlier original that was not rejected (Facts.Prior, any channel),
//     compared by content hash. Policy reject: Outcome reject; ack-and-drop:
//     Outcome drop; hold (default): a hold; change: different content
//     replaces the earlier order (Decision.Replaces, purpose "replace"),
//     the same content is dropped. Reject and drop end the decision.
//   - customer: an unknown or a blocked customer is held, whatever else is
//     configured.
//   - item: a line without a known SKU, with a quantity that is not
//     positive or in a unit other than the product's is held, or rejected
//     under policy reject; a quantity below the MOQ or not a multiple of
//     the pack size is held (hold), raised to the MOQ and the next pack
//     multiple (adjust) or rejected (reject). A rejected line leaves the
//     order copy and is "rejected" in the response; if every line is
//     rejected the order is.
//   - price: a line without a price gets the contract or list price from
//     Facts.Prices. With a PriceTolerance, a price differing from it by
//     more than the tolerance (|price - ref| x 100 > tolerance x ref,
//     exactly) is held (hold), accepted with a note (note) or corrected
//     (correct). A price that cannot be checked (no reference price, other
//     currency) is held under hold and correct, noted under note.
//   - credit_limit: exposure = open balance + open orders + this order,
//     converted into the customer's currency with Facts.Rates; held when
//     over the limit (exactly at the limit passes), and when it cannot be
//     known: no exchange rate, lines without a price (their count is in
//     the numbers; they are never counted as 0), open orders the caller
//     could not count (Facts.OpenOrdersUncounted: no total, no exchange
//     rate; never left out silently).
//   - approval: each approval whose when is true holds the order for its
//     role or levels; an expression that fails, or reads order.total while
//     lines have no price, holds too.
//   - notes: with Notes.Enabled, the free text of the order and its lines
//     becomes a Task for the customer's sales rep; with Notes.Wait the
//     order is held until the rep releases it.
//
// # Expressions
//
// An approval's when is an expr-lang/expr boolean over order and customer
// with the order JSON's snake_case names: order.total, order.currency,
// order.channel, order.lines (line_no, sku, quantity, unit, unit_price,
// priced, amount, ...), order.line_count, order.total_complete,
// order.unpriced_lines, order.ship_to (id, name, city, postal_code,
// country, new), order.source (standard, sender_id, test), customer
// (number, name, currency, credit_limit, has_credit_limit, open_balance,
// open_orders, blocked, first_order, known, sales_rep). Unknown names do
// not compile. Amounts and quantities are exact decimals: the comparison
// operators and + - * / are overloaded for them with ints and floats, and
// compare through big.Rat, a float literal taken as the shortest decimal
// that reads back as it (10000.50 is 10000.5 exactly, 0.1 is 0.1), so
// order.total >= 10000.50 is exact. order.total is computed after the
// price and item rules, over the lines kept.
//
// # Approvals
//
// NewApprovalState turns a decision's holds into an ApprovalState: every
// hold is a chain of levels (roles). Approve and Reject are pure
// transitions that keep an audit trail; see ApprovalState for how one
// approval clears several holds and which role clears a credit hold.
//
// # Errors
//
// Compile joins every configuration problem; a bad approval is an
// *ApprovalError naming it, wrapping expr's error with its position.
// Approve and Reject return errors wrapping ErrWrongRole, ErrSameUser,
// ErrDecided or ErrNoUser. Decide does not fail: what it cannot decide it
// holds, and says why.
//
// # What it does not do
//
// It does not look anything up, send the sales rep's e-mail, store the
// timeline or compute content hashes: the caller does, from the Decision.
package rules
