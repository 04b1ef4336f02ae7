package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/internal/gittest"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// repoRoot is this repository, which is also the example access repository.
const repoRoot = "../.."

func copyGoverning(t *testing.T, dst string) {
	t.Helper()
	for _, p := range []string{".github/CODEOWNERS", "policies/prod.hcl", "policies/staging.hcl"} {
		writeFile(t, dst, p, readFile(t, filepath.Join(repoRoot, p)))
	}
	writeFile(t, dst, "templates/postgres-role/variables.tf", `variable "database" {
  type = string
  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database))
    error_message = "The database must be a lower-case PostgreSQL identifier."
  }
}
variable "privileges" {
  type    = string
  default = "read"
}
`)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, root, p, content string) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const grantText = "template: postgres-role\nrequester: alice\nduration: 2h\nreason: Investigate\nticket: INC-1\nscope:\n  database: orders\n"

func TestValidateShippedExamples(t *testing.T) {
	dir := t.TempDir()
	copyGoverning(t, dir)
	for _, p := range []string{"access/prod/orders/alice-inc-1234.yaml", "access/staging/orders/bob-schema-migration.yaml"} {
		writeFile(t, dir, p, readFile(t, filepath.Join(repoRoot, p)))
	}
	code, out, errOut := run(t, "validate", "--repo", dir)
	// Success says what was checked, not nothing.
	if want := "ok: 2 grant files checked against 2 policies and 1 template in " + dir + "\n"; code != cli.ExitOK || out != want || errOut != "" {
		t.Fatalf("validate of the shipped examples: exit %d\n%s%s\nwant %q", code, out, errOut, want)
	}
}

// TestValidateNotAnAccessRepository: a directory with neither access/ nor
// policies/ is not "valid": it fails, saying what is missing and what to do.
func TestValidateNotAnAccessRepository(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.go", "package main\n")
	code, out, errOut := run(t, "validate", "--repo", dir)
	want := "access/:0:0: this is not an access repository: it has neither access/ (grant files) nor policies/ (the policies that judge them); run jit validate in a clone of the access repository, or name one with --repo DIR\n"
	if code != cli.ExitProblems || out != want || errOut != "jit validate: 1 problem found\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, %q", code, out, errOut, want)
	}
	// With policies but no grants yet, it is a valid (empty) access repository.
	writeFile(t, dir, "policies/prod.hcl", readFile(t, filepath.Join(repoRoot, "policies/prod.hcl")))
	writeFile(t, dir, ".github/CODEOWNERS", "* @acme/dba\n")
	writeFile(t, dir, "templates/postgres-role/variables.tf", "variable \"database\" {\n  type = string\n}\n")
	code, out, errOut = run(t, "validate", "--repo", dir)
	if want := "ok: 0 grant files checked against 1 policy and 1 template in " + dir + "\n"; code != cli.ExitOK || out != want {
		t.Errorf("policies only: exit %d, stdout %q, stderr %q; want 0, %q", code, out, errOut, want)
	}
}

