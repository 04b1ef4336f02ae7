// Package ghemu is a GitHub emulator for tests and local development: it
// serves GitHub's REST API under /api/v3/ (the GitHub Enterprise Server
// layout), git over smart HTTP from real bare repositories on disk (through
// the real `git http-backend`), GitHub App authentication (RS256 JWTs and
// installation tokens) and signed webhook deliveries.
//
// It sits at the outer edge of the layering: nothing in the product imports
// it except tests and `jit dev`/`jit ghemu`. The controller talks to it only
// through go-github and ghinstallation, unchanged, so the emulator must agree
// with GitHub (its responses validate against GitHub's OpenAPI description
// and its webhook payloads against GitHub's schemas), not with our code.
//
// State (users, pull requests, reviews, checks, statuses, comments) lives in
// memory behind one mutex; file content and history live in the bare git
// repositories, and every write to a repository is serialised per repository.
package ghemu
