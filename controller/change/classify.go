package change

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/gitattr"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/template"
)

// Action is what a pull request did to a path.
type Action int

// The actions on a path.
const (
	Added Action = iota + 1
	Modified
	Deleted
)

// Blob is one side (before or after) of a changed file.
type Blob struct {
	// Exists is false on the side where the file is absent.
	Exists bool
	// Symlink reports a symbolic link; Special anything that is neither a
	// file nor a link (a submodule).
	Symlink, Special bool
	// Size is the content's size in bytes.
	Size int64
	// Data is the content. The snapshot need not carry the content of files
	// larger than MaxRead, nor of files Classify does not read (only grant
	// files and .gitattributes are read).
	Data []byte
}

// MaxRead is the size above which Classify never needs a file's content:
// such a grant file or .gitattributes is a problem whatever it says.
const MaxRead = 1 << 20

// MaxAttributesSize bounds a .gitattributes file jit will check.
const MaxAttributesSize = 100 << 10

// File is one path the pull request changes, between the merge base and
// the head.
type File struct {
	Path   string
	Action Action
	// Old is the file at the merge base (for Modified and Deleted), New at
	// the head (for Added and Modified).
	Old, New Blob
}

// Appearance is where a grant id first existed on the default branch.
type Appearance struct {
	Commit string
	When   time.Time
}

// Snapshot is everything Classify needs to know about a pull request, as
// plain values.
type Snapshot struct {
	// Files are the paths the pull request changes, in any order.
	Files []File
	// Default is the tree of the default branch's tip: CODEOWNERS,
	// policies, templates and .gitattributes are read from it.
	Default fs.FS
	// Head is the tree of the pull request's head, read only to check the
	// governing files of a pull request that changes them.
	Head fs.FS
	// Ever holds every grant id that ever existed on the default branch. It
	// must be set (possibly empty) when the pull request changes access/;
	// nil then makes every added grant a problem.
	Ever map[string]Appearance
	// Author is the pull request author's login.
	Author string
	// DefaultBranch is the default branch's name ("main").
	DefaultBranch string
	// BaseRef is the name of the branch the pull request targets ("main"
	// or "refs/heads/main"); empty when unknown.
	BaseRef string
	// BaseOnDefault reports that the pull request's base commit is the
	// default branch's tip or one of its ancestors; it decides when BaseRef
	// is empty.
	BaseOnDefault bool
}

// Result is the classified change.
type Result struct {
	// Change holds a GrantChange for every grant file the pull request adds,
	// extends, shortens or deletes that could be read (in path order), and
	// every problem (sorted). A change with problems is invalid.
	Change grant.Change
	// Summaries describe the same grants for reviewers, one per
	// Change.Grants entry, in the same order.
	Summaries []Summary
	// GrantFiles counts the changed paths under access/. Policies and
	// Templates count those of the governing files that judged them (the
	// default branch's, or the head's for a change of governing files
	// only).
	GrantFiles, Policies, Templates int
}

// IsAccess reports whether p lies under access/ (other than a
// .gitattributes file, which is governing).
func IsAccess(p string) bool {
	return strings.HasPrefix(p, request.Dir+"/") && !isAttributes(p)
}

