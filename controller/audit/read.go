package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/trailer"
)

// Options tune Read. The zero value judges at the tip's committer time and
// flags 3 renewals in a row with gaps under 15 minutes.
type Options struct {
	// Now is the moment expiry and review windows are judged at; zero means
	// the committer time of the tip.
	Now time.Time
	// RenewalGap is the largest gap between one grant's end and the next
	// one's start that still counts as back to back; 0 means 15 minutes.
	RenewalGap time.Duration
	// RenewalRun is how many grants back to back make access standing; 0
	// means 3, and a negative value turns the check off.
	RenewalRun int
}

// Defaults for Options.
const (
	DefaultRenewalGap = 15 * time.Minute
	DefaultRenewalRun = 3
)

// maxGrantFile is the largest grant file the parser accepts (DESIGN: 64 KiB).
const maxGrantFile = 64 << 10

type step struct {
	c       history.Commit
	changes []history.Change
	// boundary marks the oldest commit of a truncated history: its changes
	// are every grant file present there, of unknown origin.
	boundary bool
}

// Read walks the first-parent history of rev once and returns every grant's
// story and every anomaly. The error is only for what stops reading at all
// (an unknown revision, a cancelled ctx); a history that ends early (a
// shallow clone, a missing object) is read as far as it goes and reported as
// a Truncated anomaly.
func Read(ctx context.Context, repo *history.Repo, rev string, opts Options) (*Trail, error) {
	tip, err := repo.Resolve(rev)
	if err != nil {
		return nil, err
	}
	var steps []step
	walkErr := repo.FirstParentChanges(ctx, tip, func(c history.Commit, ch []history.Change) bool {
		steps = append(steps, step{c: c, changes: ch})
		return true
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &reader{repo: repo, trail: &Trail{Rev: tip}, stories: map[string]*Story{},
		signers: map[string]signersAt{}, governance: map[string]governanceAt{}, ever: map[string]bool{}}
	if walkErr != nil {
		steps = r.truncated(ctx, tip, steps, walkErr)
	}
	slices.Reverse(steps)
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.commit(s)
	}
	r.trail.Now = opts.Now
	if r.trail.Now.IsZero() && len(steps) > 0 {
		r.trail.Now = steps[len(steps)-1].c.Committer.When.UTC()
	}
	r.judge(opts)
	return r.trail, nil
}

// truncated records that the walk stopped at err and returns steps with the
// commit it could not go past, when that commit itself is readable, as a
// boundary whose grant files are taken as present.
func (r *reader) truncated(ctx context.Context, tip string, steps []step, err error) []step {
	r.trail.Truncated = true
	at := tip
	if n := len(steps); n > 0 && len(steps[n-1].c.Parents) > 0 {
		at = steps[n-1].c.Parents[0]
	}
	c, cerr := r.repo.CommitInfo(at)
	if cerr != nil {
		r.add(&Anomaly{Kind: Truncated, Commit: at, Message: fmt.Sprintf(
			"the history cannot be read past this commit (%v); fetch the full history (git fetch --unshallow) and audit again", err)})
		return steps
	}
	all, derr := r.repo.Changes(ctx, "", at)
	if derr != nil {
		r.add(&Anomaly{Kind: Truncated, Commit: at, Message: fmt.Sprintf(
			"the history cannot be read past this commit and its tree is unreadable (%v); fetch the full history and audit again", derr)})
		return steps
	}
	var grants []history.Change
	for _, ch := range all {
		if history.IsGrantPath(ch.Path) {
			grants = append(grants, ch)
		}
	}
	r.add(&Anomaly{Kind: Truncated, Commit: at, Message: fmt.Sprintf(
		"the history ends here: the parent of this commit is missing (a shallow clone?) (%v); the %d grant(s) present here have no known origin; fetch the full history (git fetch --unshallow) and audit again", err, len(grants))})
	return append(steps, step{c: c, changes: grants, boundary: true})
}

type signersAt struct {
	signers trailer.AllowedSigners
	err     error
}

// governanceAt is what one commit's governing files say, as far as the
// audit judges them: the policies and the CODEOWNERS file.
type governanceAt struct {
	policies []grant.Policy
	problems []grant.Problem
	err      error
	owners   *codeowners.File
	// ownersErr says why nobody was eligible ("" when owners holds).
	ownersErr string
}

// reader builds the trail commit by commit, oldest first.
type reader struct {
	repo    *history.Repo
	trail   *Trail
	stories map[string]*Story
	// signers caches the parsed .github/jit-signers by blob id; governance
	// caches the policies and CODEOWNERS by commit.
	signers    map[string]signersAt
	governance map[string]governanceAt
	// ever holds every grant id that has existed on the branch so far.
	ever map[string]bool
}

// add records a, on its grant's story too when it has one.
func (r *reader) add(a *Anomaly) {
	r.trail.Anomalies = append(r.trail.Anomalies, *a)
	if s := r.stories[a.Grant]; s != nil {
		s.Anomalies = append(s.Anomalies, *a)
	}
}

// record is the signed Jit-* block of one commit, as far as it could be read.
type record struct {
	trailers []trailer.Trailer
	// problem says why the block is not trusted ("" when it verified).
	problem string
	kind    Kind
}

func (rec record) ok() bool { return len(rec.trailers) > 0 && rec.problem == "" }

// malformed reports trailers that could not be parsed at all.
func (rec record) malformed() bool { return len(rec.trailers) == 0 && rec.problem != "" }

// readRecord parses and verifies c's trailers.
func (r *reader) readRecord(c history.Commit) record {
	ts, err := trailer.Parse(c.Message)
	if err != nil {
		return record{kind: BadRecord, problem: fmt.Sprintf("the Jit-* trailers are malformed: %v", err)}
	}
	if len(ts) == 0 {
		return record{}
	}
	rec := record{trailers: ts}
	if len(c.Parents) == 0 {
		rec.kind, rec.problem = BadSignature, "a root commit has no parent whose "+desired.SignersFile+" could verify it"
		return rec
	}
	signers, err := r.signersAt(c.Parents[0])
	if err == nil {
		err = trailer.Verify(ts, signers)
	}
	if err != nil {
		rec.kind, rec.problem = BadSignature, fmt.Sprintf("the signature does not verify with %s at %s: %v", desired.SignersFile, Short(c.Parents[0]), err)
	}
	return rec
}

func (r *reader) signersAt(commit string) (trailer.AllowedSigners, error) {
	e, err := r.repo.BlobID(commit, desired.SignersFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist at %s", desired.SignersFile, Short(commit))
	}
	if err != nil {
		return nil, err
	}
	if s, ok := r.signers[e.Blob]; ok {
		return s.signers, s.err
	}
	var s signersAt
	data, size, err := r.repo.ReadBlob(e.Blob, 1<<20)
	switch {
	case err != nil:
		s.err = err
	case data == nil:
		s.err = fmt.Errorf("%s at %s is %d bytes, too large to be an allowed_signers file", desired.SignersFile, Short(commit), size)
	default:
		s.signers, s.err = trailer.ParseAllowedSigners(desired.SignersFile, data)
	}
	r.signers[e.Blob] = s
	return s.signers, s.err
}

func (r *reader) governanceAt(commit string) governanceAt {
	if g, ok := r.governance[commit]; ok {
		return g
	}
	var g governanceAt
	tree, err := r.repo.FS(commit)
	if err != nil {
		g.err = err
		g.ownersErr = err.Error()
	} else {
		g.policies, g.problems = policy.Load(tree)
		g.owners, err = change.ReadCodeowners(tree)
		switch {
		case err != nil:
			g.ownersErr = err.Error()
		case g.owners == nil:
			g.ownersErr = "there is no CODEOWNERS file (looked for " + strings.Join(codeowners.Locations, ", ") + ")"
		case g.owners.Err() != nil:
			g.ownersErr = fmt.Sprintf("CODEOWNERS has errors (first: %s)", g.owners.Errors[0].Message)
		}
	}
	r.governance[commit] = g
	return g
}

// commit applies one commit of the history to the stories.
func (r *reader) commit(s step) {
	c := s.c
	at := c.Committer.When.UTC()
	var rec record
	if !s.boundary {
		rec = r.readRecord(c)
	}
	isEvent := len(rec.trailers) > 0 && trailer.IsEvent(rec.trailers)
	var ev trailer.Event
	var evProblem string
	if isEvent && rec.ok() {
		var err error
		if ev, err = trailer.EventFrom(rec.trailers); err != nil {
			evProblem = fmt.Sprintf("the signed record is not a valid event: %v", err)
		} else {
			evProblem = eventFits(ev, c)
		}
	}
	for _, ch := range s.changes {
		id, problem := request.IDFromPath(ch.Path)
		if problem != "" {
			r.badPath(c, ch, at, problem)
			continue
		}
		switch {
		case s.boundary:
			r.present(c, ch, at)
		case ch.Action == history.Added:
			r.added(c, ch, at, rec, isEvent)
		case ch.Action == history.Modified:
			r.modified(c, ch, at, rec, isEvent)
		case ch.Action == history.Deleted:
			r.deleted(c, id, ch.Path, at, rec, ev, evProblem, isEvent)
		}
	}
	if rec.malformed() && len(s.changes) == 0 {
		r.add(&Anomaly{Kind: rec.kind, Commit: c.Hash, Message: rec.problem + "; this record is ignored"})
	}
	if !isEvent {
		return
	}
	if !rec.ok() || evProblem != "" {
		r.untrusted(c, rec, evProblem)
		return
	}
	for _, id := range ev.Grants {
		r.event(c, id, at, ev)
	}
}

// badPath reports a file under access/ whose path cannot hold a grant; the
// controller never applies it, but it is on the branch for all to see.
func (r *reader) badPath(c history.Commit, ch history.Change, at time.Time, problem string) {
	if ch.Action == history.Deleted {
		return
	}
	id := strings.TrimSuffix(strings.TrimPrefix(ch.Path, "access/"), ".yaml")
	s := r.story(id, ch.Path)
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "changed", Detail: ch.Path + " " + ch.Action.String()})
	r.add(&Anomaly{Kind: InvalidFile, Grant: id, Commit: c.Hash, Message: fmt.Sprintf("%s: %s", ch.Path, problem)})
}

