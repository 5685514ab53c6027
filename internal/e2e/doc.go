// Package e2e holds Kumo's end-to-end API tests: each test starts a real
// controller (on SQLite, and on PostgreSQL when KUMO_TEST_POSTGRES is set)
// and talks to it over HTTP with the official AWS SDK for Go v2 or with
// hand-signed SigV4 requests, asserting AWS's behaviour and error codes.
// The package itself has no code; the tests are in package e2e_test.
package e2e