func TestValidateTextAndJSON(t *testing.T) {
	dir := t.TempDir()
	copyGoverning(t, dir)
	writeFile(t, dir, "access/prod/ok.yaml", grantText)
	writeFile(t, dir, "access/prod/long.yaml", strings.Replace(grantText, "2h", "9h", 1))
	code, out, _ := run(t, "validate", "--repo", dir)
	want := "access/prod/long.yaml:3:11: duration 9h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)\n"
	if code != cli.ExitProblems || out != want {
		t.Errorf("text: exit %d, output %q; want 1, %q", code, out, want)
	}

	code, out, _ = run(t, "validate", "--repo", dir, "--format", "json")
	if code != cli.ExitProblems {
		t.Errorf("json: exit %d, want 1", code)
	}
	var doc struct {
		Valid    bool `json:"valid"`
		Problems []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Message string `json:"message"`
		} `json:"problems"`
		Grants []struct {
			ID                string   `json:"id"`
			File              string   `json:"file"`
			Template          string   `json:"template"`
			Requester         string   `json:"requester"`
			DurationSeconds   int64    `json:"duration_seconds"`
			Policies          []string `json:"policies"`
			ApprovalsRequired int      `json:"approvals_required"`
			EligibleApprovers []string `json:"eligible_approvers"`
		} `json:"grants"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, out)
	}
	if doc.Valid || len(doc.Problems) != 1 || doc.Problems[0].File != "access/prod/long.yaml" || doc.Problems[0].Line != 3 || doc.Problems[0].Column != 11 {
		t.Errorf("json problems = %+v", doc.Problems)
	}
	if len(doc.Grants) != 2 {
		t.Fatalf("json grants = %+v", doc.Grants)
	}
	g := doc.Grants[1]
	if g.ID != "prod/ok" || g.Template != "postgres-role" || g.Requester != "alice" || g.DurationSeconds != 7200 ||
		strings.Join(g.Policies, ",") != "prod" || g.ApprovalsRequired != 1 || strings.Join(g.EligibleApprovers, ",") != "@acme/dba" {
		t.Errorf("json grant = %+v", g)
	}
}

// TestValidateHostileTree: nothing crashes, nothing half-passes, every bad
// file is named.
func TestValidateHostileTree(t *testing.T) {
	dir := t.TempDir()
	copyGoverning(t, dir)
	writeFile(t, dir, "access/prod/ok.yaml", grantText)
	writeFile(t, dir, "access/prod/bomb.yaml", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n")
	writeFile(t, dir, "access/prod/deep.yaml", strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+"\n")
	writeFile(t, dir, "access/prod/huge.yaml", strings.Repeat("a", 10<<20))
	writeFile(t, dir, "access/prod/binary.yaml", "\x00\x01\x02\xff\xfe")
	writeFile(t, dir, "access/prod/with space.yaml", grantText)
	writeFile(t, dir, "access/prod/unknown-template.yaml", strings.Replace(grantText, "postgres-role", "nope", 1))
	writeFile(t, dir, "secret.yaml", grantText)
	if err := os.Symlink(filepath.Join(dir, "secret.yaml"), filepath.Join(dir, "access", "prod", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "validate", "--repo", dir)
	if code != cli.ExitProblems {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"access/prod/bomb.yaml:1:4: anchors (&a) are not allowed",
		"access/prod/deep.yaml:",
		"access/prod/huge.yaml:1:1: file is 10485760 bytes",
		"access/prod/binary.yaml:1:4: file is not valid UTF-8",
		`access/prod/with space.yaml:1:1: path segment "with space" is not allowed`,
		"access/prod/unknown-template.yaml:1:11: template nope does not exist",
		"access/prod/link.yaml:1:1: symbolic links are not allowed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "access/prod/bomb.yaml"); n != 1 {
		t.Errorf("the YAML bomb got %d problems, want 1", n)
	}
	if strings.Contains(out, "access/prod/ok.yaml") {
		t.Errorf("the valid grant was reported:\n%s", out)
	}
}

func TestValidateChange(t *testing.T) {
	g := gittest.New(t)
	dir := t.TempDir()
	copyGoverning(t, dir)
	files := map[string]string{}
	for _, p := range []string{".github/CODEOWNERS", "policies/prod.hcl", "policies/staging.hcl", "templates/postgres-role/variables.tf"} {
		files[p] = readFile(t, filepath.Join(dir, p))
	}
	base := g.Commit("main", "admin", "governance", gittest.Start, files)
	g.Commit("pr", "alice", "request", gittest.Start.Add(time.Hour), map[string]string{"access/prod/alice-inc-1.yaml": grantText}, base)
	g.Commit("pr-bad", "alice", "request", gittest.Start.Add(time.Hour), map[string]string{"access/prod/alice-inc-1.yaml": grantText, "policies/prod.hcl": "# gone\n"}, base)

	code, out, errOut := run(t, "validate", "--repo", g.Dir, "--base", "main", "--head", "pr", "--author", "alice")
	if want := "ok: change " + base.String()[:12] + ".." + g.Head("pr").String()[:12] + " adds 1 grant, judged by 2 policies and 1 template at main " + base.String()[:12] + "\n"; code != cli.ExitOK || out != want {
		t.Errorf("valid change: exit %d\n%s%s\nwant %q", code, out, errOut, want)
	}
	code, out, _ = run(t, "validate", "--repo", g.Dir, "--base", "main", "--head", "pr", "--author", "mallory")
	if code != cli.ExitProblems || !strings.Contains(out, "access/prod/alice-inc-1.yaml:2:12: requester alice is not the pull request author mallory") {
		t.Errorf("wrong author: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "validate", "--repo", g.Dir, "--base", "main", "--head", "pr-bad", "--author", "alice")
	if code != cli.ExitProblems || !strings.Contains(out, "policies/prod.hcl:0:0: a pull request that changes access/ may not change governing files") {
		t.Errorf("mixed change: exit %d\n%s", code, out)
	}

	// A pull request against another branch is judged by main and rejected
	// for its target.
	lax := g.Commit("lax", "mallory", "loosen", gittest.Start.Add(time.Hour), map[string]string{".github/CODEOWNERS": "* @mallory\n"}, base)
	g.Commit("pr-lax", "alice", "request", gittest.Start.Add(2*time.Hour), map[string]string{"access/prod/alice-inc-2.yaml": grantText}, lax)
	code, out, _ = run(t, "validate", "--repo", g.Dir, "--base", "lax", "--head", "pr-lax", "--author", "alice", "--base-ref", "lax", "--format", "json")
	if code != cli.ExitProblems || !strings.Contains(out, "must target the default branch main, not lax") || !strings.Contains(out, `"@acme/dba"`) {
		t.Errorf("pull request against lax: exit %d\n%s", code, out)
	}
	// --default-branch names another default branch, whose rules judge.
	if code, out, errOut := run(t, "validate", "--repo", g.Dir, "--base", "lax", "--head", "pr-lax", "--author", "alice", "--base-ref", "lax", "--default-branch", "lax", "--format", "json"); code != cli.ExitOK || !strings.Contains(out, `"@mallory"`) {
		t.Errorf("with --default-branch lax: exit %d\n%s%s", code, out, errOut)
	}
}

func TestValidateUsage(t *testing.T) {
	tests := map[string]struct {
		args []string
		msg  string
	}{
		"base without head":     {[]string{"validate", "--base", "main"}, "--base and --head go together"},
		"bad format":            {[]string{"validate", "--format", "xml"}, `--format must be text or json, not "xml"`},
		"author alone":          {[]string{"validate", "--author", "alice"}, "--author applies to a change"},
		"base ref alone":        {[]string{"validate", "--base-ref", "main", "--default-branch", "main"}, "--base-ref and --default-branch apply to a change"},
		"change without author": {[]string{"validate", "--repo", "../..", "--base", "HEAD", "--head", "HEAD"}, "validating a change needs --author"},
		"unknown default branch": {[]string{"validate", "--repo", "../..", "--base", "HEAD", "--head", "HEAD", "--author", "a", "--default-branch", "no-such-branch-x"},
			"default branch no-such-branch-x: neither refs/heads/no-such-branch-x nor refs/remotes/origin/no-such-branch-x exists"},
		"stray argument":   {[]string{"validate", "extra"}, `unexpected argument "extra"`},
		"unknown flag":     {[]string{"validate", "--nope"}, "flag provided but not defined: -nope"},
		"missing repo":     {[]string{"validate", "--repo", "/no/such/dir"}, "--repo /no/such/dir is not a directory"},
		"not a git repo":   {[]string{"validate", "--repo", "/", "--base", "a", "--head", "b", "--author", "a"}, "opening git repository at /"},
		"unknown revision": {[]string{"validate", "--repo", "../..", "--base", "no-such-rev-x", "--head", "HEAD", "--author", "a"}, `resolving revision "no-such-rev-x"`},
		"unknown command":  {[]string{"frobnicate"}, `unknown command "frobnicate"`},
		"owners no paths":  {[]string{"owners"}, "give at least one PATH"},
		"owners bad ref":   {[]string{"owners", "--repo", "../..", "--ref", "no-such-rev-x", "a"}, `resolving revision "no-such-rev-x"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != cli.ExitUsage || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.msg)
			}
		})
	}
}