// eventFits checks that a verified event belongs to commit c, so that a
// signed message copied onto another commit is not trusted.
func eventFits(ev trailer.Event, c history.Commit) string {
	if ev.Kind == trailer.Expire {
		if len(c.Parents) != 2 || ev.Head != c.Parents[1] {
			return fmt.Sprintf("the signed Jit-Head %s is not this merge's second parent: the record was copied from another commit", Short(ev.Head))
		}
		return ""
	}
	if len(c.Parents) == 0 || ev.Parent != c.Parents[0] {
		return fmt.Sprintf("the signed Jit-Parent %s is not this commit's parent: the record was copied from another commit", Short(ev.Parent))
	}
	return ""
}

// untrusted reports an event record that did not verify, on every grant it
// claims to name (or on the history when it names none readable).
func (r *reader) untrusted(c history.Commit, rec record, problem string) {
	kind, msg := rec.kind, rec.problem
	if msg == "" {
		kind, msg = BadRecord, problem
	}
	var ids []string
	for _, t := range rec.trailers {
		if t.Key == trailer.KeyGrant {
			ids = append(ids, t.Value)
		}
	}
	if len(ids) == 0 {
		ids = []string{""}
	}
	for _, id := range ids {
		if s := r.stories[id]; s != nil {
			s.Steps = append(s.Steps, Step{At: c.Committer.When.UTC(), Commit: c.Hash, What: eventName(rec.trailers), Detail: "not trusted: " + msg})
		}
		r.add(&Anomaly{Kind: kind, Grant: id, Commit: c.Hash, Message: msg + "; this record is ignored"})
	}
}

