package validate

import (
	"io/fs"
	"reflect"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/template"
)

// ChangeInput names the pull request to validate.
type ChangeInput struct {
	Repo *history.Repo
	// Base is the base branch's revision; Head the pull request's head.
	Base, Head string
	// Author is the pull request author's login; when set, every added or
	// extended grant's requester must equal it.
	Author string
}

// Change validates the change a pull request makes: the diff from the merge
// base of Base and Head to Head, judged by the governing files of Base.
// The error is for what stops validation itself (an unknown revision);
// everything wrong with the change is a problem in the Report.
func Change(in ChangeInput) (Report, error) {
	base, err := in.Repo.Commit(in.Base)
	if err != nil {
		return Report{}, err
	}
	head, err := in.Repo.Commit(in.Head)
	if err != nil {
		return Report{}, err
	}
	mergeBase, err := in.Repo.MergeBase(base, head)
	if err != nil {
		return Report{}, err
	}
	changes, err := in.Repo.Changes(mergeBase, head)
	if err != nil {
		return Report{}, err
	}
	baseFS, err := in.Repo.FS(base)
	if err != nil {
		return Report{}, err
	}
	headFS, err := in.Repo.FS(head)
	if err != nil {
		return Report{}, err
	}
	oldFS, err := in.Repo.FS(mergeBase)
	if err != nil {
		return Report{}, err
	}

	var access, governing, other []history.Change
	for _, c := range changes {
		switch {
		case strings.HasPrefix(c.Path, request.Dir+"/"):
			access = append(access, c)
		case isGoverning(c.Path):
			governing = append(governing, c)
		default:
			other = append(other, c)
		}
	}

	if len(access) == 0 {
		// A pull request to the governing files (or anything else): the new
		// governing files must themselves be valid.
		var problems []grant.Problem
		if len(governing) > 0 {
			problems = LoadGovernance(headFS).CheckFiles()
		}
		return newReport(problems, nil), nil
	}

	var problems []grant.Problem
	for _, c := range append(governing, other...) {
		msg := "a pull request that changes access/ may not change anything else; open a separate pull request for this file"
		if isGoverning(c.Path) {
			msg = "a pull request that changes access/ may not change governing files (policies/, templates/, .github/, CODEOWNERS); they need their own pull request"
		}
		problems = append(problems, grant.Problem{File: c.Path, Message: msg})
	}

	gov := LoadGovernance(baseFS)
	ever, err := in.Repo.EverExisted(base.Hash.String())
	if err != nil {
		return Report{}, err
	}
	v := changeValidator{in: in, gov: gov, ever: ever, headFS: headFS, oldFS: oldFS}
	for _, c := range access {
		problems = append(problems, v.check(c)...)
	}
	problems = append(problems, gov.Problems...)
	return newReport(problems, v.grants), nil
}

// isGoverning reports whether p is a file that decides how grants are
// judged: policies, templates, GitHub configuration and CODEOWNERS.
func isGoverning(p string) bool {
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

type changeValidator struct {
	in            ChangeInput
	gov           *Governance
	ever          map[string]history.Appearance
	headFS, oldFS fs.FS
	grants        []Grant
}

func (v *changeValidator) check(c history.Change) []grant.Problem {
	if (c.Action == history.Added || c.Action == history.Modified) && c.ToMode == filemode.Symlink {
		return problemsOf(grant.Problem{File: c.Path, Line: 1, Column: 1, Message: "symbolic links are not allowed under access/; commit the grant file itself"})
	}
	if base := c.Path[strings.LastIndex(c.Path, "/")+1:]; base == "README.md" || base == ".gitkeep" || base == ".keep" {
		return nil
	}
	switch c.Action {
	case history.Added:
		return v.added(c)
	case history.Deleted:
		return v.deleted(c)
	default:
		return v.modified(c)
	}
}

func (v *changeValidator) added(c history.Change) []grant.Problem {
	req, problems := request.LoadFile(v.headFS, c.Path)
	if len(problems) > 0 {
		return problems
	}
	if prev, ok := v.ever[req.ID]; ok {
		problems = append(problems, grant.At(req.File, grant.Pos{Line: 1, Column: 1},
			"grant id %s already existed on the base branch (added in commit %s at %s); ids are never reused, so name the file differently",
			req.ID, prev.Commit[:12], prev.When.Format("2006-01-02T15:04:05Z")))
	}
	problems = append(problems, v.checkAuthor(req, "request")...)
	g, ps := v.gov.Check(req)
	g.Change = "added"
	v.grants = append(v.grants, g)
	return append(problems, ps...)
}

func (v *changeValidator) deleted(c history.Change) []grant.Problem {
	req, problems := request.LoadFile(v.oldFS, c.Path)
	g := Grant{File: c.Path, Change: "deleted", Policies: []string{}, EligibleApprovers: []string{}}
	if len(problems) == 0 {
		g, _ = v.gov.Check(req)
		g.Change = "deleted"
		g.ApprovalsRequired = 0
	} else if id, msg := request.IDFromPath(c.Path); msg == "" {
		g.ID = id
	}
	v.grants = append(v.grants, g)
	return nil
}

// modified allows an extension: the same grant with only its duration
// changed. Anything else must be a new grant.
func (v *changeValidator) modified(c history.Change) []grant.Problem {
	newReq, problems := request.LoadFile(v.headFS, c.Path)
	if len(problems) > 0 {
		return problems
	}
	oldReq, oldProblems := request.LoadFile(v.oldFS, c.Path)
	if len(oldProblems) > 0 {
		return problemsOf(grant.At(c.Path, grant.Pos{Line: 1, Column: 1},
			"this grant was not valid before the change (%s), so it cannot be edited; delete it and request a new grant", oldProblems[0]))
	}
	for _, f := range []struct {
		field    string
		old, new any
	}{
		{"template", oldReq.Template, newReq.Template},
		{"requester", oldReq.Requester, newReq.Requester},
		{"reason", oldReq.Reason, newReq.Reason},
		{"ticket", oldReq.Ticket, newReq.Ticket},
		{"break_glass", oldReq.BreakGlass, newReq.BreakGlass},
		{"scope", oldReq.Scope, newReq.Scope},
	} {
		if !reflect.DeepEqual(f.old, f.new) {
			problems = append(problems, grant.At(c.Path, newReq.Position(f.field),
				"%s of an existing grant may not change; only duration may be edited (an extension). Delete this grant and request a new one instead", f.field))
		}
	}
	if newReq.Duration == oldReq.Duration && len(problems) == 0 {
		problems = append(problems, grant.At(c.Path, grant.Pos{Line: 1, Column: 1},
			"the grant changed but its duration did not; only duration may be edited (an extension)"))
	}
	problems = append(problems, v.checkAuthor(newReq, "extension")...)
	g, ps := v.gov.Check(newReq)
	g.Change = "extended"
	if newReq.Duration < oldReq.Duration {
		g.Change = "shortened"
	}
	v.grants = append(v.grants, g)
	return append(problems, ps...)
}

func (v *changeValidator) checkAuthor(req grant.Request, what string) []grant.Problem {
	if v.in.Author == "" || strings.EqualFold(v.in.Author, req.Requester) {
		return nil
	}
	return problemsOf(grant.At(req.File, req.Position("requester"),
		"requester %s is not the pull request author %s; a %s must be opened by the person it is for", req.Requester, v.in.Author, what))
}

// problemsOf is a convenience for returning a few problems.
func problemsOf(ps ...grant.Problem) []grant.Problem { return ps }
