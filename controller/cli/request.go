package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/template"
	"github.com/jitops/jit/controller/userapi"
	"github.com/jitops/jit/controller/validate"
)

const requestUsage = `usage: jit request [--template T] [--scope k=v]... [--for DUR] [--reason TEXT]
                   [--ticket X] [--path access/ENV/.../NAME.yaml] [--break-glass] [--no-prompt]
                   [--repo DIR] [--github-url URL] [--github-repo OWNER/NAME]

Asks for access: writes the grant file, checks it as the App will (with the
policies, templates and CODEOWNERS of the default branch's tip fetched from
origin, never your working tree), commits it on a new branch
jit/request/<grant id> based on that tip, pushes it, opens the pull request
and prints its URL and who may approve it. Your working tree, index and
current branch are left alone. A grant with problems is not pushed: every
problem is printed as "path:line:col: message" and the exit status is 1.

Run in a terminal with fields missing (and without --no-prompt), it asks for
each, listing the templates and their inputs (with defaults) of the default
branch. Otherwise a missing field is a usage error naming its flag.
` + userEnvHelp

// userEnvHelp documents what every requester-side command reads besides
// its flags.
const userEnvHelp = `
GitHub is called as you: the token comes from GITHUB_TOKEN (or GH_TOKEN),
never from a flag. The API is --github-url, JIT_GITHUB_URL or
https://api.github.com/; the repository is --github-repo, JIT_GITHUB_REPO or
the last two path segments of the clone's origin remote (a given one must
be the same as origin's, when origin names one). git fetches and
pushes with the token only when origin is on the API's host; otherwise with
your own git credentials.

Exit status: 0 done, 1 problems found (nothing pushed), 2 usage or other error.
`

// userFlags are the flags every requester-side command shares.
type userFlags struct {
	repo, githubURL, githubRepo string
}

// newUserFlagSet returns the flag set of a requester-side command, its
// shared flags registered and -h printing usage and then the flags.
func newUserFlagSet(o IO, cmd, usage string) (*flag.FlagSet, *userFlags) {
	fl := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fl.SetOutput(o.Stderr)
	fl.Usage = func() { fmt.Fprint(o.Stderr, usage, "\nflags:\n"); fl.PrintDefaults() }
	uf := &userFlags{}
	uf.register(fl)
	return fl, uf
}

func (u *userFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.repo, "repo", ".", "your clone of the access repository `DIR`")
	fs.StringVar(&u.githubURL, "github-url", "", "GitHub REST API base `URL` (default JIT_GITHUB_URL, else "+userapi.DefaultAPIURL+")")
	fs.StringVar(&u.githubRepo, "github-repo", "", "the access repository as `OWNER/NAME` (default JIT_GITHUB_REPO, else the origin remote's)")
}

// userSession is a requester-side command's view of the world: GitHub as
// the user, their clone fetched, and the default branch's tip.
type userSession struct {
	gh     *userapi.Client
	clone  *userapi.Clone
	login  string
	branch string // the default branch's name
	tip    string // its tip at origin, just fetched
}

// open connects to GitHub as the user, fetches the clone and finds the
// default branch's tip. The returned error is ready to print after the
// command's name.
func (u *userFlags) open(ctx context.Context) (*userSession, error) {
	clone, err := userapi.OpenClone(ctx, u.repo)
	if err != nil {
		return nil, err
	}
	owner, name, err := u.repository(ctx, clone)
	if err != nil {
		return nil, err
	}
	token, err := userapi.TokenFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	api := u.githubURL
	if api == "" {
		api = os.Getenv("JIT_GITHUB_URL")
	}
	if api == "" {
		api = userapi.DefaultAPIURL
	}
	gh, err := userapi.New(api, token, owner, name)
	if err != nil {
		return nil, err
	}
	if err := clone.Authenticate(ctx, token, gh.APIHost()); err != nil {
		return nil, err
	}
	login, err := gh.Login(ctx)
	if err != nil {
		return nil, err
	}
	branch, err := gh.DefaultBranch(ctx)
	if err != nil {
		return nil, err
	}
	if err := clone.Fetch(ctx); err != nil {
		return nil, err
	}
	tip, err := clone.RemoteTip(ctx, branch)
	if err != nil {
		return nil, err
	}
	return &userSession{gh: gh, clone: clone, login: login, branch: branch, tip: tip}, nil
}