func eventName(ts []trailer.Trailer) string {
	for _, t := range ts {
		if t.Key == trailer.KeyEvent && t.Value != "" {
			return t.Value
		}
	}
	return "record"
}

// story returns the story of id, creating it.
func (r *reader) story(id, file string) *Story {
	s := r.stories[id]
	if s == nil {
		s = &Story{ID: id, File: file, Cleanup: CleanupNone}
		r.stories[id] = s
		r.trail.Stories = append(r.trail.Stories, s)
	}
	return s
}

// parse reads the grant file's blob; a problem is reported on s.
func (r *reader) parse(s *Story, c history.Commit, ch history.Change) (grant.Request, bool) {
	if !ch.To.Mode.IsFile() {
		r.add(&Anomaly{Kind: InvalidFile, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf("%s is a %s, not a regular file", ch.Path, ch.To.Mode)})
		return grant.Request{}, false
	}
	data, size, err := r.repo.ReadBlob(ch.To.Blob, maxGrantFile)
	if err != nil {
		r.add(&Anomaly{Kind: InvalidFile, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf("reading %s: %v", ch.Path, err)})
		return grant.Request{}, false
	}
	if data == nil {
		r.add(&Anomaly{Kind: InvalidFile, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf("%s is %d bytes, over the %d-byte limit of a grant file", ch.Path, size, maxGrantFile)})
		return grant.Request{}, false
	}
	req, problems := request.Parse(ch.Path, data)
	if len(problems) > 0 {
		r.add(&Anomaly{Kind: InvalidFile, Grant: s.ID, Commit: c.Hash, Message: problems[0].String()})
		return grant.Request{}, false
	}
	return req, true
}

