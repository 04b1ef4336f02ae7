package desired

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/trailer"
)

// SignersFile is where the controller's public key lives, in OpenSSH
// allowed_signers format with the principal "jit".
const SignersFile = ".github/jit-signers"

// Commit is one commit as the reader needs it.
type Commit struct {
	// Hash is the full 40-hex object id.
	Hash string
	// Parents are the full hashes of the parents, the first parent first.
	Parents []string
	// Message is the full commit message.
	Message string
	// CommitTime is the committer time.
	CommitTime time.Time
}

// Repo is the read-only view of the access repository the reader needs.
// controller/history implements it over a local clone.
type Repo interface {
	// Resolve returns the full hash of the commit rev names.
	Resolve(ctx context.Context, rev string) (string, error)
	// CommitInfo returns the commit with full hash.
	CommitInfo(ctx context.Context, hash string) (Commit, error)
	// Tree returns the files of commit hash, rooted at the repository.
	Tree(ctx context.Context, hash string) (fs.FS, error)
	// BlobID returns the object id of the regular file path at commit hash,
	// or "" when there is no such regular file.
	BlobID(ctx context.Context, hash, path string) (string, error)
	// LastChanged returns, for each of paths present at rev, the first
	// commit along rev's first-parent history (newest first) whose tree
	// differs from its first parent's at that path: the commit that brought
	// in the file's current content.
	LastChanged(ctx context.Context, rev string, paths []string) (map[string]string, error)
	// ReplayedMerges returns the merges along the first-parent history of
	// tip whose second parent is their first parent or one of its
	// ancestors (the approved head was already on the branch), keyed by
	// full hash. It is read once per Read, whatever the number of grants.
	ReplayedMerges(ctx context.Context, tip string) (map[string]bool, error)
	// EverExisted returns the grant ids that existed at any commit along
	// the first-parent history of commit hash, each with the full hash of
	// the oldest commit of that history that added its file.
	EverExisted(ctx context.Context, hash string) (map[string]string, error)
}

// Grant is a grant that should exist: its file is on the branch and the
// commit that brought its content in carries a verified decision.
type Grant struct {
	Request grant.Request
	// ExpiresAt is the signed Jit-Expires-At of the decision.
	ExpiresAt time.Time
	// Decision is the full hash of the merge carrying the decision.
	Decision string
	// PullRequest is the number the decision names.
	PullRequest int
	// Policies are the policy names the decision names.
	Policies []string
	// Target is the named target the grant is applied to, resolved
	// (grant.ResolveTarget) with the policies at the merge's first parent;
	// "" when none of them declares targets (the controller's own
	// environment). Request.Target holds the same value, so that whoever
	// applies Request applies it to this target.
	Target string
}

// Kind names a kind of anomaly.
type Kind string

// The anomalies the reader reports. Each means a grant file on the branch
// is not applied.
const (
	// InvalidFile: the grant file does not parse.
	InvalidFile Kind = "invalid-file"
	// NotMerged: the commit that brought the file in is not a merge (a direct
	// push, a squash or a rebase).
	NotMerged Kind = "not-merged"
	// NoDecision: the merge carries no jit trailers.
	NoDecision Kind = "no-decision"
	// BadDecision: the trailers are malformed or inconsistent with the
	// merge (wrong head, another grant, another duration or requester).
	BadDecision Kind = "bad-decision"
	// BadSignature: the signature is missing, invalid, or by a key that
	// .github/jit-signers did not hold at the merge's first parent.
	BadSignature Kind = "bad-signature"
	// ContentMismatch: the approved head does not hold the file as merged.
	ContentMismatch Kind = "content-mismatch"
	// ExpiryOverCap: the signed expiry is later than the merge time plus the
	// strictest max_duration of the policies then in force.
	ExpiryOverCap Kind = "expiry-over-cap"
	// NoPolicy: no valid policy covered the file at the merge's first parent.
	NoPolicy Kind = "no-policy"
	// Replayed: the approved head was already on the branch before the
	// merge, so the signed decision is being used a second time (a grant
	// revoked early, brought back by merging its old head again).
	Replayed Kind = "replayed"
	// Resurrected: the merge adds a grant id that existed on the branch
	// before; ids are never reused.
	Resurrected Kind = "resurrected"
	// TargetNotAllowed: the policies at the merge's first parent allow the
	// grant no target (the one it names is not allowed, or it names none
	// and they do not allow exactly one).
	TargetNotAllowed Kind = "target-not-allowed"
)

