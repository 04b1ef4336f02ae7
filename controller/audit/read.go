package audit

import (
	"context"
	"crypto/sha256"
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
	// Cache is a directory where Read keeps a digest of every record whose
	// signature verified, so that reading the same history again checks
	// only the new records' signatures (the costliest part of a long
	// history). A digest covers the exact bytes of the allowed signers file
	// and of the whole signed trailer block, so only a record that verified
	// with exactly those signers is taken as verified again. Empty keeps
	// nothing. It must be a directory only the auditor can write.
	Cache string
}

// Defaults for Options.
const (
	DefaultRenewalGap = 15 * time.Minute
	DefaultRenewalRun = 3
)

// GCPercent is the garbage collector target (debug.SetGCPercent) for a
// process that reads a long history: a long history's steps are garbage
// only at the end of the walk, when the heap has doubled over them, and
// collecting sooner keeps one read of 120,000 commits under 300 MB for
// some CPU time. Read does not set it (it is the whole process's); jit
// audit does.
const GCPercent = 50

// maxGrantFile is the largest grant file the parser accepts (DESIGN: 64 KiB).
const maxGrantFile = 64 << 10

type step struct {
	c       history.Commit
	changes []history.Change
	// boundary marks the oldest commit of a truncated history: its changes
	// are every grant file present there, of unknown origin.
	boundary bool
	// rec is the commit's signed record, verified by the pool Read starts
	// (nil on a boundary).
	rec *record
	// parentTree is the root tree of the first parent, when the walk read
	// it.
	parentTree string
	// heads are what a merge's second parent holds at the paths of the
	// grant files it adds or modifies, looked up by the verifier pool.
	heads *headLookup
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
	r := &reader{repo: repo, trail: &Trail{Rev: tip}, stories: map[string]*Story{},
		signers: map[string]signersAt{}, governance: map[string]governanceAt{}, ever: map[string]bool{},
		grants: map[grantKey]*parsedGrant{}}
	pool := newVerifier(repo, openVerified(opts.Cache))
	var steps stepList
	// The walk goes newest first, so each commit is the first parent of the
	// one before it: that one's record is read now, from this one's tree.
	// The record is all the audit needs of a message: holding every message
	// of a long history would cost more memory than the rest.
	prepare := func(s *step, parent *history.Commit) {
		s.rec = r.readRecord(s.c, parent, pool)
		var parentTree string
		if parent != nil {
			parentTree = parent.Tree
		}
		s.heads = queueHeads(s.c, parentTree, s.changes, pool)
		// Nor does it read who wrote a commit, only when it was committed
		// (in UTC, as it reads every time).
		s.c.Author, s.c.Committer = history.Signature{}, history.Signature{When: s.c.Committer.When.UTC()}
		if parent != nil {
			s.parentTree = parent.Tree
		}
		s.c.Message = ""
	}
	walkErr := repo.FirstParentChanges(ctx, tip, func(c history.Commit, ch []history.Change) bool {
		if last := steps.last(); last != nil {
			prepare(last, &c)
		}
		steps.push(step{c: c, changes: ch})
		r.queueGrants(ch, pool)
		return true
	})
	if last := steps.last(); last != nil {
		prepare(last, nil)
	}
	pool.wait()
	pool.cache.save()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if walkErr != nil {
		r.truncated(ctx, tip, &steps, walkErr)
	}
	r.trail.Now = opts.Now
	if tipStep := steps.first(); r.trail.Now.IsZero() && tipStep != nil {
		r.trail.Now = tipStep.c.Committer.When.UTC()
	}
	if err := steps.oldestFirst(func(s *step) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.commit(*s)
		return nil
	}); err != nil {
		return nil, err
	}
	r.judge(opts)
	return r.trail, nil
}