func fill(s *Story, req grant.Request) {
	s.Requester, s.Template, s.Scope = req.Requester, req.Template, req.Scope
	s.Reason, s.Ticket, s.Duration, s.BreakGlass = req.Reason, req.Ticket, req.Duration, req.BreakGlass
}

// present records a grant file found where a truncated history begins.
func (r *reader) present(c history.Commit, ch history.Change, at time.Time) {
	id, _ := request.IDFromPath(ch.Path)
	s := r.story(id, ch.Path)
	s.Partial = true
	r.ever[id] = true
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "present", Detail: "already present where the readable history begins; how it was added is unknown"})
	if req, ok := r.parse(s, c, ch); ok {
		fill(s, req)
	}
}

// decisionFor returns the verified decision of merge c for the grant file
// ch, or the anomaly that says why there is none.
func (r *reader) decisionFor(c history.Commit, ch history.Change, id string, rec record, isEvent bool) (trailer.Decision, *Anomaly) {
	bad := func(kind Kind, format string, args ...any) (trailer.Decision, *Anomaly) {
		return trailer.Decision{}, &Anomaly{Kind: kind, Grant: id, Commit: c.Hash, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case len(c.Parents) != 2:
		return bad(NoDecision, "%s was %s by a commit with %d parent(s), not by the merge of an approved pull request (a direct push, a squash or a rebase)", ch.Path, ch.Action, len(c.Parents))
	case rec.malformed():
		return bad(rec.kind, "%s", rec.problem)
	case len(rec.trailers) == 0:
		return bad(NoDecision, "%s was %s by a merge that carries no controller decision (merged without jit, such as with the merge button)", ch.Path, ch.Action)
	case isEvent:
		return bad(NoDecision, "%s was %s by a merge whose record is an event, not a decision", ch.Path, ch.Action)
	case !rec.ok():
		return bad(rec.kind, "%s", rec.problem)
	}
	d, err := trailer.DecisionFrom(rec.trailers)
	if err != nil {
		return bad(BadRecord, "the signed trailers are not a decision: %v", err)
	}
	switch {
	case !slices.Contains(d.Grants, id):
		return bad(NoDecision, "the signed decision names grants %v, not %s", d.Grants, id)
	case d.Head != c.Parents[1]:
		return bad(BadRecord, "the signed Jit-Head %s is not the merge's second parent %s", Short(d.Head), Short(c.Parents[1]))
	}
	if e, err := r.repo.BlobID(d.Head, ch.Path); err != nil || e.Blob != ch.To.Blob {
		return bad(BadRecord, "the approved head %s does not hold %s as merged", Short(d.Head), ch.Path)
	}
	return d, nil
}

// mismatch says how a verified decision disagrees with the grant file it
// merged, or "".
func mismatch(d trailer.Decision, req grant.Request) string {
	switch {
	case d.Duration != req.Duration:
		return fmt.Sprintf("the signed duration %s differs from the file's %s", grant.FormatDuration(d.Duration), grant.FormatDuration(req.Duration))
	case !slices.ContainsFunc(d.RequestedBy, func(l string) bool { return grant.SameLogin(l, req.Requester) }):
		return fmt.Sprintf("the signed requesters %v do not include the file's requester %s", d.RequestedBy, req.Requester)
	case d.BreakGlass != req.BreakGlass:
		return fmt.Sprintf("the signed break-glass flag (%t) differs from the file's (%t)", d.BreakGlass, req.BreakGlass)
	}
	return ""
}

// added handles a grant file added by c.
func (r *reader) added(c history.Commit, ch history.Change, at time.Time, rec record, isEvent bool) {
	id, _ := request.IDFromPath(ch.Path)
	if r.ever[id] {
		s := r.story(id, ch.Path)
		s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "re-added", Detail: ch.Path + " added again"})
		r.add(&Anomaly{Kind: Resurrected, Grant: id, Commit: c.Hash, Message: fmt.Sprintf("grant id %s existed on the branch before (first at %s); ids are never reused, so this grant is not trusted", id, Short(s.MergeCommit))})
		return
	}
	r.ever[id] = true
	s := r.story(id, ch.Path)
	s.MergedAt, s.MergeCommit = at, c.Hash
	req, parsed := r.parse(s, c, ch)
	if parsed {
		fill(s, req)
	}
	d, a := r.decisionFor(c, ch, id, rec, isEvent)
	if a != nil {
		s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "requested", Detail: "added without a verified controller decision"})
		r.add(a)
		return
	}
	if parsed {
		if msg := mismatch(d, req); msg != "" {
			s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "requested", Detail: "the signed decision does not match the file"})
			r.add(&Anomaly{Kind: BadRecord, Grant: id, Commit: c.Hash, Message: msg})
			return
		}
	}
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "requested", Detail: decisionDetail(d), Verified: true})
	s.Approved = parsed
	s.Policies, s.PullRequest, s.ExpiresAt = d.Policies, d.PullRequest, d.ExpiresAt.UTC()
	s.BreakGlass = s.BreakGlass || d.BreakGlass
	for _, a := range d.ApprovedBy {
		ap := Approver{Login: a}
		for _, v := range d.EligibleVia {
			if grant.SameLogin(v.Login, a) {
				ap.Via = v.Owner
				break
			}
		}
		s.Approvers = append(s.Approvers, ap)
	}
	if parsed {
		r.checkGovernance(s, req, c, d)
	}
}

