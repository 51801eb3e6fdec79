package app

import (
	"encoding/json"
	"errors"

	"github.com/ordergate/ordergate/channels/webapi"
	"github.com/ordergate/ordergate/normalize/order"
)

// validateOrderJSON is the one validation every channel's canonical orders
// pass (order.Validate), as the web API's problems with JSON pointers.
func validateOrderJSON(body []byte) []webapi.FieldProblem {
	var o order.Order
	if err := json.Unmarshal(body, &o); err != nil {
		return []webapi.FieldProblem{{Detail: "not an order: " + err.Error()}}
	}
	err := o.Validate()
	if err == nil {
		return nil
	}
	var out []webapi.FieldProblem
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var fe *order.FieldError
		if errors.As(e, &fe) {
			out = append(out, webapi.FieldProblem{Pointer: webapi.Pointer(fe.Path), Detail: fe.Msg})
		} else {
			out = append(out, webapi.FieldProblem{Detail: e.Error()})
		}
	}
	return out
}
