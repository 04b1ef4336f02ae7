package change

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/template"
)

// Governance is what one revision's governing files say: its policies, its
// templates and its CODEOWNERS. Any problem in them makes every grant judged
// by them fail (closed), and is reported once, at its own file and line.
type Governance struct {
	fsys     fs.FS
	Policies []grant.Policy
	// Owners is the CODEOWNERS file in force, nil when there is none.
	Owners *codeowners.File
	// Problems are the problems in the governing files themselves.
	Problems []grant.Problem

	templates map[string]templateResult
}

type templateResult struct {
	module   *template.Module
	problems []grant.Problem
	err      error
}

// LoadGovernance reads the governing files of the tree fsys.
func LoadGovernance(fsys fs.FS) *Governance {
	g := &Governance{fsys: fsys, templates: map[string]templateResult{}}
	var problems []grant.Problem
	g.Policies, problems = policy.Load(fsys)
	g.Problems = append(g.Problems, problems...)

	owners, err := ReadCodeowners(fsys)
	switch {
	case err != nil:
		g.Problems = append(g.Problems, grant.Problem{File: "CODEOWNERS", Message: fmt.Sprintf("reading CODEOWNERS: %v", err)})
	case owners != nil:
		g.Owners = owners
		for _, e := range g.Owners.Errors {
			msg := fmt.Sprintf("%s (%s); while CODEOWNERS has errors nobody is eligible to approve grants", e.Message, e.Kind)
			if e.Suggestion != "" {
				msg += "; " + e.Suggestion
			}
			g.Problems = append(g.Problems, grant.Problem{File: e.Path, Line: e.Line, Column: e.Column, Message: msg})
		}
	}

	for _, p := range g.Policies {
		for _, t := range p.Templates {
			if _, err := fs.Stat(fsys, template.Dir+"/"+t); err != nil {
				g.Problems = append(g.Problems, grant.At(p.File, p.Pos, "policy %s allows template %s, but there is no directory %s/%s", p.Name, t, template.Dir, t))
			}
		}
	}
	grant.SortProblems(g.Problems)
	return g
}

