package ghemu

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// The methods in this file let tests arrange state and assert on what a
// client did without going through the API (which would be recorded in
// Requests and could hide the calls under test).

// PullRequest is a snapshot of a pull request.
type PullRequest struct {
	Number         int
	State          string // open | closed
	Draft          bool
	Title          string
	Author         string
	HeadRef        string
	HeadSHA        string
	BaseRef        string
	Merged         bool
	MergedBy       string
	MergeCommitSHA string
	Labels         []string
	// AutoMergeBy is who enabled auto-merge ("" when it is not enabled),
	// AutoMergeMethod the merge it will make (merge or squash).
	AutoMergeBy, AutoMergeMethod string
}

// Review is a snapshot of a pull request review (REST spelling of State).
type Review struct {
	ID       int64
	User     string
	State    string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	CommitID string
	Body     string
}

// Comment is a snapshot of an issue comment.
type Comment struct {
	ID   int64
	User string
	Body string
}

// Status is a snapshot of a commit status.
type Status struct {
	Context     string
	State       string
	Description string
	TargetURL   string
	Creator     string
}

// CheckRun is a snapshot of a check run.
type CheckRun struct {
	ID         int64
	Name       string
	HeadSHA    string
	Status     string
	Conclusion string
	Title      string
	Summary    string
	Text       string
}

// repoByName finds "NAME" (in the org) or "OWNER/NAME"; the caller holds
// s.mu.
func (s *Server) repoByName(name string) (*repo, error) {
	if !strings.Contains(name, "/") {
		name = s.st.org.login + "/" + name
	}
	rp := s.st.repos[strings.ToLower(name)]
	if rp == nil {
		return nil, fmt.Errorf("ghemu: no repository %s", name)
	}
	return rp, nil
}

// PullRequests returns snapshots of every pull request of repo, by number.
func (s *Server) PullRequests(repo string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoByName(repo)
	if err != nil {
		return nil
	}
	var out []PullRequest
	for _, n := range sortedNumbers(rp) {
		is := rp.issues[n]
		p := is.pr
		if p == nil {
			continue
		}
		pr := PullRequest{Number: p.number, State: p.state, Draft: p.draft, Title: p.title, Author: p.user.login,
			HeadRef: p.headRef, HeadSHA: p.headSHA, BaseRef: p.baseRef, Merged: p.mergedAt != nil, MergeCommitSHA: p.mergeCommitSHA}
		if p.mergedBy != nil {
			pr.MergedBy = p.mergedBy.login
		}
		if am := p.autoMerge; am != nil {
			pr.AutoMergeBy, pr.AutoMergeMethod = am.by.acct.login, am.method
		}
		for _, l := range is.labels {
			pr.Labels = append(pr.Labels, l.name)
		}
		out = append(out, pr)
	}
	return out
}

// Reviews returns every review of pull request number in repo, oldest first
// (pending ones included).
func (s *Server) Reviews(repo string, number int) []Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoByName(repo)
	if err != nil || rp.issues[number] == nil || rp.issues[number].pr == nil {
		return nil
	}
	var out []Review
	for _, rv := range rp.issues[number].pr.reviews {
		out = append(out, Review{ID: rv.id, User: rv.user.login, State: rv.state, CommitID: rv.commitID, Body: rv.body})
	}
	return out
}

// Comments returns the comments on issue (pull request) number in repo.
func (s *Server) Comments(repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoByName(repo)
	if err != nil || rp.issues[number] == nil {
		return nil
	}
	var out []Comment
	for _, c := range rp.issues[number].comments {
		out = append(out, Comment{ID: c.id, User: c.user.login, Body: c.body})
	}
	return out
}

// Statuses returns every commit status posted on sha in repo, oldest first.
func (s *Server) Statuses(repo, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoByName(repo)
	if err != nil {
		return nil
	}
	var out []Status
	for _, st := range rp.statuses[sha] {
		out = append(out, Status{Context: st.context, State: st.state, Description: deref(st.description),
			TargetURL: deref(st.targetURL), Creator: st.creator.login})
	}
	return out
}

