// Package contract holds GitHub's own contract, its REST description and its
// webhook payload schemas, as test infrastructure for the GitHub emulator.
//
// The emulator's tests route every response through [NewTransport] (or call
// [REST.ValidateResponse]) and every webhook payload through
// [Webhooks.ValidatePayload]; a response or payload that GitHub's published
// schemas reject fails the test. That keeps the emulator agreeing with GitHub
// rather than with our own code.
//
// The schema files are GitHub's, copied unchanged into testdata/ (see
// testdata/README.md for their source and licence) and embedded, so the
// package works on any machine. They are parsed lazily, once per process.
//
// Nothing in the product imports this package; only tests and the emulator's
// test helpers do.
package contract
