// Package webtest is an in-memory web.Service for tests and demos: a few
// customers with prices, a credit-limit rule that holds orders over the
// limit, captured drafts with page images, and a timeline per order. State
// changes are visible to the reads that follow, like the store-backed
// service's.
package webtest
