// Package app is the composition root: it builds the gateway from a
// Config (logger, store, queue, channels, backends, pipeline, HTTP API),
// starts it, and stops it in order on shutdown: intake first, then the
// pipeline drains, then the HTTP server, the backends and the store.
package app
