package audit

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/trailer"
)

// This file turns each grant file change and each verified event into the
// steps of a story.

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

// parse reads the grant file's blob; a problem is reported on s. The
// verifier pool has usually parsed it already (r.grants).
func (r *reader) parse(s *Story, c history.Commit, ch history.Change) (grant.Request, bool) {
	if !ch.To.Mode.IsFile() {
		r.add(&Anomaly{Kind: InvalidFile, Grant: s.ID, Commit: c.Hash, Message: fmt.Sprintf("%s is a %s, not a regular file", ch.Path, ch.To.Mode)})
		return grant.Request{}, false
	}
	// Each parse is used once, then dropped: the same content again (a
	// revert) is read again.
	k := grantKey{ch.Path, ch.To.Blob}
	g := r.grants[k]
	delete(r.grants, k)
	if g == nil {
		g = &parsedGrant{}
		g.read(r.repo, ch.Path, ch.To.Blob)
	}
	if g.problem != "" {
		r.add(&Anomaly{Kind: InvalidFile, Grant: s.ID, Commit: c.Hash, Message: g.problem})
		return grant.Request{}, false
	}
	return g.req, true
}

// grantKey names one grant file's content at one path: what parsing it
// depends on.
type grantKey struct{ path, blob string }

// parsedGrant is one grant file read and parsed: the request, or the
// problem that stops it being one.
type parsedGrant struct {
	req     grant.Request
	problem string
}

// read reads and parses the regular file path whose blob is blob; safe for
// concurrent use on distinct values.
func (g *parsedGrant) read(repo *history.Repo, path, blob string) {
	data, size, err := repo.ReadBlob(blob, maxGrantFile)
	switch {
	case err != nil:
		g.problem = fmt.Sprintf("reading %s: %v", path, err)
		return
	case data == nil:
		g.problem = fmt.Sprintf("%s is %d bytes, over the %d-byte limit of a grant file", path, size, maxGrantFile)
		return
	}
	req, problems := request.Parse(path, data)
	if len(problems) > 0 {
		g.problem = problems[0].String()
		return
	}
	g.req = req
}

// queueGrants hands every grant file that ch adds or modifies to pool to
// be parsed, once per path and content, before Read judges them in order.
func (r *reader) queueGrants(ch []history.Change, pool *verifier) {
	for _, c := range ch {
		if c.Action == history.Deleted || !c.To.Mode.IsFile() {
			continue
		}
		k := grantKey{c.Path, c.To.Blob}
		if r.grants[k] != nil {
			continue
		}
		g := &parsedGrant{}
		r.grants[k] = g
		pool.jobs <- verifyJob{grant: g, grantKey: k}
	}
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
	d, err := *rec.decision, rec.readErr
	if err != nil {
		return bad(BadRecord, "the signed trailers are not a decision: %v", err)
	}
	switch {
	case !slices.Contains(d.Grants, id):
		return bad(NoDecision, "the signed decision names grants %v, not %s", d.Grants, id)
	case d.Head != c.Parents[1]:
		return bad(BadRecord, "the signed Jit-Head %s is not the merge's second parent %s", Short(d.Head), Short(c.Parents[1]))
	}
	if r.headBlob(d.Head, ch.Path) != ch.To.Blob {
		return bad(BadRecord, "the approved head %s does not hold %s as merged", Short(d.Head), ch.Path)
	}
	return d, nil
}

// headLookup is what one merge's second parent holds at the paths of the
// grant files it adds or modifies, and the governanceKey of its first
// parent: the verifier pool reads them while the walk goes on, rather than
// Read one by one once it is over.
type headLookup struct {
	head  string
	paths []string
	// blobs[i] is the blob at paths[i], "" when there is no file there.
	blobs []string
	// parent is the first parent, parentTree its root tree ("" when the
	// walk did not read it); govKey is its governanceKey.
	parent, parentTree, govKey string
}

// queueHeads hands pool the lookups decisionFor and checkGovernance will
// make for merge c, whose first parent's root tree is parentTree ("" when
// unknown), with the grant file changes ch; nil when they make none.
func queueHeads(c history.Commit, parentTree string, ch []history.Change, pool *verifier) *headLookup {
	if len(c.Parents) != 2 {
		return nil
	}
	var h *headLookup
	for _, x := range ch {
		if x.Action == history.Deleted {
			continue
		}
		if h == nil {
			h = &headLookup{head: c.Parents[1], parent: c.Parents[0], parentTree: parentTree}
		}
		h.paths = append(h.paths, x.Path)
	}
	if h != nil {
		h.blobs = make([]string, len(h.paths))
		pool.jobs <- verifyJob{heads: h}
	}
	return h
}

// read makes the lookups; safe for concurrent use on distinct values.
// Merges mostly share their governance key: keys holds one copy of each,
// so that the walk does not keep one per merge.
func (h *headLookup) read(repo *history.Repo, keys *sync.Map) {
	k := governanceKeyIn(repo, h.parentTree, h.parent)
	shared, _ := keys.LoadOrStore(k, k)
	h.govKey = shared.(string)
	for i, p := range h.paths {
		if e, err := repo.BlobID(h.head, p); err == nil {
			h.blobs[i] = e.Blob
		}
	}
}

// headBlob returns the blob the commit head holds at path, "" when there is
// no file there, from the lookups the pool made when it can.
func (r *reader) headBlob(head, path string) string {
	if h := r.heads; h != nil && h.head == head {
		if i := slices.Index(h.paths, path); i >= 0 {
			return h.blobs[i]
		}
	}
	e, err := r.repo.BlobID(head, path)
	if err != nil {
		return ""
	}
	return e.Blob
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
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "requested", Detail: rec.detail, Verified: true})
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
	s.Steps = append(s.Steps, Step{At: at, Commit: c.Hash, What: "extended", Detail: rec.detail, Verified: true})
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
