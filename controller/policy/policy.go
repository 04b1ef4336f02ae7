// Package policy decodes policies/*.hcl into grant.Policy values with
// hcl/v2, keeping the file, line and column of every problem. It is pure: it
// reads only the fs.FS it is given.
//
// A policy file holds one or more blocks:
//
//	policy "prod" {
//	  paths        = ["access/prod/**"]   # globs over repository paths, under access/
//	  templates    = ["postgres-role"]    # templates allowed under these paths
//	  max_duration = "4h"                 # hours and minutes: "4h", "90m", "1h30m"
//	  approvals    = 1                    # distinct eligible approvals, 1 to 10
//	  approvers    = ["@acme/dba-leads"]  # optional: approvers must also be one of these
//	  ticket       = "^[A-Z]+-[0-9]+$"    # optional: tickets must match (whole string)
//	  targets      = ["prod-orders"]      # optional: the named targets grants here may use
//	  break_glass {                       # optional
//	    allowed       = true
//	    max_duration  = "1h"
//	    review_window = "24h"             # optional, default 24h
//	  }
//	}
//
// targets names targets the operator declares outside git (jit's --targets
// file): a grant under the policy is applied to one of them and reaches no
// other server (see grant.ResolveTarget). A policy without targets leaves the
// choice to the other matching policies; when none of them declares targets
// either, the grant is applied with the controller's own connection settings.
package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/hcldiag"
)

// Dir is the directory of the access repository that holds policies.
const Dir = "policies"

// MaxFileSize bounds a policy file, in bytes.
const MaxFileSize = 1 << 20

// DefaultReviewWindow is the break-glass review window when none is set.
const DefaultReviewWindow = 24 * time.Hour

var (
	namePattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	approverPattern = regexp.MustCompile(`^@[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}(?:/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$`)
)

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "policy", LabelNames: []string{"name"}}}}

var policySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "paths", Required: true},
		{Name: "templates", Required: true},
		{Name: "max_duration", Required: true},
		{Name: "approvals", Required: true},
		{Name: "approvers"},
		{Name: "ticket"},
		{Name: "targets"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "break_glass"}},
}

var breakGlassSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "allowed", Required: true},
		{Name: "max_duration"},
		{Name: "review_window"},
	},
}

// Load decodes every policies/*.hcl file in fsys (rooted at the repository).
// Policies come back sorted by name. Any problem in any file means the set
// must not be used to grant anything (callers fail closed).
func Load(fsys fs.FS) ([]grant.Policy, []grant.Problem) {
	entries, err := fs.ReadDir(fsys, Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, []grant.Problem{{File: Dir, Message: fmt.Sprintf("reading: %v", err)}}
	}
	var policies []grant.Policy
	var problems []grant.Problem
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		file := path.Join(Dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			problems = append(problems, grant.Problem{File: file, Line: 1, Column: 1, Message: "symbolic links are not allowed in policies/"})
			continue
		}
		if info, err := e.Info(); err == nil && info.Size() > MaxFileSize {
			problems = append(problems, grant.Problem{File: file, Line: 1, Column: 1, Message: fmt.Sprintf("file is %d bytes; policy files may be at most %d", info.Size(), MaxFileSize)})
			continue
		}
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			problems = append(problems, grant.Problem{File: file, Message: fmt.Sprintf("reading: %v", err)})
			continue
		}
		ps, probs := Parse(file, src)
		policies = append(policies, ps...)
		problems = append(problems, probs...)
	}
	sort.SliceStable(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	for i := 1; i < len(policies); i++ {
		if a, b := policies[i-1], policies[i]; a.Name == b.Name {
			problems = append(problems, grant.At(b.File, b.Pos, "policy %q is defined twice (also at %s); policy names must be unique", b.Name, a.Where()))
		}
	}
	grant.SortProblems(problems)
	return policies, problems
}

