package workflowtest_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	expireFile = "../../../.github/workflows/expire.yml"
	applyFile  = "../../../.github/workflows/apply.yml"

	defaultBranch = "${{ github.event.repository.default_branch }}"
	// branchGuard is the job condition that keeps a push to, or a dispatch
	// from, another branch from running the pass.
	branchGuard = "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
	// controllerGroup is the concurrency group of every workflow that runs
	// the pass, so that two never run at once.
	controllerGroup = "jit-controller"
	everyFive       = "*/5 * * * *"
)

var defaultCheckout = checkout{name: "default-branch checkout", ref: defaultBranch, what: "the default branch"}

// gitSwitch finds a git command that brings other revisions into the checkout.
var gitSwitch = regexp.MustCompile(`(^|[\s;&|(])git\s+(-C\s+\S+\s+)?(fetch|pull|checkout|switch|reset|worktree|merge|rebase)\b`)

// keySecret is a secret holding a key, which jit reads from a file only.
var keySecret = regexp.MustCompile(`secrets\.(JIT_APP_PRIVATE_KEY|JIT_SIGNING_KEY)\b`)

// passKind is one workflow that runs `jit expire`: its allowed triggers and
// the exact condition of its jobs.
type passKind struct {
	file     string
	triggers []string // exactly these, sorted
	guard    string
}

var (
	expireKind = passKind{file: "expire.yml", triggers: []string{"schedule", "workflow_dispatch"},
		// A scheduled run is always on the default branch, and its payload
		// may name no repository.
		guard: "github.event_name == 'schedule' || " + branchGuard}
	applyKind = passKind{file: "apply.yml", triggers: []string{"push", "workflow_dispatch"}, guard: branchGuard}
)

// passViolations lists every way a workflow that runs the expiry-and-
// reconcile pass could run code other than the default branch's, leak the
// App's or the signing key, run beside another pass, or not run when due.
func passViolations(kind passKind) func([]byte) []string {
	return func(data []byte) []string {
		wf, root, err := parse(data)
		if err != nil {
			return []string{fmt.Sprintf("the workflow is not valid YAML: %v", err)}
		}
		r := commonViolations(wf, root)
		if trig := triggers(wf.On); !slices.Equal(trig, kind.triggers) {
			r.add("%s is triggered by %v; it must be triggered by exactly %v", kind.file, trig, kind.triggers)
		}
		if slices.Contains(kind.triggers, "schedule") {
			if crons := schedules(wf.On); !slices.Equal(crons, []string{everyFive}) {
				r.add("the schedule is %q; it must be every five minutes, %q, the shortest interval GitHub runs", crons, everyFive)
			}
		}
		concurrencyViolations(&r, wf.Concurrency)
		for _, name := range sortedJobs(wf) {
			jobViolations(&r, name, wf.Jobs[name], kind)
		}
		return r
	}
}

// schedules lists the cron strings of on.schedule.
func schedules(on any) []string {
	m, _ := on.(map[string]any)
	list, _ := m["schedule"].([]any)
	var out []string
	for _, e := range list {
		entry, _ := e.(map[string]any)
		out = append(out, fmt.Sprint(entry["cron"]))
	}
	return out
}

func concurrencyViolations(r *report, c any) {
	m, _ := c.(map[string]any)
	if c == nil || m == nil {
		r.add("the workflow sets no concurrency group; two passes at once would race (set concurrency: group: %s, cancel-in-progress: false)", controllerGroup)
		return
	}
	if g := fmt.Sprint(m["group"]); g != controllerGroup {
		r.add("the concurrency group is %q, not %s, the group shared by expire.yml and apply.yml", g, controllerGroup)
	}
	if v, ok := m["cancel-in-progress"]; ok && fmt.Sprint(v) != "false" {
		r.add("cancel-in-progress is %v: a pass cancelled halfway leaves a destroy unrecorded; set it to false", v)
	}
}

