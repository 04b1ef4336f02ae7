package grant

import "time"

// ChangeKind is what a pull request does to one grant.
type ChangeKind string

// The kinds of change a pull request may make to a grant.
const (
	// Added is a new grant file: a request.
	Added ChangeKind = "added"
	// Extended is a live grant whose duration grew.
	Extended ChangeKind = "extended"
	// Shortened is a live grant whose duration shrank.
	Shortened ChangeKind = "shortened"
	// Deleted is a grant file removed: early revocation.
	Deleted ChangeKind = "deleted"
)

// GrantChange is one grant a pull request adds, extends, shortens or
// deletes, judged by the default branch's governing files. The shell builds
// it from the classified change; Decide reads only these values.
type GrantChange struct {
	ID   string
	File string
	Kind ChangeKind
	// Requester is the grant file's requester (for a deletion, from the file
	// as it was before).
	Requester string
	// BreakGlass reports a break-glass grant (approved after the fact).
	BreakGlass bool
	// Requirements are what the covering policies demand together (for a
	// deletion, the policies covering the deleted file).
	Requirements Requirements
	// Owners are the code owners of File per the default branch's
	// CODEOWNERS, exactly as written there ("@acme/dba", "@alice"); empty
	// when nobody owns the file or CODEOWNERS has errors.
	Owners []string
}

// Change is everything a pull request changes, as classified from git: the
// grants it touches and the problems that make it invalid.
type Change struct {
	Grants []GrantChange
	// Problems are what is wrong with the change (a grant file that does not
	// parse, a governing file changed alongside access/, ...). A change with
	// problems is never approved.
	Problems []Problem
}

// ReviewState is the state of a pull request review as GitHub's REST API
// writes it.
type ReviewState string

// Review states (REST, upper case).
const (
	ReviewApproved         ReviewState = "APPROVED"
	ReviewChangesRequested ReviewState = "CHANGES_REQUESTED"
	ReviewCommented        ReviewState = "COMMENTED"
	ReviewDismissed        ReviewState = "DISMISSED"
	ReviewPending          ReviewState = "PENDING"
)

// Review is one submitted pull request review.
type Review struct {
	// ID orders reviews submitted in the same second.
	ID       int64
	Reviewer string
	State    ReviewState
	// CommitSHA is the head the review was submitted on.
	CommitSHA   string
	SubmittedAt time.Time
}

// Commit is one commit of a pull request, with the GitHub logins behind it.
type Commit struct {
	SHA string
	// Author and Committer are GitHub logins; empty when GitHub could not
	// link the commit's e-mail address to an account.
	Author    string
	Committer string
	// CoAuthors are the logins named by the commit's Co-authored-by
	// trailers, as the shell resolved them.
	CoAuthors []string
}

// Permission is a collaborator's permission on the repository, as GitHub's
// "get repository permissions for a user" endpoint names it.
type Permission string

// Repository permissions, weakest first.
const (
	PermissionNone     Permission = "none"
	PermissionRead     Permission = "read"
	PermissionTriage   Permission = "triage"
	PermissionWrite    Permission = "write"
	PermissionMaintain Permission = "maintain"
	PermissionAdmin    Permission = "admin"
)

// Evidence is what the shell gathered about a pull request at one moment:
// plain values, so that Decide needs no I/O.
type Evidence struct {
	// Author is the pull request author's login.
	Author string
	// BaseSHA and HeadSHA are the revisions evaluated; an approval counts
	// only on HeadSHA.
	BaseSHA, HeadSHA string
	// Commits are every commit of the pull request.
	Commits []Commit
	// Reviews are every review of the pull request, in any order.
	Reviews []Review
	// Teams maps each team named by an owner or a policy ("@acme/dba") to
	// its members' logins. A team missing from the map has no known members.
	Teams map[string][]string
	// Permissions maps reviewers' logins to their repository permission. A
	// login missing from the map has no known permission (not eligible).
	// Include the author's too: an author who deletes others' grants as
	// their code owner needs write access like an approver (Decide).
	Permissions map[string]Permission
}