// truncated records that the walk stopped at err and adds to steps the
// commit it could not go past, when that commit itself is readable, as a
// boundary whose grant files are taken as present.
func (r *reader) truncated(ctx context.Context, tip string, steps *stepList, err error) {
	r.trail.Truncated = true
	at := tip
	if last := steps.last(); last != nil && len(last.c.Parents) > 0 {
		at = last.c.Parents[0]
	}
	c, cerr := r.repo.CommitInfo(at)
	if cerr != nil {
		r.add(&Anomaly{Kind: Truncated, Commit: at, Message: fmt.Sprintf(
			"the history cannot be read past this commit (%v); fetch the full history (git fetch --unshallow) and audit again", err)})
		return
	}
	all, derr := r.repo.Changes(ctx, "", at)
	if derr != nil {
		r.add(&Anomaly{Kind: Truncated, Commit: at, Message: fmt.Sprintf(
			"the history cannot be read past this commit and its tree is unreadable (%v); fetch the full history and audit again", derr)})
		return
	}
	var grants []history.Change
	for _, ch := range all {
		if history.IsGrantPath(ch.Path) {
			grants = append(grants, ch)
		}
	}
	r.add(&Anomaly{Kind: Truncated, Commit: at, Message: fmt.Sprintf(
		"the history ends here: the parent of this commit is missing (a shallow clone?) (%v); the %d grant(s) present here have no known origin; fetch the full history (git fetch --unshallow) and audit again", err, len(grants))})
	steps.push(step{c: c, changes: grants, boundary: true})
}

// stepList holds a walk's steps, newest first, in chunks of a fixed size:
// a slice grown by doubling would copy every step of a long history, and
// hold it twice while it does.
type stepList struct {
	chunks [][]step
}

// stepChunk is how many steps one chunk holds.
const stepChunk = 4096

func (l *stepList) push(s step) {
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1]) == stepChunk {
		l.chunks = append(l.chunks, make([]step, 0, stepChunk))
	}
	n := len(l.chunks) - 1
	l.chunks[n] = append(l.chunks[n], s)
}

// first is the step pushed first (the tip's), last the one pushed last;
// nil when there is none.
func (l *stepList) first() *step {
	if len(l.chunks) == 0 {
		return nil
	}
	return &l.chunks[0][0]
}

func (l *stepList) last() *step {
	if len(l.chunks) == 0 {
		return nil
	}
	c := l.chunks[len(l.chunks)-1]
	return &c[len(c)-1]
}

// oldestFirst calls fn for every step, the one pushed last first, until
// fn returns an error, which it returns. It empties l as it goes, so that
// the memory of the steps read is freed while the rest are.
func (l *stepList) oldestFirst(fn func(*step) error) error {
	for i := len(l.chunks) - 1; i >= 0; i-- {
		c := l.chunks[i]
		for j := len(c) - 1; j >= 0; j-- {
			if err := fn(&c[j]); err != nil {
				return err
			}
		}
		l.chunks[i] = nil
		l.chunks = l.chunks[:i]
	}
	return nil
}

type signersAt struct {
	signers trailer.AllowedSigners
	err     error
	// sum is the sha256 of the file's bytes, for the verified cache.
	sum [32]byte
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
	// caches the policies and CODEOWNERS by the blob ids they were read
	// from (governanceKey).
	signers    map[string]signersAt
	governance map[string]governanceAt
	// parent and parentTree are the first parent of the commit being read
	// and its root tree, when the walk read it (for governanceKey).
	parent, parentTree string
	// heads are the blobs the commit being read's second parent holds
	// (step.heads).
	heads *headLookup
	// ever holds every grant id that has existed on the branch so far.
	ever map[string]bool
	// grants are the grant files the walk found, parsed by the verifier
	// pool (complete once it is waited for).
	grants map[grantKey]*parsedGrant
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
	// The record read as what it is, once it verified (the verifier pool
	// does this work too): an event or a decision, or why it is not one.
	// Only the one it claims to be is set.
	event    *trailer.Event
	decision *trailer.Decision
	readErr  error
	// detail is decisionDetail of a decision that read without error.
	detail string
}

// read fills the event or decision of a verified record.
func (rec *record) read() {
	if trailer.IsEvent(rec.trailers) {
		ev, err := trailer.EventFrom(rec.trailers)
		rec.event, rec.readErr = &ev, err
	} else {
		d, err := trailer.DecisionFrom(rec.trailers)
		rec.decision, rec.readErr = &d, err
		if err == nil {
			rec.detail = decisionDetail(d)
		}
	}
}

func (rec record) ok() bool { return len(rec.trailers) > 0 && rec.problem == "" }

// malformed reports trailers that could not be parsed at all.
func (rec record) malformed() bool { return len(rec.trailers) == 0 && rec.problem != "" }

