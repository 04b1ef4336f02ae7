// Package hook signs and delivers webhooks the way GitHub does.
//
// It is test infrastructure for the GitHub emulator (package ghemu): the
// emulator hands every event payload to a [Dispatcher], which POSTs it to the
// configured URL with GitHub's delivery headers, records the outcome in a
// delivery log, never retries a failed delivery and can redeliver an old one
// with the same X-GitHub-Delivery GUID, as GitHub's "redeliver" button does.
//
// [Sign], [SignSHA1] and [Verify] implement GitHub's signature format
// ("sha256=" + hex HMAC-SHA256 of the raw body). [Verify] is constant-time and
// is also suitable for the App's own webhook endpoint.
//
// The package imports only the standard library; it knows nothing about the
// emulator's state or about payload shapes beyond the top-level "action".
package hook