// repository returns the access repository's owner and name: the origin
// remote's, or --github-repo (else JIT_GITHUB_REPO) when given. A given
// repository that differs from the one origin names is an error naming
// both: the clone read (grants, decisions, records) and the repository
// written to (pull requests, comments) must be the same. Only an origin
// that is missing or names no OWNER/NAME leaves the given one unchecked.
func (u *userFlags) repository(ctx context.Context, clone *userapi.Clone) (owner, name string, err error) {
	full, source := u.githubRepo, "--github-repo"
	if full == "" {
		full, source = os.Getenv("JIT_GITHUB_REPO"), "JIT_GITHUB_REPO"
	}
	remote, remoteErr := clone.RemoteURL(ctx)
	if full == "" {
		if remoteErr != nil {
			return "", "", remoteErr
		}
		return userapi.ParseRemote(remote)
	}
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("%s %q is not OWNER/NAME", source, full)
	}
	if remoteErr != nil {
		return owner, name, nil
	}
	ro, rn, err := userapi.ParseRemote(remote)
	if err != nil {
		return owner, name, nil
	}
	if !strings.EqualFold(ro, owner) || !strings.EqualFold(rn, name) {
		// The remote URL itself is not printed: it may carry a password.
		return "", "", fmt.Errorf("%s names %s but the origin remote of %s names %s/%s: jit reads the grants from origin and opens pull requests on %s, so both must be the same repository; fix the remote (git remote set-url origin URL) or %s",
			source, full, clone.Dir, ro, rn, full, source)
	}
	return owner, name, nil
}

// history opens the clone for reading commits and trees.
func (s *userSession) history() (*history.Repo, error) {
	return history.Open(s.clone.Dir)
}

// tree returns the default branch's tip as a file tree.
func (s *userSession) tree() (fs.FS, func(), error) {
	h, err := s.history()
	if err != nil {
		return nil, nil, err
	}
	t, err := h.FS(s.tip)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return t, func() { h.Close() }, nil
}

// proposal is a pull request a requester-side command opens.
type proposal struct {
	branch, title, body, message string
	changes                      []userapi.FileChange
}

// propose commits p's changes on the default branch's tip, checks the
// change exactly as the App will (validate.Change, judged by that tip,
// with the user as the author), and only when it is valid pushes the
// branch and opens the pull request. Problems are returned in the report,
// with nothing pushed.
func (s *userSession) propose(ctx context.Context, p proposal) (userapi.PullRequest, validate.Report, error) {
	commit, err := s.clone.Commit(ctx, s.tip, p.changes, p.message,
		userapi.Identity{Name: s.login, Email: s.login + "@users.noreply.github.com"})
	if err != nil {
		return userapi.PullRequest{}, validate.Report{}, fmt.Errorf("committing: %w", err)
	}
	h, err := s.history()
	if err != nil {
		return userapi.PullRequest{}, validate.Report{}, err
	}
	rep, err := validate.Change(ctx, validate.ChangeInput{Repo: h, Base: s.tip, Head: commit, DefaultBranch: s.branch,
		DefaultTip: s.tip, BaseRef: s.branch, Author: s.login})
	h.Close()
	if err != nil {
		return userapi.PullRequest{}, validate.Report{}, fmt.Errorf("checking the change: %w", err)
	}
	if !rep.Valid {
		return userapi.PullRequest{}, rep, nil
	}
	if err := s.clone.Push(ctx, commit, p.branch); err != nil {
		return userapi.PullRequest{}, rep, err
	}
	pr, err := s.gh.OpenPullRequest(ctx, p.branch, s.branch, p.title, p.body)
	return pr, rep, err
}