// CheckRuns returns every check run on sha in repo, oldest first.
func (s *Server) CheckRuns(repo, sha string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoByName(repo)
	if err != nil {
		return nil
	}
	var out []CheckRun
	for _, cr := range rp.checkRuns {
		if cr.headSHA == sha {
			out = append(out, CheckRun{ID: cr.id, Name: cr.name, HeadSHA: cr.headSHA, Status: cr.status,
				Conclusion: deref(cr.conclusion), Title: deref(cr.output.Title), Summary: deref(cr.output.Summary), Text: deref(cr.output.Text)})
		}
	}
	return out
}

// AddTeamMember adds login to team slug with role "member" or "maintainer".
func (s *Server) AddTeamMember(slug, login, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.teams[strings.ToLower(slug)]
	if t == nil {
		return fmt.Errorf("ghemu: no team %q", slug)
	}
	a := s.st.accounts[strings.ToLower(login)]
	if a == nil || a.typ != "User" {
		return fmt.Errorf("ghemu: %q is not a seeded user", login)
	}
	if role != "member" && role != "maintainer" {
		return fmt.Errorf("ghemu: team role %q is neither member nor maintainer", role)
	}
	if t.roles[a.login] == "" {
		t.members = append(t.members, a)
	}
	t.roles[a.login] = role
	return nil
}

// Change is one commit for Commit: files to write (path → content) and
// paths to delete, with the message kept byte for byte.
type Change struct {
	Branch  string            // created from the default branch when missing
	Author  string            // login of a seeded user; "" means the org
	Message string            // commit message
	Files   map[string]string // path → content
	Delete  []string          // paths to remove
}

// Commit makes one commit on a repository's branch as if it were pushed
// (push webhook, pull request synchronize, stale approvals dismissed) and
// returns its SHA. It is not recorded in Requests.
func (s *Server) Commit(ctx context.Context, repoName string, ch Change) (string, error) {
	s.mu.Lock()
	rp, err := s.repoByName(repoName)
	var who *account
	if err == nil {
		who = rp.owner
		if ch.Author != "" {
			who = s.st.accounts[strings.ToLower(ch.Author)]
			if who == nil || who.typ != "User" {
				err = fmt.Errorf("ghemu: author %q is not a seeded user", ch.Author)
			}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	if ch.Branch == "" {
		ch.Branch = rp.defaultBranch
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	parent, ok := rp.git.resolve(ctx, "refs/heads/"+ch.Branch)
	if !ok {
		parent, _ = rp.git.resolve(ctx, "refs/heads/"+rp.defaultBranch)
	}
	var edits []indexEdit
	paths := make([]string, 0, len(ch.Files))
	for p := range ch.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		sha, err := rp.git.writeBlob(ctx, []byte(ch.Files[p]))
		if err != nil {
			return "", err
		}
		edits = append(edits, indexEdit{path: p, mode: "100644", sha: sha})
	}
	for _, p := range ch.Delete {
		edits = append(edits, indexEdit{path: p, remove: true})
	}
	base, parents := "", []string(nil)
	if parent != "" {
		base, parents = parent+"^{tree}", []string{parent}
	}
	tree, err := rp.git.buildTree(ctx, base, edits)
	if err != nil {
		return "", fmt.Errorf("ghemu: building the tree: %w", err)
	}
	sig := signature{name: who.commitName(), email: who.commitEmail(), when: s.now()}
	sha, err := rp.git.commitTree(ctx, tree, parents, ch.Message, sig, sig)
	if err != nil {
		return "", err
	}
	old, _ := rp.git.resolve(ctx, "refs/heads/"+ch.Branch)
	if err := rp.git.updateRef(ctx, "refs/heads/"+ch.Branch, sha, old); err != nil {
		return "", err
	}
	if old == "" {
		old = zeroSHA
	}
	id := identity{kind: userToken, acct: who}
	s.refsChanged(ctx, rp, id, []refChange{{ref: "refs/heads/" + ch.Branch, before: old, after: sha}}, false)
	return sha, nil
}