func decisionDetail(d trailer.Decision) string {
	var via []string
	for _, v := range d.EligibleVia {
		via = append(via, v.String())
	}
	detail := fmt.Sprintf("pull request #%d merged for %s, approved by %v (eligible via %v) under %v, expires %s",
		d.PullRequest, grant.FormatDuration(d.Duration), d.ApprovedBy, via, d.Policies, rfc3339(d.ExpiresAt))
	if d.BreakGlass {
		detail += ", break-glass"
	}
	return detail
}

// checkGovernance judges a verified decision by the governing files at the
// merge's first parent: each approver eligible through the CODEOWNERS entry
// the decision names, the signed expiry within the policies' cap; and notes
// the break-glass review window.
func (r *reader) checkGovernance(s *Story, req grant.Request, c history.Commit, d trailer.Decision) {
	pa := r.governanceAt(c.Parents[0])
	r.checkApprovers(s, pa, c, d)
	var msg string
	switch {
	case pa.err != nil:
		msg = fmt.Sprintf("the policies at %s cannot be read (%v), so the duration cap cannot be checked", Short(c.Parents[0]), pa.err)
	case len(pa.problems) > 0:
		msg = fmt.Sprintf("the policies at %s have problems (first: %s), so the duration cap cannot be checked", Short(c.Parents[0]), pa.problems[0])
	}
	if msg != "" {
		r.add(&Anomaly{Kind: OverCap, Grant: s.ID, Commit: c.Hash, Message: msg})
		return
	}
	reqs, _ := grant.CheckPolicies(req, pa.policies)
	s.reviewWindow = reqs.ReviewWindow
	if len(reqs.Policies) == 0 {
		r.add(&Anomaly{Kind: OverCap, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf("no policy at %s covers %s, so no duration was allowed", Short(c.Parents[0]), s.File)})
		return
	}
	if limit := c.Committer.When.Add(reqs.MaxDuration); d.ExpiresAt.After(limit) {
		r.add(&Anomaly{Kind: OverCap, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf(
			"the signed expiry %s is later than the merge time %s plus the max_duration %s of policies %v",
			rfc3339(d.ExpiresAt), rfc3339(c.Committer.When), grant.FormatDuration(reqs.MaxDuration), reqs.Policies)})
	}
}

