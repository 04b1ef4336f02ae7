package workflowtest_test

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The parts of a workflow file the rules read.
type workflow struct {
	On          any            `yaml:"on"`
	Permissions any            `yaml:"permissions"`
	Concurrency any            `yaml:"concurrency"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	If             string `yaml:"if"`
	Permissions    any    `yaml:"permissions"`
	Environment    any    `yaml:"environment"`
	TimeoutMinutes any    `yaml:"timeout-minutes"`
	Steps          []step `yaml:"steps"`
}

type step struct {
	Name             string            `yaml:"name"`
	Uses             string            `yaml:"uses"`
	With             map[string]any    `yaml:"with"`
	Run              string            `yaml:"run"`
	WorkingDirectory string            `yaml:"working-directory"`
	Env              map[string]string `yaml:"env"`
}

func (s step) label(i int) string {
	if s.Name != "" {
		return fmt.Sprintf("step %d (%s)", i+1, s.Name)
	}
	if s.Uses != "" {
		return fmt.Sprintf("step %d (%s)", i+1, s.Uses)
	}
	return fmt.Sprintf("step %d", i+1)
}

func (s step) with(key string) string {
	if v, ok := s.With[key]; ok {
		return strings.TrimSpace(fmt.Sprint(v))
	}
	return ""
}

// secretRef is the one form a secret may take: a whole env value naming one
// secret, so no expression can hand over all of them (toJSON(secrets)).
var secretRef = regexp.MustCompile(`^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$`)

// secretsExpr finds an expression that reads secrets in any form.
var secretsExpr = regexp.MustCompile(`\$\{\{[^}]*\bsecrets\b`)

// secretEnv lists the env variables of s that carry a secret.
func (s step) secretEnv() []string {
	var names []string
	for k, v := range s.Env {
		if secretsExpr.MatchString(v) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// goCommand finds a go command that compiles or runs code, or make.
var goCommand = regexp.MustCompile(`(^|[\s;&|(])(go\s+(build|install|run|test|generate|vet|tool)\b|make\b)`)

var goRun = regexp.MustCompile(`\bgo\s+run\b`)

// pinned is an action reference pinned to a release (vN, vN.N, vN.N.N) or a
// full commit; a branch (@main) or no ref runs whatever is pushed there next.
var pinned = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@(v[0-9]+(\.[0-9]+){0,2}|[0-9a-f]{40})$`)

// workspacePath cleans a path relative to the workspace ("" is the workspace).
func workspacePath(p string) string {
	return path.Clean("./" + strings.TrimSpace(p))
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// flagValue is the word after flag in a command line, unquoted ("" if absent).
func flagValue(cmd, flag string) (string, bool) {
	m := regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(flag) + `(\s+|=)("[^"]*"|'[^']*'|\S+)`).FindStringSubmatch(cmd)
	if m == nil {
		return "", false
	}
	return strings.Trim(m[3], `"'`), true
}

// report collects violations.
type report []string

func (r *report) add(format string, args ...any) { *r = append(*r, fmt.Sprintf(format, args...)) }

// parse reads a workflow both as the rules' structs and as a node tree (for
// the rules that must see every value, with its line and column).
func parse(data []byte) (workflow, *yaml.Node, error) {
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return wf, nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return wf, nil, err
	}
	return wf, &root, nil
}

// triggers lists the events that start the workflow, sorted.
func triggers(on any) []string {
	var out []string
	switch on := on.(type) {
	case string:
		out = []string{on}
	case []any:
		for _, t := range on {
			out = append(out, fmt.Sprint(t))
		}
	case map[string]any:
		for t := range on {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// commonViolations are the rules every workflow of the repository obeys: no
// trigger that runs with the base repository's token for foreign code, a
// read-only GITHUB_TOKEN, no ${{ }} inside run:, actions pinned to a
// version, no token left in .git/config, a timeout on every job, and secrets
// only as whole env values of the run steps that need them.
func commonViolations(wf workflow, root *yaml.Node) report {
	var r report
	for _, t := range triggers(wf.On) {
		if t == "pull_request_target" || t == "workflow_run" {
			r.add("trigger %s runs with the base repository's token and secrets; use pull_request", t)
		}
	}
	checkPermissions := func(where string, p any, required bool) {
		switch p := p.(type) {
		case nil:
			if required {
				r.add("%s sets no permissions, so the token gets the repository's defaults (possibly write); set permissions: contents: read", where)
			}
		case string:
			if p != "read-all" && p != "{}" {
				r.add("%s permissions %q are not read-only", where, p)
			}
		case map[string]any:
			for scope, level := range p {
				if l := fmt.Sprint(level); l != "read" && l != "none" {
					r.add("%s permission %s: %s is not read-only", where, scope, l)
				}
			}
		default:
			r.add("%s permissions %v are not understood", where, p)
		}
	}
	checkPermissions("the workflow", wf.Permissions, true)
	for _, name := range sortedJobs(wf) {
		j := wf.Jobs[name]
		checkPermissions("job "+name, j.Permissions, false)
		if j.TimeoutMinutes == nil {
			r.add("job %s sets no timeout-minutes, so a hung run holds its runner (and the concurrency group) for six hours", name)
		}
		for i, s := range j.Steps {
			where := fmt.Sprintf("job %s %s", name, s.label(i))
			if strings.Contains(s.Run, "${{") {
				r.add("%s has a ${{ }} expression inside run:; pass the value through env: and quote the variable", where)
			}
			if s.Uses != "" && !strings.HasPrefix(s.Uses, "./") && !pinned.MatchString(s.Uses) {
				r.add("%s uses %s, which is not pinned to a version; name a release (owner/repo@v4) or a full commit", where, s.Uses)
			}
			if strings.HasPrefix(s.Uses, "actions/checkout@") && s.with("persist-credentials") != "false" {
				r.add("%s leaves the token in .git/config; set persist-credentials: false", where)
			}
			if secrets := s.secretEnv(); len(secrets) > 0 {
				if goCommand.MatchString(s.Run) {
					r.add("%s compiles code with secrets in its environment (%s); build in a step of its own", where, strings.Join(secrets, ", "))
				}
				if redirect := fileRedirect.FindStringIndex(s.Run); redirect != nil {
					if u := umask077.FindStringIndex(s.Run); u == nil || u[0] > redirect[0] {
						r.add("%s writes files with secrets in its environment without umask 077 first; other users of the runner could read them", where)
					}
				}
			}
		}
	}
	secretPlaces(wf, root, &r)
	return r
}

// fileRedirect finds an output redirection to a file (not 2>&1 nor >&2).
var fileRedirect = regexp.MustCompile(`(^|[^0-9<>&])>>?\s*[^&\s]`)

var umask077 = regexp.MustCompile(`(^|[\s;&|(])umask\s+0?077\b`)

func sortedJobs(wf workflow) []string {
	names := make([]string, 0, len(wf.Jobs))
	for name := range wf.Jobs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// secretPlaces walks every key and value of the file: a secret may appear
// only as a whole env value (${{ secrets.NAME }}) of a step that runs a
// script, never in a job's or the workflow's env (every step would see it),
// an action's with: or env: (the action's code would), a script, a
// condition, or a reusable workflow's secrets.
func secretPlaces(wf workflow, root *yaml.Node, r *report) {
	var walk func(n *yaml.Node, at []string)
	walk = func(n *yaml.Node, at []string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, at)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				here := append(slices.Clip(at), k.Value)
				if len(here) == 3 && here[0] == "jobs" && k.Value == "secrets" {
					r.add("%d:%d: jobs.%s passes secrets to a reusable workflow, whose code this repository does not hold to these rules", k.Line, k.Column, here[1])
				}
				walk(k, at)
				walk(v, here)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(slices.Clip(at), fmt.Sprint(i)))
			}
		case yaml.ScalarNode:
			if !secretsExpr.MatchString(n.Value) || secretAllowed(wf, at, n.Value) {
				return
			}
			r.add("%d:%d: %s reads secrets; a secret may only be a whole env value, NAME: ${{ secrets.NAME }}, of the run step that needs it", n.Line, n.Column, strings.Join(at, "."))
		}
	}
	walk(root, nil)
}

// secretAllowed reports whether the value at path is jobs.J.steps.I.env.K of
// a step that runs a script and no action, and is one whole secret.
func secretAllowed(wf workflow, at []string, value string) bool {
	if len(at) != 6 || at[0] != "jobs" || at[2] != "steps" || at[4] != "env" || !secretRef.MatchString(value) {
		return false
	}
	var i int
	if _, err := fmt.Sscan(at[3], &i); err != nil {
		return false
	}
	steps := wf.Jobs[at[1]].Steps
	return i < len(steps) && steps[i].Uses == "" && steps[i].Run != ""
}

// checkout is what the rules know about the job's one checkout of trusted code.
type checkout struct {
	name string // "base checkout", "default-branch checkout"
	ref  string // the ref it must check out
	what string // "the base revision", "the default branch"
}

// buildViolations holds a job's go commands to the trusted checkout: no go
// run, nothing compiled before that checkout or outside it, and the Go
// version read from it. dir is the checkout's path ("" while there is none)
// as of each step, data the paths of other checkouts before it.
func buildViolations(r *report, where string, s step, c checkout, dir string, data []string) {
	if strings.HasPrefix(s.Uses, "actions/setup-go@") {
		if f := s.with("go-version-file"); f != "" && (dir == "" || !within(workspacePath(f), dir)) {
			r.add("%s reads go-version-file %s outside the %s", where, f, c.name)
		}
	}
	if s.Run == "" {
		return
	}
	wd := workspacePath(s.WorkingDirectory)
	if goRun.MatchString(s.Run) {
		r.add("%s uses go run; build jit from the %s and run the binary", where, c.name)
	}
	if !goCommand.MatchString(s.Run) {
		return
	}
	switch {
	case dir == "":
		r.add("%s compiles code, but no earlier step checks out %s (ref: %s)", where, c.what, c.ref)
	case wd != dir:
		r.add("%s compiles code in %s, not in the %s %s", where, wd, c.name, dir)
	}
	for _, d := range data {
		if d != "." && strings.Contains(s.Run, d) {
			r.add("%s compiles code and names %s, a checkout of the pull request", where, d)
		}
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mutation is one way to break a workflow, and the violation it must cause
// ("" when the change is allowed and must cause none).
type mutation struct {
	old, new string
	want     string
}

// checkMutations applies each mutation to good and checks the rules' verdict.
func checkMutations(t *testing.T, good string, rules func([]byte) []string, tests map[string]mutation) {
	t.Helper()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("the mutation did not apply: %q not found", tc.old)
			}
			got := rules([]byte(bad))
			if tc.want == "" {
				if len(got) > 0 {
					t.Errorf("want no violation, got:\n  %s", strings.Join(got, "\n  "))
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("want a violation containing %q, got:\n  %s", tc.want, strings.Join(got, "\n  "))
			}
		})
	}
}

// checkCaught runs rules over a bad workflow in testdata: every want must be
// among the violations.
func checkCaught(t *testing.T, file string, rules func([]byte) []string, wants []string) {
	t.Helper()
	got := strings.Join(rules([]byte(read(t, file))), "\n")
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s should be caught: %q is missing from:\n%s", file, want, got)
		}
	}
}