// Anomaly is a grant file on the branch that is not applied, and why.
type Anomaly struct {
	Kind Kind
	// Grant and File identify the grant (Grant may be empty when the path
	// gives no id).
	Grant, File string
	// Commit is the full hash of the commit that shows the anomaly.
	Commit  string
	Message string
}

// String renders the anomaly for a log line or a terminal.
func (a Anomaly) String() string {
	c := a.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if c == "" {
		return fmt.Sprintf("%s: %s: %s", a.File, a.Kind, a.Message)
	}
	return fmt.Sprintf("%s: %s at commit %s: %s", a.File, a.Kind, c, a.Message)
}

// State is the desired state at one revision of the default branch.
type State struct {
	// Rev is the full hash read.
	Rev string
	// Grants are the verified grants present at Rev (expired ones too: the
	// caller compares expiry with its clock), sorted by id.
	Grants []Grant
	// Anomalies are the grant files at Rev that are not applied, sorted by
	// file.
	Anomalies []Anomaly
	// Tree is the tree of Rev, from which templates must be read.
	Tree fs.FS
}

// Read returns the desired state at rev, which must name the default
// branch's tip (or a commit on its first-parent history). The error is for
// what stops reading (an unknown revision, an unreadable repository); every
// grant that fails a check is an Anomaly.
func Read(ctx context.Context, repo Repo, rev string) (State, error) {
	tip, err := repo.Resolve(ctx, rev)
	if err != nil {
		return State{}, err
	}
	tree, err := repo.Tree(ctx, tip)
	if err != nil {
		return State{}, err
	}
	st := State{Rev: tip, Tree: tree}
	reqs, problems := request.Load(tree)
	bad := map[string]bool{}
	for _, p := range problems {
		if !bad[p.File] {
			id, _ := request.IDFromPath(p.File)
			st.Anomalies = append(st.Anomalies, Anomaly{Kind: InvalidFile, Grant: id, File: p.File, Message: p.String()})
		}
		bad[p.File] = true
	}
	var files []string
	for _, r := range reqs {
		if !bad[r.File] {
			files = append(files, r.File)
		}
	}
	changed, err := repo.LastChanged(ctx, tip, files)
	if err != nil {
		return State{}, fmt.Errorf("reading the history of %s: %w", short(tip), err)
	}
	v := verifier{repo: repo, tip: tip, policies: map[string]policiesAt{}, signers: map[string]signersAt{}}
	for _, r := range reqs {
		if bad[r.File] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return State{}, err
		}
		g, a, err := v.verify(ctx, r, changed[r.File])
		if err != nil {
			return State{}, err
		}
		if a != nil {
			st.Anomalies = append(st.Anomalies, *a)
			continue
		}
		st.Grants = append(st.Grants, g)
	}
	sort.Slice(st.Grants, func(i, j int) bool { return st.Grants[i].Request.ID < st.Grants[j].Request.ID })
	sort.SliceStable(st.Anomalies, func(i, j int) bool { return st.Anomalies[i].File < st.Anomalies[j].File })
	return st, nil
}

type policiesAt struct {
	policies []grant.Policy
	problems []grant.Problem
}

type signersAt struct {
	signers trailer.AllowedSigners
	err     error
}

// verifier checks grants against the commits that brought them in, caching
// what it reads per commit.
type verifier struct {
	repo     Repo
	tip      string
	policies map[string]policiesAt
	signers  map[string]signersAt
	ever     map[string]string // nil until first needed
	replayed map[string]bool   // nil until first needed
}