// checkApprovers flags each approver whose recorded owner entry did not own
// the grant file at the merge's first parent. A team's membership cannot be
// seen from a clone, so a team entry that owned the file is taken as the
// decision records it; a user entry must name the approver.
func (r *reader) checkApprovers(s *Story, g governanceAt, c history.Commit, d trailer.Decision) {
	for _, login := range d.ApprovedBy {
		var vias []string
		for _, v := range d.EligibleVia {
			if grant.SameLogin(v.Login, login) {
				vias = append(vias, v.Owner)
			}
		}
		if g.ownersErr != "" {
			r.add(&Anomaly{Kind: IneligibleApprover, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf(
				"approver %s counted, but at %s %s, so nobody was eligible", login, Short(c.Parents[0]), g.ownersErr)})
			continue
		}
		owners := g.owners.Owners(s.File)
		eligible := slices.ContainsFunc(owners, func(o codeowners.Owner) bool {
			return slices.ContainsFunc(vias, func(v string) bool {
				return strings.EqualFold(o.String(), v) && (o.Kind != codeowners.User || grant.SameLogin(o.Value, login))
			})
		})
		if !eligible {
			var names []string
			for _, o := range owners {
				names = append(names, o.String())
			}
			r.add(&Anomaly{Kind: IneligibleApprover, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf(
				"approver %s counted as eligible via %v, but CODEOWNERS at %s gives %s to %v", login, vias, Short(c.Parents[0]), s.File, names)})
		}
	}
}

// modified handles an edited grant file: an extension when a verified
// decision names it.
func (r *reader) modified(c history.Commit, ch history.Change, at time.Time, rec record, isEvent bool) {
	id, _ := request.IDFromPath(ch.Path)
	s := r.story(id, ch.Path)
	d, a := r.decisionFor(c, ch, id, rec, isEvent)
	if a != nil {
		s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "changed", Detail: "edited without a verified controller decision"})
		r.add(a)
		return
	}
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "extended", Detail: decisionDetail(d), Verified: true})
	s.ExpiresAt = d.ExpiresAt.UTC()
	if req, ok := r.parse(s, c, ch); ok {
		s.Duration = req.Duration
		if s.Approved {
			r.checkGovernance(s, req, c, d)
		}
	}
}

// deleted handles a removed grant file: the end of the grant, by a verified
// expire merge or without one.
func (r *reader) deleted(c history.Commit, id, path string, at time.Time, rec record, ev trailer.Event, evProblem string, isEvent bool) {
	s := r.story(id, path)
	if isEvent && rec.ok() && evProblem == "" && ev.Kind == trailer.Expire && slices.Contains(ev.Grants, id) {
		return // the event itself records it
	}
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "deleted", Detail: "the grant file was removed without a verified expire record"})
	if s.Ending == Open {
		s.Ending = Deleted
	}
}

// event applies a verified event to grant id.
func (r *reader) event(c history.Commit, id string, at time.Time, ev trailer.Event) {
	s := r.stories[id]
	if s == nil {
		s = r.story(id, "access/"+id+".yaml")
	}
	st := Step{At: at, Commit: c.Hash, What: string(ev.Kind), Verified: true}
	switch ev.Kind {
	case trailer.Activated:
		st.Detail = fmt.Sprintf("resources %v, expires %s", ev.Resources, rfc3339(ev.ExpiresAt))
		if !s.Approved && !s.Partial {
			r.add(&Anomaly{Kind: ActivationWithoutApproval, Grant: id, Commit: c.Hash, Message: fmt.Sprintf("grant %s was activated but no verified controller decision added it", id)})
		}
		if s.ActivatedAt.IsZero() {
			s.ActivatedAt = at
		}
		for _, res := range ev.Resources {
			if !slices.Contains(s.Resources, res) {
				s.Resources = append(s.Resources, res)
			}
		}
	case trailer.ActivationFailed, trailer.RevokeFailed:
		st.Detail = ev.Error
		if ev.Kind == trailer.RevokeFailed {
			s.revokeFailed = at
		}
	case trailer.Expire:
		st.Detail = ev.Reason
		s.expiryMerge = at
		if login, ok := strings.CutPrefix(ev.Reason, trailer.ReasonRevokedBy("")); ok {
			s.Ending, s.RevokedBy = RevokedEarly, login
		} else {
			s.Ending = Expired
		}
	case trailer.Revoked:
		st.Detail = fmt.Sprintf("resources %v", ev.Resources)
		s.revoked = at
	case trailer.BreakGlassReviewed:
		st.Detail = fmt.Sprintf("reviewed by %v", ev.ReviewedBy)
		if s.ReviewedAt.IsZero() {
			s.ReviewedAt, s.ReviewedBy = at, ev.ReviewedBy
		}
	}
	s.Steps = append(s.Steps, st)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
