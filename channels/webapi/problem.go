package webapi

import (
	"encoding/json"
	"net/http"
)

// Problem type URIs of the order intake; a client may branch on them.
const (
	ProblemInvalidJSON    = "urn:ordergate:problem:invalid-json"
	ProblemInvalidOrder   = "urn:ordergate:problem:invalid-order"
	ProblemIdempotency    = "urn:ordergate:problem:idempotency-key-reused"
	ProblemInvalidHeader  = "urn:ordergate:problem:invalid-header"
	ProblemTooLarge       = "urn:ordergate:problem:body-too-large"
	ProblemMediaType      = "urn:ordergate:problem:unsupported-media-type"
	ProblemUnauthorized   = "urn:ordergate:problem:unauthorized"
	ProblemForbidden      = "urn:ordergate:problem:forbidden"
	ProblemIntakeDown     = "urn:ordergate:problem:intake-unavailable"
	ProblemInternalError  = "urn:ordergate:problem:internal-error"
	problemContentType    = "application/problem+json"
	problemTitleInvalid   = "the order is not valid"
	problemTitleMalformed = "the body is not a well-formed order"
)

// Problem is an RFC 9457 problem detail, in the shape the rest of the
// gateway's API answers with.
type Problem struct {
	Type     string         `json:"type,omitempty"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
}

// ProblemField points at one invalid part of a request: a member of the
// body (a JSON pointer, RFC 6901; "" is the whole body) or a header
// (Parameter).
type ProblemField struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
	Detail    string `json:"detail"`
}

// WriteProblem answers the problem as application/problem+json: the
// status's text as title when none is given, the request's path as
// instance. The gateway's other APIs answer with it too.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) { writeProblem(w, r, p) }

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func fieldProblems(ps []FieldProblem) []ProblemField {
	out := make([]ProblemField, len(ps))
	for i, p := range ps {
		out[i] = ProblemField{Pointer: p.Pointer, Detail: p.Detail}
	}
	return out
}
