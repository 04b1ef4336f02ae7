// Package ghapi is the GitHub App's client for GitHub's REST API: the one
// package of `jit serve` that talks to GitHub. It wraps go-github and
// ghinstallation unchanged, retries transient failures and rate limits in
// one http.RoundTripper under both, reports every attempt to an Observe
// callback (for metrics), and offers only the typed operations the App
// needs, converting go-github's types to plain values (grant.Review,
// grant.Commit, grant.Permission) at once.
//
// It sits at the outer edge of the layering: it imports grant for its value
// types, and nothing in the pure core imports it. Writes are made safe to
// repeat: a create whose answer was lost (5xx, network) is never blindly
// sent again; the client looks for what it may already have made first.
package ghapi