// report prints the outcome of propose: the problems (exit 1), or the pull
// request and who may approve it.
func (s *userSession) report(o IO, cmd string, pr userapi.PullRequest, rep validate.Report, err error) int {
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	if !rep.Valid {
		for _, p := range rep.Problems {
			fmt.Fprintln(o.Stdout, p.String())
		}
		fmt.Fprintf(o.Stderr, "%s: %d %s found; nothing was pushed\n", cmd, len(rep.Problems), plural(len(rep.Problems), "problem", "problems"))
		return ExitProblems
	}
	fmt.Fprintf(o.Stdout, "opened %s\n", pr.URL)
	for _, g := range rep.Grants {
		fmt.Fprint(o.Stdout, approvers(g, s.login))
	}
	return ExitOK
}

// approvers says who may approve a grant's pull request, as grant.Decide
// will judge it.
func approvers(g validate.Grant, login string) string {
	var b strings.Builder
	switch {
	case g.Change == "deleted" && grant.SameLogin(g.Requester, login):
		fmt.Fprintf(&b, "%s: no approval needed (your own revocation); jit merges it once its checks pass\n", g.ID)
		return b.String()
	case g.ApprovalsRequired == 0 && g.BreakGlass:
		fmt.Fprintf(&b, "%s: break-glass, no prior approval; code owners of %s review it after the fact: %s\n", g.ID, g.File, orNobody(g.EligibleApprovers))
		return b.String()
	}
	n := max(g.ApprovalsRequired, 1)
	fmt.Fprintf(&b, "%s: needs %d %s from code owners of %s: %s\n", g.ID, n, plural(n, "approval", "approvals"), g.File, orNobody(g.EligibleApprovers))
	for _, set := range g.PolicyApprovers {
		fmt.Fprintf(&b, "  who must also be one of: %s\n", strings.Join(set, " "))
	}
	if g.Change == "deleted" {
		fmt.Fprintf(&b, "  (none if you, %s, are a code owner of %s with write access)\n", login, g.File)
	} else {
		fmt.Fprintf(&b, "  never the requester (%s), even as a code owner\n", g.Requester)
	}
	return b.String()
}

func orNobody(owners []string) string {
	if len(owners) == 0 {
		return "nobody (the path has no code owner at the default branch; ask the repository's admins)"
	}
	return strings.Join(owners, " ")
}

// scopeFlag collects --scope k=v.
type scopeFlag [][2]string

func (s *scopeFlag) String() string { return "" }
func (s *scopeFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, such as database=orders")
	}
	*s = append(*s, [2]string{k, val})
	return nil
}

