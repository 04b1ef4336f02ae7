// Package codeownersdiff is test-only: it holds the product's CODEOWNERS
// matcher (controller/codeowners) and the GitHub emulator's
// (controller/ghemu) against each other. The two are written independently
// on purpose, each from GitHub's documentation, so that a misreading in one
// shows up as a disagreement instead of being shared; a differential fuzz
// target feeds both the same pattern and path. Neither package imports the
// other; only this package's tests see both.
package codeownersdiff
