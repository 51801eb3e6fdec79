// Package archtest holds the test that keeps the package dependency
// direction of ARCHITECTURE section 2: it has no code of its own.
package archtest