func jobViolations(r *report, name string, j job, kind passKind) {
	if cond := strings.Join(strings.Fields(j.If), " "); cond != kind.guard {
		r.add("job %s runs if: %q, not if: %s; a push to or a dispatch from another branch would run the pass", name, cond, kind.guard)
	}
	usesSecrets := slices.ContainsFunc(j.Steps, func(s step) bool { return len(s.secretEnv()) > 0 })
	if env := environmentName(j.Environment); usesSecrets && env == "" {
		r.add("job %s reads secrets but names no environment; keep them in an environment limited to the default branch, or a workflow edited on any branch can read them", name)
	}
	dir := ""         // path of the default-branch checkout
	var data []string // other checkouts: never allowed here, listed for buildViolations
	expired := false
	for i, s := range j.Steps {
		where := fmt.Sprintf("job %s %s", name, s.label(i))
		switch {
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			p := workspacePath(s.with("path"))
			if ref := strings.Join(strings.Fields(s.with("ref")), " "); ref != defaultBranch || dir != "" {
				r.add("%s checks out %q; the pass checks out the default branch once (ref: %s) and nothing else", where, ref, defaultBranch)
				data = append(data, p)
			} else {
				dir = p
			}
			if d := s.with("fetch-depth"); d != "0" {
				r.add("%s fetches a shallow history (fetch-depth %q); the pass reads the grants' merges: set fetch-depth: 0", where, d)
			}
		case strings.HasPrefix(s.Uses, "hashicorp/setup-terraform@"):
			if s.with("terraform_wrapper") != "false" {
				r.add("%s leaves terraform_wrapper on; the wrapper stands between terraform-exec and terraform: set terraform_wrapper: false", where)
			}
			if s.with("terraform_version") == "" {
				r.add("%s sets no terraform_version, so the runner gets whatever is latest; pin it", where)
			}
		}
		buildViolations(r, where, s, defaultCheckout, dir, data)
		if m := gitSwitch.FindStringSubmatch(s.Run); m != nil {
			r.add("%s runs git %s; the pass reads only the default branch as checked out", where, m[3])
		}
		if regexp.MustCompile(`(^|\s)expire(\s|$)`).MatchString(s.Run) {
			expired = true
			if goCommand.MatchString(s.Run) {
				r.add("%s runs jit expire through the go command; run the binary built from the %s", where, defaultCheckout.name)
			}
			// jit expire reads the access repository through its own clone,
			// fetched as the App after it holds the pass lock, never the
			// checkout (which only builds jit): a fresh directory under
			// $RUNNER_TEMP.
			if dd, ok := flagValue(s.Run, "--data-dir"); !ok {
				r.add("%s runs jit expire without --data-dir", where)
			} else if !strings.HasPrefix(dd, "$RUNNER_TEMP/") {
				r.add("%s runs jit expire with --data-dir %q, not a directory under $RUNNER_TEMP", where, dd)
			}
			for _, k := range s.secretEnv() {
				if keySecret.MatchString(s.Env[k]) {
					r.add("%s gives jit a key in its environment (%s), where terraform and the templates' provisioners see it; write it to a file under $RUNNER_TEMP in an earlier step", where, k)
				}
			}
		}
	}
	if dir == "" {
		r.add("job %s never checks out the default branch (ref: %s)", name, defaultBranch)
	}
	if !expired {
		r.add("job %s never runs jit expire", name)
	}
}

// environmentName is a job's environment: a name, or {name: …, url: …}.
func environmentName(e any) string {
	switch e := e.(type) {
	case string:
		return e
	case map[string]any:
		if n, ok := e["name"]; ok {
			return fmt.Sprint(n)
		}
	}
	return ""
}

func TestPassWorkflowsRunOnlyDefaultBranchCode(t *testing.T) {
	for file, kind := range map[string]passKind{expireFile: expireKind, applyFile: applyKind} {
		if v := passViolations(kind)([]byte(read(t, file))); len(v) > 0 {
			t.Errorf("%s:\n  %s", file, strings.Join(v, "\n  "))
		}
	}
}

