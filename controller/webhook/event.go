package webhook

import (
	"slices"
	"time"

	"github.com/google/go-github/v60/github"
)

// Event is one verified delivery, parsed.
type Event struct {
	Delivery, Name, Action string // X-GitHub-Delivery, X-GitHub-Event, payload "action"
	Installation           int64
	Repo                   string // repository.full_name ("" for app-level events)
	// PullRequests are the pull requests it concerns: pull_request and
	// pull_request_review → its number; check_suite and check_run → their
	// pull_requests[].number whose base is this repository.
	PullRequests []int
	HeadSHA      string // pull_request head.sha, check_suite/check_run head_sha, review commit_id
	Ref          string // push
	Before       string // push
	After        string // push
	Sender       string // sender.login
	Payload      any    // github.ParseWebHook's value (*github.PullRequestEvent, ...)
	Received     time.Time
}

// wanted are the events and actions jit acts on; everything else is
// answered 202 ignored. push has no action.
var wanted = map[string][]string{
	"pull_request":              {"opened", "reopened", "synchronize", "edited", "closed", "ready_for_review", "converted_to_draft"},
	"pull_request_review":       {"submitted", "edited", "dismissed"},
	"check_suite":               {"requested", "rerequested"},
	"check_run":                 {"rerequested"},
	"push":                      {""},
	"installation":              {"created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"},
	"installation_repositories": {"added", "removed"},
}

// Wanted reports whether jit acts on event with action (the default of
// Handler.Wants): the pull request's lifecycle, reviews, check re-runs,
// pushes and the App's installation changes.
func Wanted(event, action string) bool {
	return slices.Contains(wanted[event], action)
}

// WantedEvents returns the event names Wanted accepts some action of, for
// the App's event subscription.
func WantedEvents() []string {
	names := make([]string, 0, len(wanted))
	for n := range wanted {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// The parts of go-github's event types that most events share.
type (
	withAction       interface{ GetAction() string }
	withInstallation interface{ GetInstallation() *github.Installation }
	withRepo         interface{ GetRepo() *github.Repository }
	withSender       interface{ GetSender() *github.User }
)

// newEvent maps go-github's parsed payload p of event name to an Event.
func newEvent(delivery, name string, p any, received time.Time) Event {
	ev := Event{Delivery: delivery, Name: name, Payload: p, Received: received}
	if v, ok := p.(withAction); ok {
		ev.Action = v.GetAction()
	}
	if v, ok := p.(withInstallation); ok {
		ev.Installation = v.GetInstallation().GetID()
	}
	var repoID int64
	if v, ok := p.(withRepo); ok {
		ev.Repo, repoID = v.GetRepo().GetFullName(), v.GetRepo().GetID()
	}
	if v, ok := p.(withSender); ok {
		ev.Sender = v.GetSender().GetLogin()
	}
	switch e := p.(type) {
	case *github.PullRequestEvent:
		ev.PullRequests = number(e.GetPullRequest().GetNumber())
		ev.HeadSHA = e.GetPullRequest().GetHead().GetSHA()
	case *github.PullRequestReviewEvent:
		ev.PullRequests = number(e.GetPullRequest().GetNumber())
		ev.HeadSHA = e.GetReview().GetCommitID()
	case *github.CheckSuiteEvent:
		ev.PullRequests = numbers(e.GetCheckSuite().PullRequests, repoID)
		ev.HeadSHA = e.GetCheckSuite().GetHeadSHA()
	case *github.CheckRunEvent:
		ev.PullRequests = numbers(e.GetCheckRun().PullRequests, repoID)
		ev.HeadSHA = e.GetCheckRun().GetHeadSHA()
	case *github.PushEvent: // its repository is a *PushEventRepository
		ev.Repo = e.GetRepo().GetFullName()
		ev.Ref, ev.Before, ev.After = e.GetRef(), e.GetBefore(), e.GetAfter()
	}
	return ev
}

func number(n int) []int {
	if n <= 0 {
		return nil
	}
	return []int{n}
}

// numbers returns the numbers of a check's pull requests whose base is the
// repository repoID: GitHub also lists pull requests of other repositories
// (a fork's head pushed here) that this repository's numbers do not name.
func numbers(prs []*github.PullRequest, repoID int64) []int {
	var ns []int
	for _, pr := range prs {
		base := pr.GetBase().GetRepo().GetID()
		if pr.GetNumber() > 0 && (base == 0 || repoID == 0 || base == repoID) {
			ns = append(ns, pr.GetNumber())
		}
	}
	return ns
}