func runRequest(ctx context.Context, o IO, args []string) int {
	const cmd = "jit request"
	var scopes scopeFlag
	fl, uf := newUserFlagSet(o, cmd, requestUsage)
	tmpl := fl.String("template", "", "the `TEMPLATE` to provision (a directory under templates/)")
	fl.Var(&scopes, "scope", "a template input `NAME=VALUE` (repeatable)")
	dur := fl.String("for", "", "how long access lasts, such as 2h or 30m (`DURATION`)")
	reason := fl.String("reason", "", "why you need the access (`TEXT`)")
	ticket := fl.String("ticket", "", "a ticket reference such as INC-1234 (`ID`)")
	file := fl.String("path", "", "the grant file to write, access/ENV/.../NAME.yaml (`PATH`; default: derived from the policies)")
	breakGlass := fl.Bool("break-glass", false, "emergency access without prior approval, where a policy allows it")
	noPrompt := fl.Bool("no-prompt", false, "never ask; a missing field is a usage error")
	if code := parseFlags(fl, args); code >= 0 {
		return code
	}
	s, err := uf.open(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	tree, done, err := s.tree()
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	defer done()
	f := grantFields{Template: *tmpl, Requester: s.login, Duration: *dur, Reason: *reason, Ticket: *ticket, BreakGlass: *breakGlass}
	var ask *prompter
	if !*noPrompt && stdinIsTerminal() {
		ask = newPrompter(os.Stdin, o.Stderr)
	}
	if err := completeRequest(ask, tree, &f, scopes, file); err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	data, err := f.YAML()
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	id := strings.TrimSuffix(strings.TrimPrefix(*file, request.Dir+"/"), request.Ext)
	body := "Reason: " + f.Reason + "\n"
	if f.Ticket != "" {
		body += "Ticket: " + f.Ticket + "\n"
	}
	body += "\nGrant file: `" + *file + "`, opened with `jit request`.\n"
	pr, rep, err := s.propose(ctx, proposal{
		branch:  "jit/request/" + id,
		title:   fmt.Sprintf("jit: %s requests %s on %s for %s", s.login, f.Template, scopeSummary(f.Scope, id), f.Duration),
		body:    body,
		message: fmt.Sprintf("Request %s: %s for %s\n\n%s\n", id, f.Template, f.Duration, f.Reason),
		changes: []userapi.FileChange{{Path: *file, Data: data}},
	})
	return s.report(o, cmd, pr, rep, err)
}

// completeRequest fills in what the flags left out: by asking when ask is
// set, else from what can be derived (the grant file's path when exactly
// one policy allows the template), else the error names the flag.
// It types scope values by the template's declared inputs.
func completeRequest(ask *prompter, tree fs.FS, f *grantFields, scopes scopeFlag, file *string) error {
	if f.Template == "" {
		if ask == nil {
			return errors.New("--template is required without a terminal: name a directory under templates/")
		}
		names := templateNames(tree)
		if len(names) == 0 {
			return errors.New("the default branch has no templates under templates/")
		}
		t, err := ask.choose("Template", names, names[0])
		if err != nil {
			return err
		}
		f.Template = t
	}
	mod, problems, err := template.Load(tree, f.Template)
	if err != nil || len(problems) > 0 {
		if err == nil {
			err = errors.New(problems[0].String())
		}
		return fmt.Errorf("template %q at the default branch: %w (templates there: %s)", f.Template, err, strings.Join(templateNames(tree), ", "))
	}
	f.Scope = map[string]any{}
	given := map[string]bool{}
	for _, kv := range scopes {
		v, err := scopeValue(mod, kv[0], kv[1])
		if err != nil {
			return fmt.Errorf("--scope %s: %v", kv[0], err)
		}
		f.Scope[kv[0]] = v
		given[kv[0]] = true
	}
	if ask != nil {
		ask.say("Template %s takes these inputs (empty answer: the default):", f.Template)
		for _, name := range mod.ScopeInputs() {
			if given[name] {
				continue
			}
			in := mod.Inputs[name]
			def := ""
			if !in.Required() {
				def = ctyText(in.Default)
			}
			for {
				ans, err := ask.ask(fmt.Sprintf("  %s (%s)", name, in.TypeString()), def)
				if err != nil {
					return err
				}
				if ans == def && !in.Required() {
					break // leave it out: the template's default applies
				}
				if ans == "" {
					ask.say("  %s is required", name)
					continue
				}
				v, err := scopeValue(mod, name, ans)
				if err != nil {
					ask.say("  %v", err)
					continue
				}
				f.Scope[name] = v
				break
			}
		}
	}
	if f.Duration == "" {
		if ask == nil {
			return errors.New("--for is required: how long access lasts, such as 2h")
		}
		d, err := ask.ask("Duration", "1h")
		if err != nil {
			return err
		}
		f.Duration = d
	}
	if f.Reason == "" {
		if ask == nil {
			return errors.New("--reason is required: say why you need the access")
		}
		for f.Reason == "" {
			r, err := ask.ask("Reason", "")
			if err != nil {
				return err
			}
			f.Reason = strings.TrimSpace(r)
		}
	}
	if f.Ticket == "" && ask != nil {
		t, err := ask.ask("Ticket (empty for none)", "")
		if err != nil {
			return err
		}
		f.Ticket = strings.TrimSpace(t)
	}
	if *file == "" {
		policies, _ := policy.Load(tree)
		dir := policyDir(policies, f.Template)
		if dir == "" && ask == nil {
			return errors.New("--path is required: no single policy at the default branch names template " + f.Template + ", so jit cannot tell where the grant file goes (such as access/prod/orders/NAME.yaml)")
		}
		if dir == "" {
			dir = request.Dir
		}
		*file = path.Join(dir, defaultName(f.Requester, f.Ticket))
		if ask != nil {
			p, err := ask.ask("Grant file", *file)
			if err != nil {
				return err
			}
			*file = p
		}
	}
	if _, problem := request.IDFromPath(*file); problem != "" {
		return fmt.Errorf("--path %s: %s", *file, problem)
	}
	return nil
}

// templateNames lists the directories under templates/.
func templateNames(tree fs.FS) []string {
	entries, _ := fs.ReadDir(tree, template.Dir)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// policyDir returns the directory of the only policy naming tmpl, its
// first path glob up to the first wildcard; "" unless exactly one does.
func policyDir(policies []grant.Policy, tmpl string) string {
	var dirs []string
	for _, p := range policies {
		for _, t := range p.Templates {
			if t == tmpl && len(p.Paths) > 0 {
				dirs = append(dirs, p.Paths[0])
			}
		}
	}
	if len(dirs) != 1 {
		return ""
	}
	var keep []string
	for _, seg := range strings.Split(dirs[0], "/") {
		if strings.ContainsAny(seg, "*?[") {
			break
		}
		keep = append(keep, seg)
	}
	dir := strings.Join(keep, "/")
	if dir != request.Dir && !strings.HasPrefix(dir, request.Dir+"/") {
		return ""
	}
	return dir
}

var nameUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// defaultName is a grant file name: the requester and the ticket, or the
// current minute when there is none (ids are unique forever).
func defaultName(requester, ticket string) string {
	suffix := strings.Trim(nameUnsafe.ReplaceAllString(strings.ToLower(ticket), "-"), "-")
	if suffix == "" {
		suffix = time.Now().UTC().Format("20060102-1504")
	}
	return strings.ToLower(requester) + "-" + suffix + request.Ext
}

// scopeValue types a --scope value by the template's declaration of the
// input: numbers and booleans for those types, JSON for lists, maps and
// objects, text otherwise.
func scopeValue(mod *template.Module, name, raw string) (any, error) {
	in, ok := mod.Inputs[name]
	if !ok {
		return nil, fmt.Errorf("template %s has no input %q; its inputs: %s", mod.Name, name, strings.Join(mod.ScopeInputs(), ", "))
	}
	switch {
	case in.Type == cty.String:
		return raw, nil
	case in.Type == cty.Number:
		if i, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a number", raw)
		}
		return f, nil
	case in.Type == cty.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", raw)
		}
		return b, nil
	case in.Type.IsListType() || in.Type.IsSetType() || in.Type.IsTupleType() || in.Type.IsMapType() || in.Type.IsObjectType() ||
		in.Type == cty.DynamicPseudoType:
		t := strings.TrimSpace(raw)
		if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
			dec := json.NewDecoder(strings.NewReader(t))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("%q is not JSON: %v", raw, err)
			}
			return fromJSON(v)
		}
	}
	return raw, nil
}

