package workflowtest_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	validateFile = "../../../.github/workflows/validate.yml"
	// oldValidate is validate.yml before finding 1: it checked out the pull
	// request's merge commit and ran `go run ./cmd/jit` from it.
	oldValidate = "testdata/validate-before-finding-1.yml"
	baseSHA     = "${{ github.event.pull_request.base.sha }}"
)

var baseCheckout = checkout{name: "base checkout", ref: baseSHA, what: "the base revision"}

// validateViolations lists every way validate.yml could run code of the pull
// request, or leak its token or event values into a script.
func validateViolations(data []byte) []string {
	wf, root, err := parse(data)
	if err != nil {
		return []string{fmt.Sprintf("the workflow is not valid YAML: %v", err)}
	}
	r := commonViolations(wf, root)
	if trig := triggers(wf.On); !slices.Contains(trig, "pull_request") {
		r.add("the workflow is not triggered by pull_request (triggers: %v)", trig)
	}
	for _, name := range sortedJobs(wf) {
		base := ""        // path of the checkout of the base revision
		var data []string // paths of checkouts of anything else: data, never code
		validated := false
		for i, s := range wf.Jobs[name].Steps {
			where := fmt.Sprintf("job %s %s", name, s.label(i))
			if strings.HasPrefix(s.Uses, "actions/checkout@") {
				p := workspacePath(s.with("path"))
				if strings.Join(strings.Fields(s.with("ref")), " ") == baseSHA && base == "" {
					base = p
					continue
				}
				if p == "." {
					r.add("%s checks out something other than the base revision (ref %q) into the workspace, where every step runs: that is the pull request's code", where, s.with("ref"))
				}
				data = append(data, p)
			}
			buildViolations(&r, where, s, baseCheckout, base, data)
			if s.Run == "" {
				continue
			}
			for _, d := range data {
				if within(workspacePath(s.WorkingDirectory), d) {
					r.add("%s runs in %s, a checkout of the pull request", where, d)
				}
			}
			if regexp.MustCompile(`(^|\s)validate\s`).MatchString(s.Run) {
				validated = true
				if goCommand.MatchString(s.Run) {
					r.add("%s runs jit validate through the go command; run the binary built from the base checkout", where)
				}
				for _, flag := range []string{"--repo", "--base", "--head", "--author", "--base-ref", "--default-branch"} {
					if _, ok := flagValue(s.Run, flag); !ok {
						r.add("%s runs jit validate without %s", where, flag)
					}
				}
			}
		}
		if base == "" {
			r.add("job %s never checks out the base revision (ref: %s)", name, baseSHA)
		}
		if !validated {
			r.add("job %s never runs jit validate", name)
		}
	}
	return r
}

func TestValidateWorkflowRunsOnlyBaseCode(t *testing.T) {
	if v := validateViolations([]byte(read(t, validateFile))); len(v) > 0 {
		t.Errorf(".github/workflows/validate.yml:\n  %s", strings.Join(v, "\n  "))
	}
}

// TestOldWorkflowFails: the workflow of finding 1 checked out the merge
// commit and ran `go run ./cmd/jit`; the checks must catch it.
func TestOldWorkflowFails(t *testing.T) {
	checkCaught(t, oldValidate, validateViolations, []string{
		"checks out something other than the base revision",
		"leaves the token in .git/config",
		"uses go run",
		"compiles code, but no earlier step checks out the base revision",
		"never checks out the base revision",
		"runs jit validate through the go command",
		"runs jit validate without --base-ref",
		"job validate sets no timeout-minutes",
	})
}

// headCheckout adds a checkout of the pull request's head as data.
var headCheckout = mutation{
	old: "      - uses: actions/setup-go@v5\n",
	new: "      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n          path: head\n          persist-credentials: false\n      - uses: actions/setup-go@v5\n",
}

// TestEachRuleCatchesItsMutation breaks the real workflow one way at a time;
// each change must be caught by its rule.
func TestEachRuleCatchesItsMutation(t *testing.T) {
	good := read(t, validateFile)
	checkMutations(t, good, validateViolations, map[string]mutation{
		"pull_request_target":   {"  pull_request:\n", "  pull_request_target:\n", "trigger pull_request_target"},
		"write permission":      {"  contents: read\n", "  contents: write\n", "permission contents: write is not read-only"},
		"no permissions":        {"permissions:\n  contents: read\n", "", "sets no permissions"},
		"job write permission":  {"    timeout-minutes: 15\n", "    timeout-minutes: 15\n    permissions: write-all\n", `job validate permissions "write-all" are not read-only`},
		"no timeout":            {"    timeout-minutes: 15\n", "", "job validate sets no timeout-minutes"},
		"expression in run":     {`--author "$AUTHOR"`, `--author "${{ github.event.pull_request.user.login }}"`, "has a ${{ }} expression inside run:"},
		"persisted credentials": {"persist-credentials: false", "persist-credentials: true", "leaves the token in .git/config"},
		"unpinned action":       {"actions/setup-go@v5", "actions/setup-go@main", "uses actions/setup-go@main, which is not pinned to a version"},
		"head checkout":         {"ref: " + baseSHA, "ref: ${{ github.event.pull_request.head.sha }}", "compiles code, but no earlier step checks out the base revision"},
		"build outside base":    {"        working-directory: base\n", "", "compiles code in ., not in the base checkout base"},
		"go run":                {`go build -trimpath -o "$RUNNER_TEMP/jit" ./cmd/jit`, "go run ./cmd/jit --help", "uses go run"},
		"validate through go":   {`"$RUNNER_TEMP/jit" validate`, "go run ./cmd/jit validate", "runs jit validate through the go command"},
		"missing flag":          {` --default-branch "$DEFAULT_BRANCH"`, "", "runs jit validate without --default-branch"},
		"go.mod of the head":    {"go-version-file: base/go.mod", "go-version-file: go.mod", "reads go-version-file go.mod outside the base checkout"},
		"secret to an action":   {"          persist-credentials: false\n", "          persist-credentials: false\n          token: ${{ secrets.PAT }}\n", "40:18: jobs.validate.steps.0.with.token reads secrets"},
		// A data checkout alone is allowed while nothing runs in it.
		"head checkout used": headCheckout,
	})
	withHead := strings.Replace(good, headCheckout.old, headCheckout.new, 1)
	checkMutations(t, withHead, validateViolations, map[string]mutation{
		"building the data path":  {"run: go build -trimpath", "run: cd ../head && go build -trimpath", "compiles code and names head"},
		"running in the data dir": {"run: >-\n", "working-directory: head\n        run: >-\n", "runs in head, a checkout of the pull request"},
	})
}