// Parse decodes one policy file. A file with any problem yields no policies:
// a half-read policy file must not govern anything.
func Parse(file string, src []byte) ([]grant.Policy, []grant.Problem) {
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, hcldiag.Problems(file, diags)
	}
	content, diags := f.Body.Content(fileSchema)
	problems := hcldiag.Problems(file, diags)
	var out []grant.Policy
	for _, b := range content.Blocks {
		d := decoder{file: file}
		p := d.policy(b)
		if len(d.problems) == 0 {
			out = append(out, p)
		}
		problems = append(problems, d.problems...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

type decoder struct {
	file     string
	problems []grant.Problem
}

func (d *decoder) addAt(r hcl.Range, format string, args ...any) {
	d.problems = append(d.problems, grant.At(d.file, hcldiag.Pos(r), format, args...))
}

func (d *decoder) policy(b *hcl.Block) grant.Policy {
	p := grant.Policy{Name: b.Labels[0], File: d.file, Pos: hcldiag.Pos(b.DefRange)}
	if !namePattern.MatchString(p.Name) {
		d.addAt(b.LabelRanges[0], "policy name %q must be lower-case letters, digits, '-' and '_'", p.Name)
	}
	content, diags := b.Body.Content(policySchema)
	d.problems = append(d.problems, hcldiag.Problems(d.file, diags)...)
	attrs := content.Attributes
	if a, ok := attrs["paths"]; ok {
		p.Paths = d.strings(a, "paths")
		if len(p.Paths) == 0 && len(d.problems) == 0 {
			d.addAt(a.Expr.Range(), "paths is empty; list at least one glob such as \"access/prod/**\"")
		}
		for _, g := range p.Paths {
			if !grant.ValidGlob(g) || !strings.HasPrefix(g, "access/") {
				d.addAt(a.Expr.Range(), "path glob %q must be a relative glob under access/, such as \"access/prod/**\"", g)
			}
		}
	}
	if a, ok := attrs["templates"]; ok {
		p.Templates = d.strings(a, "templates")
		for _, t := range p.Templates {
			if !namePattern.MatchString(t) {
				d.addAt(a.Expr.Range(), "template name %q must be a directory name under templates/", t)
			}
		}
	}
	if a, ok := attrs["max_duration"]; ok {
		p.MaxDuration = d.duration(a)
	}
	if a, ok := attrs["approvals"]; ok {
		p.Approvals = d.approvals(a)
	}
	if a, ok := attrs["approvers"]; ok {
		p.Approvers = d.strings(a, "approvers")
		for _, s := range p.Approvers {
			if !approverPattern.MatchString(s) {
				d.addAt(a.Expr.Range(), "approver %q must be @user or @org/team", s)
			}
		}
	}
	if a, ok := attrs["ticket"]; ok {
		if s, ok := d.string(a); ok {
			re, err := regexp.Compile(s)
			switch {
			case err != nil:
				d.addAt(a.Expr.Range(), "ticket pattern does not compile: %v", err)
			case s == "":
				d.addAt(a.Expr.Range(), "ticket pattern is empty; remove ticket to make tickets optional")
			default:
				p.Ticket = re
			}
		}
	}
	if a, ok := attrs["targets"]; ok {
		p.Targets = d.strings(a, "targets")
		if p.Targets == nil && len(d.problems) == 0 {
			d.addAt(a.Expr.Range(), "targets is empty; list at least one target, or remove targets to leave the choice to other policies")
		}
		seen := map[string]bool{}
		for _, t := range p.Targets {
			switch {
			case !namePattern.MatchString(t):
				d.addAt(a.Expr.Range(), "target name %q must be lower-case letters, digits, '-' and '_', as declared in jit's targets file", t)
			case seen[t]:
				d.addAt(a.Expr.Range(), "target %q is listed twice", t)
			}
			seen[t] = true
		}
	}
	for i, bg := range content.Blocks {
		if i > 0 {
			d.addAt(bg.DefRange, "break_glass may appear once per policy")
			continue
		}
		p.BreakGlass = d.breakGlass(bg, p.MaxDuration)
	}
	return p
}

func (d *decoder) breakGlass(b *hcl.Block, policyMax time.Duration) grant.BreakGlass {
	content, diags := b.Body.Content(breakGlassSchema)
	d.problems = append(d.problems, hcldiag.Problems(d.file, diags)...)
	bg := grant.BreakGlass{ReviewWindow: DefaultReviewWindow}
	if a, ok := content.Attributes["allowed"]; ok {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.Bool || v.IsNull() {
			d.addAt(a.Expr.Range(), "allowed must be true or false")
		} else {
			bg.Allowed = v.True()
		}
	}
	if a, ok := content.Attributes["max_duration"]; ok {
		bg.MaxDuration = d.duration(a)
		if bg.MaxDuration > policyMax && policyMax > 0 {
			d.addAt(a.Expr.Range(), "break_glass max_duration %s exceeds the policy's max_duration %s", grant.FormatDuration(bg.MaxDuration), grant.FormatDuration(policyMax))
		}
	} else if bg.Allowed {
		d.addAt(b.DefRange, "break_glass with allowed = true needs max_duration")
	}
	if a, ok := content.Attributes["review_window"]; ok {
		bg.ReviewWindow = d.duration(a)
	}
	return bg
}

func (d *decoder) string(a *hcl.Attribute) (string, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		d.problems = append(d.problems, hcldiag.Problems(d.file, diags)...)
		return "", false
	}
	if v.Type() != cty.String || v.IsNull() {
		d.addAt(a.Expr.Range(), "%s must be a string", a.Name)
		return "", false
	}
	return v.AsString(), true
}

func (d *decoder) strings(a *hcl.Attribute, name string) []string {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		d.problems = append(d.problems, hcldiag.Problems(d.file, diags)...)
		return nil
	}
	if v.IsNull() || !(v.Type().IsTupleType() || v.Type().IsListType()) {
		d.addAt(a.Expr.Range(), "%s must be a list of strings, such as [\"a\", \"b\"]", name)
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String || e.IsNull() {
			d.addAt(a.Expr.Range(), "%s must be a list of strings, such as [\"a\", \"b\"]", name)
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

func (d *decoder) duration(a *hcl.Attribute) time.Duration {
	s, ok := d.string(a)
	if !ok {
		return 0
	}
	dur, err := grant.ParseDuration(s)
	if err != nil {
		d.addAt(a.Expr.Range(), "%s: %v", a.Name, err)
	}
	return dur
}

func (d *decoder) approvals(a *hcl.Attribute) int {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		d.problems = append(d.problems, hcldiag.Problems(d.file, diags)...)
		return 0
	}
	if v.Type() != cty.Number || v.IsNull() {
		d.addAt(a.Expr.Range(), "approvals must be a whole number from 1 to 10")
		return 0
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != 0 || n < 1 || n > 10 {
		d.addAt(a.Expr.Range(), "approvals must be a whole number from 1 to 10, got %s", bf.Text('g', 10))
		return 0
	}
	return int(n)
}