// fromJSON turns decoded JSON into the values a grant's scope holds.
func fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		return x.Float64()
	case []any:
		for i := range x {
			e, err := fromJSON(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = e
		}
		return x, nil
	case map[string]any:
		for k := range x {
			e, err := fromJSON(x[k])
			if err != nil {
				return nil, err
			}
			x[k] = e
		}
		return x, nil
	case nil:
		return nil, errors.New("null is not a scope value")
	}
	return v, nil
}

// ctyText renders a default value as a person would type it.
func ctyText(v cty.Value) string {
	switch {
	case v.IsNull():
		return ""
	case v.Type() == cty.String && v.IsKnown():
		return v.AsString()
	case v.Type() == cty.Number && v.IsKnown():
		return v.AsBigFloat().Text('f', -1)
	case v.Type() == cty.Bool && v.IsKnown():
		return strconv.FormatBool(v.True())
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return ""
	}
	return string(b)
}

// scopeSummary is a grant's scope as "k=v, k=v", or its id when empty;
// a key or value holding a non-printable rune is quoted (quoteUnprintable).
func scopeSummary(scope map[string]any, id string) string {
	if len(scope) == 0 {
		return id
	}
	keys := slices.Sorted(maps.Keys(scope))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = quoteUnprintable(k) + "=" + quoteUnprintable(fmt.Sprint(scope[k]))
	}
	return strings.Join(parts, ", ")
}