func (v *verifier) verify(ctx context.Context, req grant.Request, commit string) (Grant, *Anomaly, error) {
	anomaly := func(kind Kind, format string, args ...any) (Grant, *Anomaly, error) {
		return Grant{}, &Anomaly{Kind: kind, Grant: req.ID, File: req.File, Commit: commit, Message: fmt.Sprintf(format, args...)}, nil
	}
	if commit == "" {
		return anomaly(NotMerged, "no commit on the first-parent history of %s brings this file in", short(v.tip))
	}
	c, err := v.repo.CommitInfo(ctx, commit)
	if err != nil {
		return Grant{}, nil, err
	}
	if len(c.Parents) != 2 {
		return anomaly(NotMerged, "the commit that brought this file in has %d parent(s); only a merge of an approved pull request (two parents) can add or extend a grant", len(c.Parents))
	}
	ts, err := trailer.Parse(c.Message)
	if err != nil {
		return anomaly(BadDecision, "the merge's jit trailers are malformed: %v", err)
	}
	if len(ts) == 0 {
		return anomaly(NoDecision, "the merge carries no jit decision (merged without the controller)")
	}
	signers, err := v.signersAt(ctx, c.Parents[0])
	if err != nil {
		return anomaly(BadSignature, "%v", err)
	}
	if err := trailer.Verify(ts, signers); err != nil {
		return anomaly(BadSignature, "the decision's signature does not verify with %s at %s: %v", SignersFile, short(c.Parents[0]), err)
	}
	d, err := trailer.DecisionFrom(ts)
	if err != nil {
		return anomaly(BadDecision, "the signed trailers are not a decision: %v", err)
	}
	switch {
	case !slices.Contains(d.Grants, req.ID):
		return anomaly(BadDecision, "the signed decision names grants %v, not %s", d.Grants, req.ID)
	case d.Head != c.Parents[1]:
		return anomaly(BadDecision, "the signed Jit-Head %s is not the merge's second parent %s", short(d.Head), short(c.Parents[1]))
	case d.Duration != req.Duration:
		return anomaly(BadDecision, "the signed duration %s differs from the file's %s", grant.FormatDuration(d.Duration), grant.FormatDuration(req.Duration))
	case !slices.ContainsFunc(d.RequestedBy, func(l string) bool { return grant.SameLogin(l, req.Requester) }):
		return anomaly(BadDecision, "the signed requesters %v do not include the file's requester %s", d.RequestedBy, req.Requester)
	case d.BreakGlass != req.BreakGlass:
		return anomaly(BadDecision, "the signed break-glass flag (%t) differs from the file's (%t)", d.BreakGlass, req.BreakGlass)
	}
	// d.Head is the merge's second parent (checked above), so this is
	// whether the approved head is the first parent or one of its ancestors.
	replayed, err := v.replayedMerges(ctx)
	if err != nil {
		return Grant{}, nil, err
	}
	if replayed[commit] {
		return anomaly(Replayed, "the approved head %s was already on the branch before this merge: the decision was used before, and a merge of the same head cannot bring a grant back", short(d.Head))
	}
	before, err := v.repo.BlobID(ctx, c.Parents[0], req.File)
	if err != nil {
		return Grant{}, nil, err
	}
	if before == "" {
		// The merge is on the tip's first-parent history and adds the file:
		// the id existed before it exactly when that history added the
		// file at an older commit, so one read for the tip answers for
		// every grant.
		ever, err := v.everAtTip(ctx)
		if err != nil {
			return Grant{}, nil, err
		}
		first, ok := ever[req.ID]
		if !ok {
			// Impossible unless the history index lies: fail closed.
			return anomaly(Resurrected, "the history of %s does not record when grant id %s was added, so it cannot be told from an id used before: delete the jit directory in the clone's git directory (a cache) and run again", short(v.tip), req.ID)
		}
		if first != commit {
			return anomaly(Resurrected, "grant id %s existed on the branch before this merge; ids are never reused", req.ID)
		}
	}
	merged, err := v.repo.BlobID(ctx, commit, req.File)
	if err != nil {
		return Grant{}, nil, err
	}
	approved, err := v.repo.BlobID(ctx, d.Head, req.File)
	if err != nil {
		return Grant{}, nil, err
	}
	if approved == "" || approved != merged {
		return anomaly(ContentMismatch, "the approved head %s does not hold %s as merged", short(d.Head), req.File)
	}
	pa, err := v.policiesAt(ctx, c.Parents[0])
	if err != nil {
		return Grant{}, nil, err
	}
	if len(pa.problems) > 0 {
		return anomaly(NoPolicy, "the policies at %s have problems (first: %s), so no limit can be checked", short(c.Parents[0]), pa.problems[0])
	}
	// Other policy problems (a ticket pattern, the template list) were
	// judged when the pull request was approved; here only the cap matters.
	reqs, _ := grant.CheckPolicies(req, pa.policies)
	if len(reqs.Policies) == 0 {
		return anomaly(NoPolicy, "no policy at %s covers %s", short(c.Parents[0]), req.File)
	}
	if limit := c.CommitTime.Add(reqs.MaxDuration); d.ExpiresAt.After(limit) {
		return anomaly(ExpiryOverCap, "the signed expiry %s is later than the merge time %s plus the max_duration %s of policies %v",
			rfc3339(d.ExpiresAt), rfc3339(c.CommitTime), grant.FormatDuration(reqs.MaxDuration), reqs.Policies)
	}
	target, problems := grant.ResolveTarget(req, pa.policies)
	if len(problems) > 0 {
		return anomaly(TargetNotAllowed, "by the policies at %s: %s", short(c.Parents[0]), problems[0])
	}
	req.Target = target
	return Grant{Request: req, ExpiresAt: d.ExpiresAt.UTC(), Decision: commit, PullRequest: d.PullRequest, Policies: d.Policies, Target: target}, nil, nil
}