// TestPassWorkflowsShareOneGroup: the two files must name the same group;
// the constant alone would not catch both being changed to different ones.
func TestPassWorkflowsShareOneGroup(t *testing.T) {
	groups := map[string]bool{}
	for _, file := range []string{expireFile, applyFile} {
		wf, _, err := parse([]byte(read(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := wf.Concurrency.(map[string]any)
		groups[fmt.Sprint(m["group"])] = true
	}
	if len(groups) != 1 {
		t.Errorf("expire.yml and apply.yml name different concurrency groups %v; two passes could run at once", groups)
	}
}

// passMutations break either pass workflow one rule at a time.
func passMutations() map[string]mutation {
	return map[string]mutation{
		"pull_request trigger":        {"  workflow_dispatch:\n", "  workflow_dispatch:\n  pull_request:\n", "it must be triggered by exactly"},
		"pull_request_target":         {"  workflow_dispatch:\n", "  pull_request_target:\n", "trigger pull_request_target"},
		"write permission":            {"  contents: read\n", "  contents: write\n", "permission contents: write is not read-only"},
		"no permissions":              {"permissions:\n  contents: read\n", "", "sets no permissions"},
		"job write permission":        {"    timeout-minutes: 15\n", "    timeout-minutes: 15\n    permissions:\n      pull-requests: write\n", "permission pull-requests: write is not read-only"},
		"no timeout":                  {"    timeout-minutes: 15\n", "", "sets no timeout-minutes"},
		"no concurrency":              {"concurrency:\n  group: jit-controller\n  cancel-in-progress: false\n", "", "sets no concurrency group"},
		"own concurrency group":       {"group: jit-controller", "group: ${{ github.workflow }}", "not jit-controller, the group shared"},
		"cancel in progress":          {"cancel-in-progress: false", "cancel-in-progress: true", "cancel-in-progress is true"},
		"no branch guard":             {"github.ref == format(", "github.ref != format(", "a push to or a dispatch from another branch would run the pass"},
		"guard defeated":              {"    if: ", "    if: always() || ", "a push to or a dispatch from another branch would run the pass"},
		"no environment":              {"    environment: jit\n", "", "reads secrets but names no environment"},
		"head checkout":               {"ref: " + defaultBranch, "ref: ${{ github.event.pull_request.head.sha }}", `checks out "${{ github.event.pull_request.head.sha }}"`},
		"checkout of github.ref":      {"          ref: " + defaultBranch + "\n", "", `checks out ""; the pass checks out the default branch once`},
		"shallow checkout":            {"fetch-depth: 0", "fetch-depth: 1", `fetches a shallow history (fetch-depth "1")`},
		"persisted credentials":       {"persist-credentials: false", "persist-credentials: true", "leaves the token in .git/config"},
		"unpinned action":             {"hashicorp/setup-terraform@v3", "hashicorp/setup-terraform@main", "uses hashicorp/setup-terraform@main, which is not pinned"},
		"terraform wrapper":           {"terraform_wrapper: false", "terraform_wrapper: true", "leaves terraform_wrapper on"},
		"latest terraform":            {"          terraform_version: 1.5.7\n", "", "sets no terraform_version"},
		"go.mod elsewhere":            {"go-version-file: repo/go.mod", "go-version-file: go.mod", "reads go-version-file go.mod outside the default-branch checkout"},
		"build outside checkout":      {"        working-directory: repo\n", "", "compiles code in ., not in the default-branch checkout repo"},
		"go run":                      {`"$RUNNER_TEMP/jit" expire`, "go run ./cmd/jit expire", "uses go run"},
		"git fetch of another ref":    {"          dir=\"$RUNNER_TEMP/jit-secrets\"\n          export", "          git -C repo fetch origin \"$OTHER\"\n          dir=\"$RUNNER_TEMP/jit-secrets\"\n          export", "runs git fetch; the pass reads only the default branch"},
		"expire in the checkout":      {`expire --data-dir "$RUNNER_TEMP/jit-data"`, "expire --data-dir repo", `runs jit expire with --data-dir "repo", not a directory under $RUNNER_TEMP`},
		"expire without data dir":     {` --data-dir "$RUNNER_TEMP/jit-data"`, "", "runs jit expire without --data-dir"},
		"no expire":                   {`"$RUNNER_TEMP/jit" expire`, `"$RUNNER_TEMP/jit" version`, "never runs jit expire"},
		"expression in run":           {`printf '%s\n' "$SIGNING_KEY"`, `printf '%s\n' "${{ secrets.JIT_SIGNING_KEY }}"`, "has a ${{ }} expression inside run:"},
		"secret in job env":           {"    environment: jit\n", "    environment: jit\n    env:\n      JIT_STATE: ${{ secrets.JIT_STATE }}\n", "jobs.%s.env.JIT_STATE reads secrets"},
		"secret to an action":         {"          terraform_wrapper: false\n", "          terraform_wrapper: false\n          cli_config_credentials_token: ${{ secrets.JIT_STATE }}\n", "with.cli_config_credentials_token reads secrets"},
		"all secrets at once":         {"${{ secrets.JIT_STATE }}", "${{ toJSON(secrets) }}", "env.JIT_STATE reads secrets; a secret may only be a whole env value"},
		"secret with the build":       {"          CGO_ENABLED: \"0\"\n", "          CGO_ENABLED: \"0\"\n          KEY: ${{ secrets.JIT_SIGNING_KEY }}\n", "compiles code with secrets in its environment (KEY)"},
		"keys written world-readable": {"          umask 077\n", "", "writes files with secrets in its environment without umask 077 first"},
		"umask after writing":         {"          umask 077\n", "          touch \"$RUNNER_TEMP/x\" >\"$RUNNER_TEMP/y\"\n          umask 077\n", "without umask 077 first"},
		"key in jit's environment":    {"          JIT_STATE: ${{ secrets.JIT_STATE }}\n", "          JIT_STATE: ${{ secrets.JIT_STATE }}\n          JIT_APP_PRIVATE_KEY: ${{ secrets.JIT_APP_PRIVATE_KEY }}\n", "gives jit a key in its environment (JIT_APP_PRIVATE_KEY)"},
		"reusable workflow secrets":   {"    environment: jit\n", "    environment: jit\n    secrets: inherit\n", "passes secrets to a reusable workflow"},
	}
}

// TestEachPassRuleCatchesItsMutation breaks each pass workflow one way at a
// time; each change must be caught by its rule.
func TestEachPassRuleCatchesItsMutation(t *testing.T) {
	for file, kind := range map[string]passKind{expireFile: expireKind, applyFile: applyKind} {
		t.Run(kind.file, func(t *testing.T) {
			tests := passMutations()
			job := strings.TrimSuffix(kind.file, ".yml")
			for name, m := range tests {
				m.want = strings.ReplaceAll(m.want, "%s", job)
				tests[name] = m
			}
			switch kind.file {
			case expireKind.file:
				tests["not every five minutes"] = mutation{`cron: "*/5 * * * *"`, `cron: "0 * * * *"`, `the schedule is ["0 * * * *"]; it must be every five minutes`}
				tests["a second schedule"] = mutation{`    - cron: "*/5 * * * *"` + "\n", `    - cron: "*/5 * * * *"` + "\n    - cron: \"0 3 * * *\"\n", "it must be every five minutes"}
				tests["no schedule"] = mutation{"  schedule:\n    - cron: \"*/5 * * * *\"\n", "", "it must be triggered by exactly [schedule workflow_dispatch]"}
			case applyKind.file:
				tests["no push"] = mutation{"  push:\n    branches: [main]\n", "", "it must be triggered by exactly [push workflow_dispatch]"}
				tests["push to another default branch"] = mutation{"branches: [main]", "branches: [trunk]", ""}
			}
			checkMutations(t, read(t, file), passViolations(kind), tests)
		})
	}
}

// TestNaivePassWorkflowsFail: a sweep written the obvious way (repository
// secrets in the job's env, the checkout's own ref, go run, the workflow's
// token, its own concurrency group) must be caught on every count.
func TestNaivePassWorkflowsFail(t *testing.T) {
	checkCaught(t, "testdata/expire-naive.yml", passViolations(expireKind), []string{
		`the schedule is ["*/1 * * * *"]`,
		`job expire runs if: ""`,
		"job expire reads secrets but names no environment",
		"16:18: jobs.expire.env.JIT_STATE reads secrets",
		"compiles code with secrets in its environment (GITHUB_TOKEN)",
		"permission contents: write is not read-only",
		"sets no timeout-minutes",
		"sets no concurrency group",
		"uses actions/checkout@main, which is not pinned",
		`checks out ""`,
		`fetches a shallow history (fetch-depth "")`,
		"leaves the token in .git/config",
		"uses go run",
		"runs jit expire through the go command",
		"runs jit expire without --data-dir",
		"has a ${{ }} expression inside run:",
		"writes files with secrets in its environment without umask 077 first",
	})
	checkCaught(t, "testdata/apply-naive.yml", passViolations(applyKind), []string{
		"apply.yml is triggered by [pull_request_target push]",
		"trigger pull_request_target runs with the base repository's token",
		"the concurrency group is \"apply\", not jit-controller",
		"cancel-in-progress is true",
		`checks out "${{ github.event.pull_request.head.sha }}"`,
		"job apply never checks out the default branch",
		"compiles code, but no earlier step checks out the default branch",
		"jobs.apply.steps.1.with.token reads secrets",
		"leaves terraform_wrapper on",
		"sets no terraform_version",
	})
}