// IsGoverning reports whether p decides how grants are judged or shown:
// policies, templates, GitHub configuration, CODEOWNERS and every
// .gitattributes.
func IsGoverning(p string) bool {
	if isAttributes(p) {
		return true
	}
	for _, loc := range codeowners.Locations {
		if p == loc {
			return true
		}
	}
	for _, dir := range []string{policy.Dir, template.Dir, ".github"} {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

func isAttributes(p string) bool { return path.Base(p) == ".gitattributes" }

// ignoredFiles may sit under access/ without being grants.
var ignoredFiles = map[string]bool{"README.md": true, ".gitkeep": true, ".keep": true}

// Classify judges the change s describes.
//
// A pull request that changes nothing under access/ is checked as a change
// to governing files: every .gitattributes it adds or modifies, and (when it
// changes any governing file) the governing files of its head.
//
// A pull request that changes access/ must target the default branch and
// change nothing else. Each grant file it adds or edits is judged by the
// default branch's governing files; problems in those files are reported
// too, since they make grants fail closed. Deleting a grant is never a
// problem, even when the default branch's CODEOWNERS or policies are broken:
// revoking access must stay possible. Each deletion is reported with the
// requester of the deleted file, its code owners and the covering policies'
// requirements (at least one approval), so that grant.Decide can tell
// whether its author may delete it alone. While the default branch's
// governing files have problems, deletions list no owners: only the
// requester may then delete a grant without approval, and nobody can
// approve other deletions.
func Classify(s Snapshot) Result {
	files := append([]File(nil), s.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	c := &classifier{s: s}
	var access []File
	governing := false
	for _, f := range files {
		if isAttributes(f.Path) && f.New.Exists {
			c.problems = append(c.problems, checkAttributes(f.Path, f.New)...)
		}
		switch {
		case IsAccess(f.Path):
			access = append(access, f)
		case IsGoverning(f.Path):
			governing = true
		}
	}
	if len(access) == 0 {
		switch {
		case governing && s.Head == nil:
			c.add(grant.Problem{File: files[0].Path, Message: "the pull request's head tree was not provided, so its governing files cannot be checked (report this as a bug)"})
		case governing:
			c.gov = LoadGovernance(s.Head)
			c.add(c.gov.CheckFiles()...)
		}
		return c.result()
	}
	if s.Default == nil {
		c.add(grant.Problem{File: access[0].Path, Message: "the default branch's tree was not provided, so nothing can judge this change (report this as a bug)"})
		return c.result()
	}

	for _, f := range files {
		switch {
		case IsGoverning(f.Path):
			c.add(grant.Problem{File: f.Path, Message: "a pull request that changes access/ may not change governing files (policies/, templates/, .github/, CODEOWNERS, .gitattributes); they need their own pull request"})
		case !IsAccess(f.Path):
			c.add(grant.Problem{File: f.Path, Message: "a pull request that changes access/ may not change anything else; open a separate pull request for this file"})
		}
	}
	c.checkTarget(access[0].Path)

	c.files = len(access)
	c.gov = LoadGovernance(s.Default)
	attributes := defaultAttributes(s.Default)
	c.broken = len(c.gov.Problems) > 0 || len(attributes) > 0
	judged := false
	for _, f := range access {
		judged = c.file(f) || judged
	}
	c.checkOneDecision()
	if judged {
		// Problems of the governing files fail the grants they judge (those
		// of templates are found while judging); a pull request that only
		// deletes grants is judged by nothing.
		c.add(c.gov.Problems...)
		c.add(attributes...)
	}
	return c.result()
}

type classifier struct {
	s        Snapshot
	files    int
	gov      *Governance
	broken   bool
	problems []grant.Problem
	grants   []grant.GrantChange
	sums     []Summary
}

func (c *classifier) add(ps ...grant.Problem) { c.problems = append(c.problems, ps...) }

func (c *classifier) result() Result {
	grant.SortProblems(c.problems)
	problems := c.problems
	if problems == nil {
		problems = []grant.Problem{}
	}
	r := Result{Change: grant.Change{Grants: c.grants, Problems: problems}, Summaries: c.sums, GrantFiles: c.files}
	if c.gov != nil {
		r.Policies, r.Templates = len(c.gov.Policies), len(c.gov.TemplateNames())
	}
	return r
}

// checkOneDecision requires what one merge's signed decision can record: a
// pull request either adds or edits grants, or deletes grants, never both
// (the merge carries a decision or an expiry record, not both); the grants
// it adds or edits share one duration (the decision has one Jit-Duration
// and one Jit-Expires-At) and are all break-glass or none (Jit-Break-Glass
// covers the whole merge).
func (c *classifier) checkOneDecision() {
	var first *Summary
	for i := range c.sums {
		s := &c.sums[i]
		if s.Change == "" {
			continue
		}
		if first == nil {
			first = s
			continue
		}
		switch {
		case (first.Change == "deleted") != (s.Change == "deleted"):
			c.add(grant.Problem{File: s.File, Message: fmt.Sprintf("this pull request both deletes and adds or edits grants (%s and %s); a pull request may only add grants or only delete them: split it in two", first.File, s.File)})
		case s.Change == "deleted":
		case s.DurationSeconds != first.DurationSeconds:
			c.add(grant.Problem{File: s.File, Message: fmt.Sprintf("the grants of one pull request must share one duration (%s asks %s, %s asks %s): the merge records one duration; split the pull request or make them equal",
				first.File, grant.FormatDuration(time.Duration(first.DurationSeconds)*time.Second), s.File, grant.FormatDuration(time.Duration(s.DurationSeconds)*time.Second))})
		case s.BreakGlass != first.BreakGlass:
			c.add(grant.Problem{File: s.File, Message: fmt.Sprintf("break-glass and regular grants cannot share a pull request (%s and %s): the merge is break-glass or not as a whole; split it", first.File, s.File)})
		}
	}
}

// checkTarget requires an access change to target the default branch.
func (c *classifier) checkTarget(file string) {
	s := c.s
	if s.BaseRef != "" {
		if name := strings.TrimPrefix(s.BaseRef, "refs/heads/"); name != s.DefaultBranch {
			c.add(grant.Problem{File: file, Message: fmt.Sprintf("pull requests that change access/ must target the default branch %s, not %s; retarget it", s.DefaultBranch, name)})
		}
		return
	}
	if !s.BaseOnDefault {
		c.add(grant.Problem{File: file, Message: fmt.Sprintf("the pull request's base is not on the default branch %s; pull requests that change access/ must target the default branch %s; retarget it", s.DefaultBranch, s.DefaultBranch)})
	}
}

// file classifies one changed path under access/ and reports whether it
// was judged by the governing files (anything but a deletion).
func (c *classifier) file(f File) bool {
	if f.Action != Deleted {
		switch {
		case f.New.Symlink:
			c.add(grant.Problem{File: f.Path, Line: 1, Column: 1, Message: "symbolic links are not allowed under access/; commit the grant file itself"})
			return true
		case f.New.Special:
			c.add(grant.Problem{File: f.Path, Line: 1, Column: 1, Message: "only regular files may live under access/"})
			return true
		}
	}
	if ignoredFiles[path.Base(f.Path)] {
		return false
	}
	switch f.Action {
	case Added:
		c.added(f)
	case Modified:
		c.modified(f)
	default:
		c.deleted(f)
		return false
	}
	return true
}

// load parses one side of a grant file.
func load(file string, b Blob) (grant.Request, []grant.Problem) {
	at := func(format string, args ...any) []grant.Problem {
		return []grant.Problem{grant.At(file, grant.Pos{Line: 1, Column: 1}, format, args...)}
	}
	if _, msg := request.IDFromPath(file); msg != "" {
		return grant.Request{}, at("%s", msg)
	}
	switch {
	case b.Symlink:
		return grant.Request{}, at("symbolic links are not allowed under access/; commit the grant file itself")
	case b.Special:
		return grant.Request{}, at("only regular files may live under access/")
	case b.Size > request.MaxFileSize:
		return grant.Request{}, at("file is %d bytes; grant files may be at most %d bytes (64 KiB)", b.Size, request.MaxFileSize)
	case int64(len(b.Data)) != b.Size:
		return grant.Request{}, []grant.Problem{{File: file, Message: "the file's content was not read; validation cannot judge it (report this as a bug)"}}
	}
	return request.ParseLenient(file, b.Data)
}

// loadNew parses the new side of a grant file. When it has problems of its
// own but decoded, the default branch's governing files judge what did
// parse too, so that every problem of the file is reported at once; ok is
// then false, and the grant goes no further.
func (c *classifier) loadNew(f File) (req grant.Request, ok bool) {
	req, problems := load(f.Path, f.New)
	if len(problems) == 0 {
		return req, true
	}
	c.add(problems...)
	if req.File != "" {
		c.add(c.gov.judge(req).problems...)
	}
	return grant.Request{}, false
}

func (c *classifier) added(f File) {
	req, ok := c.loadNew(f)
	if !ok {
		return
	}
	switch prev, ok := c.s.Ever[req.ID]; {
	case c.s.Ever == nil:
		c.add(grant.At(req.File, grant.Pos{Line: 1, Column: 1}, "the grant ids that ever existed on the default branch are unknown, so grant id %s cannot be checked for reuse (report this as a bug)", req.ID))
	case ok:
		c.add(grant.At(req.File, grant.Pos{Line: 1, Column: 1},
			"grant id %s already existed on the default branch (added in commit %s at %s); ids are never reused, so name the file differently",
			req.ID, shortHash(prev.Commit), prev.When.UTC().Format(time.RFC3339)))
	}
	c.checkAuthor(req, "a request")
	c.judged(req, grant.Added)
}

// modified allows an extension or a shortening: the same grant with only
// its duration changed. An edit of any other field is refused, naming the
// field (grants are immutable apart from duration): it needs a new request.
func (c *classifier) modified(f File) {
	newReq, ok := c.loadNew(f)
	if !ok {
		return
	}
	if _, err := fs.Stat(c.s.Default, f.Path); err != nil {
		c.add(grant.At(f.Path, grant.Pos{Line: 1, Column: 1},
			"this grant is no longer on the default branch %s (it expired or was revoked), so it cannot be extended; request a new grant under a new name", c.s.DefaultBranch))
		return
	}
	oldReq, oldProblems := load(f.Path, f.Old)
	if len(oldProblems) > 0 {
		c.add(grant.At(f.Path, grant.Pos{Line: 1, Column: 1},
			"this grant was not valid before the change (%s), so it cannot be edited; delete it and request a new grant", oldProblems[0]))
		return
	}
	changed := false
	for _, fd := range []struct {
		field    string
		old, new any
	}{
		{"template", oldReq.Template, newReq.Template},
		{"requester", oldReq.Requester, newReq.Requester},
		{"reason", oldReq.Reason, newReq.Reason},
		{"ticket", oldReq.Ticket, newReq.Ticket},
		{"target", oldReq.Target, newReq.Target},
		{"break_glass", oldReq.BreakGlass, newReq.BreakGlass},
		{"scope", oldReq.Scope, newReq.Scope},
	} {
		if !reflect.DeepEqual(fd.old, fd.new) {
			changed = true
			c.add(grant.At(f.Path, newReq.Position(fd.field),
				"%s of a live grant cannot be edited: grants are immutable apart from duration; restore it, and open a new request for the change instead", fd.field))
		}
	}
	if changed {
		return // not an extension: nothing more to judge
	}
	if newReq.Duration == oldReq.Duration {
		c.add(grant.At(f.Path, grant.Pos{Line: 1, Column: 1}, "the grant file changed but what it says did not; only its duration may be edited (an extension or a shortening), so revert the change"))
		return
	}
	kind, what := grant.Extended, "an extension"
	if newReq.Duration < oldReq.Duration {
		kind, what = grant.Shortened, "a shortening"
	}
	c.checkAuthor(newReq, what)
	c.judged(newReq, kind)
}

// judged records a grant judged by the default branch's governing files.
func (c *classifier) judged(req grant.Request, kind grant.ChangeKind) {
	j := c.gov.judge(req)
	c.add(j.problems...)
	j.summary.Change = string(kind)
	c.grants = append(c.grants, grant.GrantChange{ID: req.ID, File: req.File, Kind: kind, Requester: req.Requester,
		BreakGlass: req.BreakGlass, Requirements: j.reqs, Owners: j.owners})
	c.sums = append(c.sums, j.summary)
}

// deleted records an early revocation. It is never a problem; what it needs
// is grant.Decide's to say.
func (c *classifier) deleted(f File) {
	id, msg := request.IDFromPath(f.Path)
	if msg != "" || !f.Old.Exists || f.Old.Symlink || f.Old.Special {
		return // it never was a grant
	}
	req, problems := load(f.Path, f.Old)
	if len(problems) > 0 {
		// Not a valid grant before either: its requester is unknown, so only
		// its owners may delete it alone.
		req = grant.Request{ID: id, File: f.Path}
	}
	reqs := deletionRequirements(c.gov.Policies, f.Path)
	owners := []string{}
	if !c.broken {
		owners, _ = c.gov.owners(f.Path)
	}
	sum := summarize(req, reqs, owners)
	sum.Change = string(grant.Deleted)
	c.grants = append(c.grants, grant.GrantChange{ID: id, File: f.Path, Kind: grant.Deleted, Requester: req.Requester,
		BreakGlass: req.BreakGlass, Requirements: reqs, Owners: owners})
	c.sums = append(c.sums, sum)
}

// deletionRequirements are what the policies covering file demand of a
// deletion that needs approval: the largest approvals count, at least one
// (even under no policy, or for a break-glass grant), and every approvers
// list.
func deletionRequirements(policies []grant.Policy, file string) grant.Requirements {
	r := grant.Requirements{Policies: []string{}, Approvals: 1}
	for _, p := range grant.Applicable(policies, file) {
		r.Policies = append(r.Policies, p.Name)
		r.Approvals = max(r.Approvals, p.Approvals)
		if len(p.Approvers) > 0 {
			r.ApproverSets = append(r.ApproverSets, p.Approvers)
		}
	}
	return r
}

func (c *classifier) checkAuthor(req grant.Request, what string) {
	switch {
	case c.s.Author == "":
		c.add(grant.At(req.File, req.Position("requester"),
			"the pull request author is unknown, so requester %s cannot be checked; %s must be opened by the person it is for", req.Requester, what))
	case !strings.EqualFold(c.s.Author, req.Requester):
		c.add(grant.At(req.File, req.Position("requester"),
			"requester %s is not the pull request author %s; %s must be opened by the person it is for", req.Requester, c.s.Author, what))
	}
}

// checkAttributes checks one .gitattributes file's content.
func checkAttributes(file string, b Blob) []grant.Problem {
	at := func(format string, args ...any) []grant.Problem {
		return []grant.Problem{grant.At(file, grant.Pos{Line: 1, Column: 1}, format, args...)}
	}
	switch {
	case b.Symlink || b.Special:
		return at(".gitattributes must be a regular file")
	case b.Size > MaxAttributesSize:
		return at("file is %d bytes; jit checks .gitattributes files of at most %d bytes", b.Size, MaxAttributesSize)
	case int64(len(b.Data)) != b.Size:
		return []grant.Problem{{File: file, Message: "the file's content was not read; validation cannot judge it (report this as a bug)"}}
	}
	return gitattr.Check(file, b.Data)
}

// defaultAttributes checks every .gitattributes in the default branch's
// tree: a bad one there can hide grant diffs from reviewers.
func defaultAttributes(fsys fs.FS) []grant.Problem {
	var problems []grant.Problem
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			problems = append(problems, grant.Problem{File: p, Message: fmt.Sprintf("reading the default branch: %v", err)})
			return nil
		}
		if d.IsDir() || d.Name() != ".gitattributes" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			problems = append(problems, grant.Problem{File: p, Message: fmt.Sprintf("reading: %v", err)})
			return nil
		}
		b := Blob{Exists: true, Symlink: info.Mode()&fs.ModeSymlink != 0, Special: !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0, Size: info.Size()}
		if !b.Symlink && !b.Special && b.Size <= MaxAttributesSize {
			if b.Data, err = fs.ReadFile(fsys, p); err != nil {
				problems = append(problems, grant.Problem{File: p, Message: fmt.Sprintf("reading: %v", err)})
				return nil
			}
		}
		for _, pr := range checkAttributes(p, b) {
			pr.Message = "on the default branch: " + pr.Message
			problems = append(problems, pr)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		problems = append(problems, grant.Problem{File: ".gitattributes", Message: fmt.Sprintf("reading the default branch: %v", err)})
	}
	return problems
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
