// Package repodocs holds the tests that keep the repository's own
// documentation honest: the README's Go version is go.mod's, every relative
// link in the shipped Markdown resolves, and nothing in the repository
// points at material its users do not have.
package repodocs
