package httpapi

import (
	"bytes"
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument is the OpenAPI 3.1 document of the whole API, kept in
// the repository beside the code (openapi.json). Its test fails when a
// route registered in routes, or the web channel's POST, is missing from
// it, or when it describes a route that does not exist.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the API's OpenAPI 3.1 document (JSON).
func OpenAPI() []byte { return bytes.Clone(openAPIDocument) }

// serveOpenAPI serves GET /api/openapi.json, without authentication: the
// document holds no secrets and clients generate code from it.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	_, _ = w.Write(openAPIDocument)
}
