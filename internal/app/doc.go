// Package app is the composition root: it builds the gateway from a
// Config (logger, store, queue, channels, backends, pipeline, HTTP API),
// starts it, and stops it in order on shutdown: intake first, then the
// pipeline drains, then the HTTP server, the backends and the store.
//
// A config reload (SIGHUP, the file changed) builds the backends the new
// routes use before it takes effect, and refuses the reload when one
// cannot be built; the delivery worker takes the backends per batch, so
// the new set serves the next batch and the old one is closed once the
// batches holding it are done (backendSet).
package app
