// Package ediproc processes one received document end to end at the syntax
// level: it tells X12 from EDIFACT, runs the engine's decoder over the
// bytes as a stream, finds the trading partner of each interchange from the
// configuration, maps every purchase order message to the canonical order,
// and builds the acknowledgements the partner gets (997/999/TA1, CONTRL).
//
// It is shared by `ordergate parse`/`ordergate ack` and the gateway's parse
// stage, so the command line shows exactly what the gateway does. It
// writes nothing: the caller stores orders and acks.
package ediproc