// grantFields are the fields of a grant file jit request writes.
type grantFields struct {
	Template, Requester, Duration, Reason, Ticket, Target string
	BreakGlass                                            bool
	Scope                                                 map[string]any
}

// YAML writes the grant file in the canonical field order (template,
// requester, duration, reason, ticket, target, break_glass, scope; scope
// keys sorted), every string either plain where YAML cannot read it as
// anything else or double-quoted with escapes, so that package request
// parses back exactly these values. Scope values may be string, int64,
// float64, bool, []any and map[string]any.
func (f grantFields) YAML() ([]byte, error) {
	for _, s := range []string{f.Template, f.Requester, f.Duration, f.Reason, f.Ticket, f.Target} {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("%q is not valid UTF-8 text", s)
		}
	}
	var b strings.Builder
	line := func(k, v string) { b.WriteString(k + ": " + v + "\n") }
	line("template", yamlString(f.Template))
	line("requester", yamlString(f.Requester))
	if durationText.MatchString(f.Duration) {
		line("duration", f.Duration)
	} else {
		line("duration", yamlString(f.Duration))
	}
	line("reason", yamlString(f.Reason))
	if f.Ticket != "" {
		line("ticket", yamlString(f.Ticket))
	}
	if f.Target != "" {
		line("target", yamlString(f.Target))
	}
	if f.BreakGlass {
		line("break_glass", "true")
	}
	if len(f.Scope) > 0 {
		b.WriteString("scope:\n")
		for _, k := range slices.Sorted(maps.Keys(f.Scope)) {
			v, err := yamlFlow(f.Scope[k], 1)
			if err != nil {
				return nil, fmt.Errorf("scope %s: %w", k, err)
			}
			b.WriteString("  " + yamlString(k) + ": " + v + "\n")
		}
	}
	return []byte(b.String()), nil
}

// durationText is a duration YAML reads as a string when plain ("2h", "1h30m").
var durationText = regexp.MustCompile(`^(?:[0-9]+h)?(?:[0-9]+m)?$`)

// plainText is text that YAML reads plainly as the same string: a letter
// first, then letters, digits and a few punctuation marks, single spaces
// between words; nothing YAML gives a meaning to (": ", " #", quotes at
// the start, flow indicators).
var plainText = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.,/'()@+-]*(?: [A-Za-z0-9_.,/'()@+-]+)*$`)

// yamlReserved are the words YAML 1.1 or 1.2 read as booleans or null
// (case-insensitively here, to be safe).
var yamlReserved = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

// yamlString renders s as a YAML scalar that reads back as the string s.
func yamlString(s string) string {
	if plainText.MatchString(s) && !yamlReserved[strings.ToLower(s)] {
		return s
	}
	return yamlQuoted(s)
}

// yamlQuoted renders s double-quoted, escaping what is not printable.
func yamlQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r == ' ' || (unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r)):
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlFlow renders a scope value; nested values are in flow style with
// every string quoted.
func yamlFlow(v any, depth int) (string, error) {
	if depth > request.MaxScopeDepth {
		return "", fmt.Errorf("nests more than %d levels deep", request.MaxScopeDepth)
	}
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return "", fmt.Errorf("%q is not valid UTF-8 text", x)
		}
		if depth == 1 {
			return yamlString(x), nil
		}
		return yamlQuoted(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "", fmt.Errorf("%v is not a finite number", x)
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s, nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := yamlFlow(e, depth+1)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			s, err := yamlFlow(x[k], depth+1)
			if err != nil {
				return "", err
			}
			if !utf8.ValidString(k) {
				return "", fmt.Errorf("key %q is not valid UTF-8 text", k)
			}
			parts[i] = yamlQuoted(k) + ": " + s
		}
		return "{" + strings.Join(parts, ", ") + "}", nil
	}
	return "", fmt.Errorf("unsupported value %v (%T)", v, v)
}
