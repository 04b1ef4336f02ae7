package ghapi

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
)

// ErrHeadChanged is returned by Merge when GitHub answered 409: the pull
// request's head is no longer the sha that was evaluated. Evaluate again.
var ErrHeadChanged = errors.New("the pull request's head moved since it was evaluated; evaluate it again")

// ErrNotMergeable is returned (wrapped with GitHub's message) by Merge when
// GitHub answered 405: protection, a conflict, a draft or a disabled merge
// method stops the merge.
var ErrNotMergeable = errors.New("GitHub refuses to merge the pull request")

// RateLimitError is a request GitHub rate-limited for longer than
// Retry.Max, or still rate-limited after every attempt.
type RateLimitError struct {
	Route string    // the documented route, e.g. "GET /repos/{owner}/{repo}"
	Reset time.Time // when GitHub says the limit ends
}

// Error says which route is limited and until when.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: GitHub rate limit in force until %s; try again after it resets",
		e.Route, e.Reset.UTC().Format(time.RFC3339))
}

// Error is any other non-2xx answer from GitHub, after retries.
type Error struct {
	Route   string // the documented route
	Status  int    // the HTTP status GitHub answered
	Message string // GitHub's message
}

// Error names the route, the status and GitHub's message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: GitHub answered %d: %s", e.Route, e.Status, e.Message)
}

// status returns the HTTP status of a GitHub error answer, or 0.
func status(err error) int {
	var ge *Error
	if errors.As(err, &ge) {
		return ge.Status
	}
	return 0
}

// wrap turns a go-github error into this package's: *Error for a non-2xx
// answer, the transport's *RateLimitError as it is, anything else wrapped
// with the route.
func wrap(route string, err error) error {
	if err == nil {
		return nil
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return &Error{Route: route, Status: er.Response.StatusCode, Message: er.Message}
	}
	return fmt.Errorf("%s: %w", route, err)
}

// ambiguous reports an error that leaves the effect of a write unknown: no
// answer, or a server error.
func ambiguous(err error) bool {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return false
	}
	s := status(err)
	return s == 0 || s >= 500
}
