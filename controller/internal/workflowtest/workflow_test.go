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

const (
	workflowFile = "../../../.github/workflows/validate.yml"
	// oldWorkflow is validate.yml before finding 1: it checked out the pull
	// request's merge commit and ran `go run ./cmd/jit` from it.
	oldWorkflow = "testdata/validate-before-finding-1.yml"
	baseSHA     = "${{ github.event.pull_request.base.sha }}"
)

type workflow struct {
	On          any            `yaml:"on"`
	Permissions any            `yaml:"permissions"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	Permissions any    `yaml:"permissions"`
	Steps       []step `yaml:"steps"`
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

// goCommand finds a go command that compiles or runs code, or make.
var goCommand = regexp.MustCompile(`(^|[\s;&|(])(go\s+(build|install|run|test|generate|vet|tool)\b|make\b)`)

// workspacePath cleans a path relative to the workspace ("" is the workspace).
func workspacePath(p string) string {
	return path.Clean("./" + strings.TrimSpace(p))
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// violations lists every way the workflow could run code of the pull
// request, or leak its token or event values into a script.
func violations(data []byte) []string {
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return []string{fmt.Sprintf("the workflow is not valid YAML: %v", err)}
	}
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	var triggers []string
	switch on := wf.On.(type) {
	case string:
		triggers = []string{on}
	case []any:
		for _, t := range on {
			triggers = append(triggers, fmt.Sprint(t))
		}
	case map[string]any:
		for t := range on {
			triggers = append(triggers, t)
		}
	}
	for _, t := range triggers {
		if t == "pull_request_target" || t == "workflow_run" {
			bad("trigger %s runs with the base repository's token and secrets; use pull_request", t)
		}
	}
	if !slices.Contains(triggers, "pull_request") {
		bad("the workflow is not triggered by pull_request (triggers: %v)", triggers)
	}

	checkPermissions := func(where string, p any, required bool) {
		switch p := p.(type) {
		case nil:
			if required {
				bad("%s sets no permissions, so the token gets the repository's defaults (possibly write); set permissions: contents: read", where)
			}
		case string:
			if p != "read-all" && p != "{}" {
				bad("%s permissions %q are not read-only", where, p)
			}
		case map[string]any:
			for scope, level := range p {
				if l := fmt.Sprint(level); l != "read" && l != "none" {
					bad("%s permission %s: %s is not read-only", where, scope, l)
				}
			}
		default:
			bad("%s permissions %v are not understood", where, p)
		}
	}
	checkPermissions("the workflow", wf.Permissions, true)

	for name, j := range wf.Jobs {
		checkPermissions("job "+name, j.Permissions, false)
		base := ""        // path of the checkout of the base revision
		var data []string // paths of checkouts of anything else: data, never code
		validated := false
		for i, s := range j.Steps {
			where := fmt.Sprintf("job %s %s", name, s.label(i))
			if strings.Contains(s.Run, "${{") {
				bad("%s has a ${{ }} expression inside run:; pass the value through env: and quote the variable", where)
			}
			wd := workspacePath(s.WorkingDirectory)
			switch {
			case strings.HasPrefix(s.Uses, "actions/checkout@"):
				p := workspacePath(s.with("path"))
				if s.with("persist-credentials") != "false" {
					bad("%s leaves the token in .git/config; set persist-credentials: false", where)
				}
				if strings.Join(strings.Fields(s.with("ref")), " ") == baseSHA && base == "" {
					base = p
					continue
				}
				if p == "." {
					bad("%s checks out something other than the base revision (ref %q) into the workspace, where every step runs: that is the pull request's code", where, s.with("ref"))
				}
				data = append(data, p)
			case strings.HasPrefix(s.Uses, "actions/setup-go@"):
				if f := s.with("go-version-file"); f != "" && (base == "" || !within(workspacePath(f), base)) {
					bad("%s reads go-version-file %s outside the base checkout", where, f)
				}
			}
			if s.Run == "" {
				continue
			}
			for _, d := range data {
				if within(wd, d) {
					bad("%s runs in %s, a checkout of the pull request", where, d)
				}
			}
			if regexp.MustCompile(`\bgo\s+run\b`).MatchString(s.Run) {
				bad("%s uses go run; build jit from the base checkout and run the binary", where)
			}
			if goCommand.MatchString(s.Run) {
				switch {
				case base == "":
					bad("%s compiles code, but no earlier step checks out the base revision (ref: %s)", where, baseSHA)
				case wd != base:
					bad("%s compiles code in %s, not in the base checkout %s", where, wd, base)
				}
				for _, d := range data {
					if d != "." && strings.Contains(s.Run, d) {
						bad("%s compiles code and names %s, a checkout of the pull request", where, d)
					}
				}
			}
			if regexp.MustCompile(`(^|\s)validate\s`).MatchString(s.Run) {
				validated = true
				if goCommand.MatchString(s.Run) {
					bad("%s runs jit validate through the go command; run the binary built from the base checkout", where)
				}
				for _, flag := range []string{"--repo", "--base", "--head", "--author", "--base-ref", "--default-branch"} {
					if !regexp.MustCompile(`(^|\s)` + flag + `\s`).MatchString(s.Run + " ") {
						bad("%s runs jit validate without %s", where, flag)
					}
				}
			}
		}
		if base == "" {
			bad("job %s never checks out the base revision (ref: %s)", name, baseSHA)
		}
		if !validated {
			bad("job %s never runs jit validate", name)
		}
	}
	return out
}

func read(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestValidateWorkflowRunsOnlyBaseCode(t *testing.T) {
	if v := violations([]byte(read(t, workflowFile))); len(v) > 0 {
		t.Errorf(".github/workflows/validate.yml:\n  %s", strings.Join(v, "\n  "))
	}
}

// TestOldWorkflowFails: the workflow of finding 1 checked out the merge
// commit and ran `go run ./cmd/jit`; the checks must catch it.
func TestOldWorkflowFails(t *testing.T) {
	got := strings.Join(violations([]byte(read(t, oldWorkflow))), "\n")
	for _, want := range []string{
		"checks out something other than the base revision",
		"leaves the token in .git/config",
		"uses go run",
		"compiles code, but no earlier step checks out the base revision",
		"never checks out the base revision",
		"runs jit validate through the go command",
		"runs jit validate without --base-ref",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the old workflow should be caught: %q is missing from:\n%s", want, got)
		}
	}
}

// TestEachRuleCatchesItsMutation breaks the real workflow one way at a time;
// each change must be caught by its rule.
func TestEachRuleCatchesItsMutation(t *testing.T) {
	good := read(t, workflowFile)
	tests := map[string]struct {
		old, new string
		want     string
	}{
		"pull_request_target":     {"  pull_request:\n", "  pull_request_target:\n", "trigger pull_request_target"},
		"write permission":        {"  contents: read\n", "  contents: write\n", "permission contents: write is not read-only"},
		"no permissions":          {"permissions:\n  contents: read\n", "", "sets no permissions"},
		"job write permission":    {"    timeout-minutes: 15\n", "    timeout-minutes: 15\n    permissions: write-all\n", `job validate permissions "write-all" are not read-only`},
		"expression in run":       {`--author "$AUTHOR"`, `--author "${{ github.event.pull_request.user.login }}"`, "has a ${{ }} expression inside run:"},
		"persisted credentials":   {"persist-credentials: false", "persist-credentials: true", "leaves the token in .git/config"},
		"head checkout":           {"ref: " + baseSHA, "ref: ${{ github.event.pull_request.head.sha }}", "compiles code, but no earlier step checks out the base revision"},
		"build outside base":      {"        working-directory: base\n", "", "compiles code in ., not in the base checkout base"},
		"go run":                  {`go build -trimpath -o "$RUNNER_TEMP/jit" ./cmd/jit`, "go run ./cmd/jit --help", "uses go run"},
		"validate through go":     {`"$RUNNER_TEMP/jit" validate`, "go run ./cmd/jit validate", "runs jit validate through the go command"},
		"missing flag":            {` --default-branch "$DEFAULT_BRANCH"`, "", "runs jit validate without --default-branch"},
		"go.mod of the head":      {"go-version-file: base/go.mod", "go-version-file: go.mod", "reads go-version-file go.mod outside the base checkout"},
		"head checkout used":      {"      - uses: actions/setup-go@v5\n", "      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n          path: head\n          persist-credentials: false\n      - uses: actions/setup-go@v5\n", ""},
		"building the data path":  {"run: go build -trimpath", "run: cd ../head && go build -trimpath", "compiles code and names head"},
		"running in the data dir": {"run: >-\n", "working-directory: head\n        run: >-\n", "runs in head, a checkout of the pull request"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := good
			if name == "building the data path" || name == "running in the data dir" {
				src = strings.Replace(src, tests["head checkout used"].old, tests["head checkout used"].new, 1)
			}
			bad := strings.Replace(src, tc.old, tc.new, 1)
			if bad == src {
				t.Fatalf("the mutation did not apply: %q not found", tc.old)
			}
			got := violations([]byte(bad))
			if tc.want == "" {
				// A data checkout alone is allowed while nothing runs in it.
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
