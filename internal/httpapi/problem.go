package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/ordergate/ordergate/channels/webapi"
)

// Problem is an RFC 9457 problem detail: the same shape as the order
// intake's (one type for the whole API).
type Problem = webapi.Problem

// ProblemField points at one invalid part of a request (a JSON pointer or
// a query parameter).
type ProblemField = webapi.ProblemField

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) { webapi.WriteProblem(w, r, p) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