func (v *verifier) signersAt(ctx context.Context, commit string) (trailer.AllowedSigners, error) {
	if s, ok := v.signers[commit]; ok {
		return s.signers, s.err
	}
	var s signersAt
	tree, err := v.repo.Tree(ctx, commit)
	if err == nil {
		s.signers, s.err = Signers(tree, commit)
	} else {
		s.err = err
	}
	v.signers[commit] = s
	return s.signers, s.err
}

// replayedMerges returns the tip's merges of an approved head that was
// already on the branch, read on first use (one walk for all grants).
func (v *verifier) replayedMerges(ctx context.Context) (map[string]bool, error) {
	if v.replayed != nil {
		return v.replayed, nil
	}
	r, err := v.repo.ReplayedMerges(ctx, v.tip)
	if err != nil {
		return nil, fmt.Errorf("reading which merges of %s merged a head already on it: %w", short(v.tip), err)
	}
	if r == nil {
		r = map[string]bool{}
	}
	v.replayed = r
	return r, nil
}

// everAtTip returns the ids that existed along the tip's first-parent
// history, each with the oldest commit that added its file, read once.
func (v *verifier) everAtTip(ctx context.Context) (map[string]string, error) {
	if v.ever != nil {
		return v.ever, nil
	}
	ever, err := v.repo.EverExisted(ctx, v.tip)
	if err != nil {
		return nil, err
	}
	v.ever = ever
	return ever, nil
}

func (v *verifier) policiesAt(ctx context.Context, commit string) (policiesAt, error) {
	if p, ok := v.policies[commit]; ok {
		return p, nil
	}
	tree, err := v.repo.Tree(ctx, commit)
	if err != nil {
		return policiesAt{}, err
	}
	var p policiesAt
	p.policies, p.problems = policy.Load(tree)
	v.policies[commit] = p
	return p, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Signers reads the allowed signers that tree, the tree of commit, holds
// in SignersFile: the keys whose signatures count on records whose first
// parent is commit. A tree without the file, or with one that does not
// parse, trusts nobody: an error says which (wrapping ErrUnreadable when
// git could not read it).
func Signers(tree fs.FS, commit string) (trailer.AllowedSigners, error) {
	data, err := fs.ReadFile(tree, SignersFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist at %s, so no decision merged on it can be verified", SignersFile, short(commit))
	case err != nil:
		return nil, fmt.Errorf("%w: reading %s at %s: %w", ErrUnreadable, SignersFile, short(commit), err)
	}
	return trailer.ParseAllowedSigners(SignersFile, data)
}

// ErrUnreadable marks a signers file git could not read (as opposed to
// one that is absent or does not parse).
var ErrUnreadable = errors.New("unreadable")
