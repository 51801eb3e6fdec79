// Package normalize maps parsed documents to the canonical order: X12 850
// transaction sets, EDIFACT ORDERS messages and, as the capture channels
// land, e-mail, fax and web JSON.
//
// A mapper reads one edi.Message (syntax already checked by edi/x12 or
// edi/edifact) and returns an *order.Order with provenance for every field
// it set, or a *MappingError naming the segment and element whose value it
// could not use (a quantity that is not a number, a date that does not
// exist). Resolving customers, ship-tos, SKUs and units against master data
// is a later step of this package, not the mappers'.
package normalize