// ReadCodeowners finds and parses the CODEOWNERS file GitHub would use in
// fsys (see codeowners.Locations); nil when there is none. A file of
// codeowners.MaxSize or more is not read: Parse reports it from its size.
func ReadCodeowners(fsys fs.FS) (*codeowners.File, error) {
	p, data, found, err := codeowners.Find(func(p string) ([]byte, bool, error) {
		info, err := fs.Stat(fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if !info.Mode().IsRegular() {
			return nil, false, fmt.Errorf("%s is not a regular file", p)
		}
		if info.Size() >= codeowners.MaxSize {
			return make([]byte, codeowners.MaxSize), true, nil
		}
		data, err := fs.ReadFile(fsys, p)
		return data, err == nil, err
	})
	if err != nil || !found {
		return nil, err
	}
	return codeowners.Parse(p, data), nil
}

// Template returns the named template's inputs, loading each template once.
// Its problems are added to g.Problems the first time.
func (g *Governance) Template(name string) (*template.Module, error) {
	r, ok := g.templates[name]
	if !ok {
		r.module, r.problems, r.err = template.Load(g.fsys, name)
		g.templates[name] = r
		if len(r.problems) > 0 {
			g.Problems = append(g.Problems, r.problems...)
			grant.SortProblems(g.Problems)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.problems) > 0 {
		return nil, fmt.Errorf("template %s has errors (%s)", name, r.problems[0])
	}
	return r.module, nil
}

// TemplateNames lists the templates: the directories under templates/, sorted.
func (g *Governance) TemplateNames() []string {
	entries, _ := fs.ReadDir(g.fsys, template.Dir)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Check judges one grant: its template and scope, the policies that cover
// it, and who could approve it. It returns the grant's summary and its
// problems.
func (g *Governance) Check(req grant.Request) (Summary, []grant.Problem) {
	j := g.judge(req)
	return j.summary, j.problems
}

// judgement is what the governing files say about one grant.
type judgement struct {
	summary  Summary
	reqs     grant.Requirements
	owners   []string
	problems []grant.Problem
}

func (g *Governance) judge(req grant.Request) judgement {
	var problems []grant.Problem
	if !req.Bad("template") {
		mod, err := g.Template(req.Template)
		switch {
		case errors.Is(err, template.ErrNotFound):
			problems = append(problems, g.unknownTemplate(req))
			// One message for an unknown template: the policies' template
			// checks would only repeat it.
			req.Invalid = maps.Clone(req.Invalid)
			if req.Invalid == nil {
				req.Invalid = map[string]bool{}
			}
			req.Invalid["template"] = true
		case err != nil:
			problems = append(problems, grant.At(req.File, req.Position("template"), "%v", err))
		default:
			problems = append(problems, mod.CheckScope(req)...)
		}
	}
	reqs, ps := grant.CheckPolicies(req, g.Policies)
	problems = append(problems, ps...)
	owners, ps := g.owners(req.File)
	problems = append(problems, ps...)
	return judgement{summary: summarize(req, reqs, owners), reqs: reqs, owners: owners, problems: problems}
}

// unknownTemplate is the one problem of a grant naming a template that does
// not exist: where it is named, and what exists instead.
func (g *Governance) unknownTemplate(req grant.Request) grant.Problem {
	available := strings.Join(g.TemplateNames(), ", ")
	if available == "" {
		available = "none (" + template.Dir + "/ has no directories)"
	}
	return grant.At(req.File, req.Position("template"), "template %s does not exist (no directory %s/%s); available templates: %s",
		req.Template, template.Dir, req.Template, available)
}

// owners returns the code owners of file as written in CODEOWNERS, and a
// problem when nobody is eligible to approve it.
func (g *Governance) owners(file string) ([]string, []grant.Problem) {
	owners := []string{}
	switch {
	case g.Owners == nil:
		return owners, []grant.Problem{grant.At(file, grant.Pos{Line: 1, Column: 1},
			"no CODEOWNERS file (looked for %s), so nobody is eligible to approve; add one that owns %s", strings.Join(codeowners.Locations, ", "), file)}
	case g.Owners.Err() != nil:
		e := g.Owners.Errors[0]
		return owners, []grant.Problem{grant.At(file, grant.Pos{Line: 1, Column: 1},
			"nobody is eligible to approve while %s has errors (first at %s:%d); fix CODEOWNERS in its own pull request", g.Owners.Path, e.Path, e.Line)}
	}
	rule, ok := g.Owners.Match(file)
	for _, o := range rule.Owners {
		owners = append(owners, o.String())
	}
	if ok && len(rule.Owners) > 0 {
		return owners, nil
	}
	where := "no rule matches it"
	if ok {
		where = fmt.Sprintf("%s:%d has no owners for it", g.Owners.Path, rule.Line)
	}
	return owners, []grant.Problem{grant.At(file, grant.Pos{Line: 1, Column: 1},
		"nobody is eligible to approve %s: %s in %s; add an owner for this path", file, where, g.Owners.Path)}
}

// summarize builds a grant's summary.
func summarize(req grant.Request, reqs grant.Requirements, owners []string) Summary {
	s := Summary{ID: req.ID, File: req.File, Template: req.Template, Requester: req.Requester,
		DurationSeconds: int64(req.Duration.Seconds()), BreakGlass: req.BreakGlass,
		Reason: req.Reason, Ticket: req.Ticket, Scope: req.Scope,
		Policies: reqs.Policies, ApprovalsRequired: reqs.Approvals, PolicyApprovers: reqs.ApproverSets, EligibleApprovers: owners}
	if s.Policies == nil {
		s.Policies = []string{}
	}
	if s.EligibleApprovers == nil {
		s.EligibleApprovers = []string{}
	}
	return s
}

// CheckFiles validates the governing files of this tree themselves (for a
// pull request that changes them). It loads every template in the tree.
func (g *Governance) CheckFiles() []grant.Problem {
	for _, name := range g.TemplateNames() {
		_, _ = g.Template(name)
	}
	return slices.Clone(g.Problems)
}