func TestOwners(t *testing.T) {
	dir := t.TempDir()
	copyGoverning(t, dir)
	writeFile(t, dir, "access/prod/orders/a.yaml", grantText)
	code, out, errOut := run(t, "owners", "--repo", dir, "access/prod/orders/a.yaml", "access/staging/x.yaml", "/policies/prod.hcl", "README.md", "access/dev/x.yaml")
	want := "access/prod/orders/a.yaml @acme/dba\n" +
		"  eligible: these owners, except alice, the requester (nobody approves their own grant); 1 approval needed (policy prod)\n" +
		"access/staging/x.yaml @acme/dba @acme/developers\n" +
		"  eligible: these owners, except the grant's requester (nobody approves their own grant); 1 approval needed (policy staging)\n" +
		"/policies/prod.hcl @acme/security\n" +
		"README.md\n" +
		"  nobody is eligible: no CODEOWNERS rule gives this path an owner\n" +
		"access/dev/x.yaml\n" +
		"  nobody is eligible: no CODEOWNERS rule gives this path an owner\n"
	if code != cli.ExitOK || out != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s%s", code, out, want, errOut)
	}
	// Approvers lists of the covering policies are named; a path no policy
	// covers is approvable by nobody, whatever CODEOWNERS says.
	writeFile(t, dir, "policies/prod.hcl", strings.Replace(readFile(t, filepath.Join(repoRoot, "policies/prod.hcl")), "approvals", "approvers = [\"@acme/dba-leads\"]\n  approvals", 1))
	writeFile(t, dir, ".github/CODEOWNERS", "/access/ @acme/dba\n")
	code, out, errOut = run(t, "owners", "--repo", dir, "access/prod/orders/a.yaml", "access/dev/x.yaml")
	want = "access/prod/orders/a.yaml @acme/dba\n" +
		"  eligible: these owners, except alice, the requester (nobody approves their own grant); 1 approval needed (policy prod); an approver must also match @acme/dba-leads of policy prod\n" +
		"access/dev/x.yaml @acme/dba\n" +
		"  nobody is eligible: no policy covers this path (or policies/ has errors; jit validate lists them), so no grant there can be approved\n"
	if code != cli.ExitOK || out != want {
		t.Errorf("with approvers: exit %d, output:\n%s\nwant:\n%s%s", code, out, want, errOut)
	}

	// At a revision: the file of that revision, not the working tree.
	g := gittest.New(t)
	g.Commit("main", "admin", "v1", gittest.Start, map[string]string{".github/CODEOWNERS": "* @old\n"})
	g.Commit("main", "admin", "v2", gittest.Start.Add(time.Hour), map[string]string{".github/CODEOWNERS": "* @new\n"})
	if code, out, _ := run(t, "owners", "--repo", g.Dir, "--ref", "main~1", "x"); code != 0 || out != "x @old\n" {
		t.Errorf("owners at main~1: exit %d, %q", code, out)
	}

	// Errors fail closed: exit 1 and the line named.
	bad := t.TempDir()
	writeFile(t, bad, "CODEOWNERS", "* @ok\n/x/ not-an-owner\n")
	code, out, errOut = run(t, "owners", "--repo", bad, "y")
	// The owners are listed, and the next line says that none of them is
	// eligible, as the message on stderr does.
	if code != cli.ExitProblems || !strings.Contains(errOut, "CODEOWNERS:2:") ||
		out != "y @ok\n  nobody is eligible while CODEOWNERS has errors (listed on stderr); fix them in a pull request of their own\n" {
		t.Errorf("owners with a bad CODEOWNERS: exit %d, out %q, err %q", code, out, errOut)
	}
}

// TestValidateThisRepository runs the README's run command: this repository
// is also the example access repository, and it must be valid.
func TestValidateThisRepository(t *testing.T) {
	code, out, errOut := run(t, "validate", "--repo", repoRoot)
	if code != cli.ExitOK {
		t.Fatalf("jit validate --repo . exits %d:\n%s%s", code, out, errOut)
	}
}
