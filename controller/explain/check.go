package explain

import (
	"fmt"
	"unicode/utf8"
)

// PullRequest is what the texts say about the pull request itself.
type PullRequest struct {
	Number  int
	Author  string
	URL     string
	HeadSHA string
	// BaseRef is the branch the pull request targets; DefaultBranch the
	// repository's default branch.
	BaseRef, DefaultBranch string
	Draft                  bool
}

// Check is one check run's content, ready for the GitHub API.
type Check struct {
	// Name is ValidateName or ApprovalName.
	Name string
	// Status is "in_progress" or "completed".
	Status string
	// Conclusion is set with Status "completed": "success", "failure" or
	// "neutral"; empty otherwise.
	Conclusion string
	// Title is plain text of at most MaxTitle bytes; Summary and Text are
	// Markdown of at most MaxOutput bytes each (cut with a note).
	Title, Summary, Text string
	// Annotations are one per located problem, in problem order. GitHub
	// takes at most AnnotationsPerRequest per request: send the rest with
	// updates of the check run.
	Annotations []Annotation
}

// Annotation is one check-run annotation, ready for the GitHub API.
type Annotation struct {
	Path string
	// StartLine and EndLine are at least 1. StartColumn and EndColumn are
	// set (at least 1) only when StartLine equals EndLine, 0 otherwise.
	StartLine, EndLine, StartColumn, EndColumn int
	// Level is "failure" for problems.
	Level string
	// Title and Message are plain text, Title at most MaxTitle bytes.
	Title, Message string
}

// The check runs' names, the sticky comment's marker, and GitHub's limits.
const (
	ValidateName  = "jit/validate"
	ApprovalName  = "jit/approval"
	CommentMarker = "<!-- jit:summary -->"
	// MaxOutput is GitHub's limit on a check run's summary or text and on a
	// comment's body.
	MaxOutput = 65535
	// MaxTitle bounds check-run and annotation titles (GitHub's annotation
	// title limit is 255 characters).
	MaxTitle = 255
	// AnnotationsPerRequest is how many annotations GitHub takes in one
	// create or update of a check run.
	AnnotationsPerRequest = 50
)

// Check statuses and conclusions as the GitHub API names them.
const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	success          = "success"
	failure          = "failure"
)

// title renders a check or annotation title: plain, one line, at most
// MaxTitle bytes.
func title(format string, args ...any) string {
	return cutBytes(plain(fmt.Sprintf(format, args...)), MaxTitle)
}

// cutBytes cuts s to at most n bytes on a rune boundary, ending in "…"
// when cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// summary renders blocks as a check run's Markdown summary, cut to fit.
func summary(pr PullRequest, blocks []block) string {
	return fit(markdown(blocks), MaxOutput, truncated(pr))
}

// truncated is the note that ends a cut summary or comment.
func truncated(pr PullRequest) string {
	return fmt.Sprintf("*This text was cut to fit GitHub's limit; run `jit status --pr %d` for all of it.*", pr.Number)
}