// readRecord finds the signers that must have signed c's trailers and
// hands both to pool, which parses and verifies them: the record is only
// complete once pool.wait returns. parent is c's first parent when the walk
// read it (nil otherwise).
func (r *reader) readRecord(c history.Commit, parent *history.Commit, pool *verifier) *record {
	rec := &record{}
	j := verifyJob{rec: rec, message: c.Message}
	switch {
	case len(c.Parents) == 0:
	case parent != nil && parent.Hash == c.Parents[0]:
		j.parent, j.signers = c.Parents[0], r.signersIn(parent.Tree, c.Parents[0])
	default:
		j.parent, j.signers = c.Parents[0], r.signersAt(c.Parents[0])
	}
	pool.jobs <- j
	return rec
}

// reject marks rec as not verifying with the signers at parent.
func (rec *record) reject(parent string, err error) {
	rec.kind, rec.problem = BadSignature, fmt.Sprintf("the signature does not verify with %s at %s: %v", desired.SignersFile, Short(parent), err)
}

func (r *reader) signersAt(commit string) signersAt {
	e, err := r.repo.BlobID(commit, desired.SignersFile)
	if errors.Is(err, fs.ErrNotExist) {
		return signersAt{err: fmt.Errorf("%s does not exist at %s", desired.SignersFile, Short(commit))}
	}
	if err != nil {
		return signersAt{err: err}
	}
	return r.signersFrom(e, commit)
}

// signersIn is signersAt for the commit whose root tree is tree.
func (r *reader) signersIn(tree, commit string) signersAt {
	e, err := r.repo.TreeEntry(tree, desired.SignersFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return signersAt{err: fmt.Errorf("%s does not exist at %s", desired.SignersFile, Short(commit))}
	case err != nil:
		return signersAt{err: err}
	case e.Mode == history.ModeOther:
		return signersAt{err: fmt.Errorf("%s at %s is a directory, not a file", desired.SignersFile, Short(commit))}
	}
	return r.signersFrom(e, commit)
}

// signersFrom parses the allowed signers in e (the signers file at commit),
// once per blob.
func (r *reader) signersFrom(e history.Entry, commit string) signersAt {
	if s, ok := r.signers[e.Blob]; ok {
		return s
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
		s.sum = sha256.Sum256(data)
	}
	r.signers[e.Blob] = s
	return s
}

// governanceAt returns what the governing files at commit say, parsing them
// once per distinct content: the cache is keyed by the ids of every
// CODEOWNERS location and of policies/, which is all policy.Load and
// change.ReadCodeowners read (neither follows symbolic links).
func (r *reader) governanceAt(commit string) governanceAt {
	key := r.governanceKey(commit)
	if g, ok := r.governance[key]; ok {
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
	r.governance[key] = g
	return g
}

// governanceKey names the content of commit's governing files: the entry
// (object id and mode, or absent) of each CODEOWNERS location and of
// policies/, looked up in the commit's tree when the walk read it. A commit
// whose tree cannot be read this way gets a key of its own, so whatever
// error reading it gives is never shared.
func (r *reader) governanceKey(commit string) string {
	if h := r.heads; h != nil && h.govKey != "" && h.parent == commit {
		return h.govKey
	}
	if commit != r.parent {
		return "commit " + commit
	}
	return governanceKeyIn(r.repo, r.parentTree, commit)
}

// governanceKeyIn is governanceKey for commit, whose root tree is tree
// ("" when unknown); safe for concurrent use.
func governanceKeyIn(repo *history.Repo, tree, commit string) string {
	if tree == "" {
		return "commit " + commit
	}
	var b strings.Builder
	for _, p := range append(slices.Clip(codeowners.Locations), policy.Dir) {
		e, err := repo.TreeEntry(tree, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(&b, "%s absent\n", p)
		case err != nil:
			return "commit " + commit
		default:
			fmt.Fprintf(&b, "%s %s %d\n", p, e.Blob, e.Mode)
		}
	}
	return b.String()
}

// commit applies one commit of the history to the stories.
func (r *reader) commit(s step) {
	c := s.c
	at := c.Committer.When.UTC()
	var rec record
	if s.rec != nil {
		rec = *s.rec
	}
	r.parent, r.parentTree, r.heads = "", s.parentTree, s.heads
	if len(c.Parents) > 0 {
		r.parent = c.Parents[0]
	}
	isEvent := len(rec.trailers) > 0 && trailer.IsEvent(rec.trailers)
	var ev trailer.Event
	var evProblem string
	if isEvent && rec.ok() {
		var err error
		if ev, err = *rec.event, rec.readErr; err != nil {
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
