// Package webhook is jit serve's webhook intake: an http.Handler that
// verifies a GitHub delivery's signature before reading anything of it,
// parses the events jit acts on into an Event, and hands it to Accept
// without waiting for any work (GitHub gives a delivery 10 seconds).
//
// It sits at the edge: it imports go-github for the signature check and the
// payload types, and workqueue only for ErrFull; it decides nothing about
// grants. The App (controller/app) owns what happens to an Event.
package webhook
