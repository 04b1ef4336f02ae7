package cli_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/trailer"
)

// provAccessRepo starts an access repository whose main branch holds the
// postgres-role template, a policy covering access/ and the signing key of
// the returned controller key.
func provAccessRepo(t *testing.T, at time.Time) (*gittest.Repo, *decisiontest.Key) {
	t.Helper()
	return provAccessRepoWith(t, at, "../../templates/postgres-role", "postgres-role")
}

// provAccessRepoWith is provAccessRepo with the template in dir as name.
func provAccessRepoWith(t *testing.T, at time.Time, dir, name string) (*gittest.Repo, *decisiontest.Key) {
	t.Helper()
	repo := gittest.New(t)
	key := decisiontest.NewKey(t)
	files := provTemplateFiles(t, dir, name)
	files["policies/all.hcl"] = fmt.Sprintf("policy \"all\" {\n  paths        = [\"access/**\"]\n  templates    = [%q]\n  max_duration = \"24h\"\n  approvals    = 1\n}\n", name)
	files[".github/jit-signers"] = key.AllowedSigners()
	files[".github/CODEOWNERS"] = "/access/ @acme/dba\n"
	repo.Commit("main", "admin", "governance", at, files)
	return repo, key
}

var provPR = 100

// provMerge merges, at when, a pull request that adds or edits the grant
// file path with content, with the decision the App would sign: expiry
// from the grant's duration counted from when.
func provMerge(t *testing.T, repo *gittest.Repo, key *decisiontest.Key, when time.Time, path, content string) {
	t.Helper()
	req, problems := request.Parse(path, []byte(content))
	if len(problems) > 0 {
		t.Fatalf("grant %s: %v", path, problems)
	}
	provPR++
	branch := "pr-" + itoa(provPR)
	head := repo.Commit(branch, req.Requester, "request "+req.ID, when.Add(-time.Minute), map[string]string{path: content}, repo.Head("main"))
	key.Merge(t, repo, "main", when, head, decisionFor(t, path, content, when, provPR))
}

// decisionFor is the decision the App would sign for the grant file path
// with content merged at when as pull request pr.
func decisionFor(t *testing.T, path, content string, when time.Time, pr int) trailer.Decision {
	t.Helper()
	req, problems := request.Parse(path, []byte(content))
	if len(problems) > 0 {
		t.Fatalf("grant %s: %v", path, problems)
	}
	approver := "dba-dan"
	return trailer.Decision{
		Grants: []string{req.ID}, RequestedBy: []string{req.Requester}, ApprovedBy: []string{approver},
		EligibleVia: []trailer.Via{{Login: approver, Owner: "@acme/dba"}}, Policies: []string{"all"},
		Duration: req.Duration, ExpiresAt: when.Truncate(time.Second).Add(req.Duration), PullRequest: pr, BreakGlass: req.BreakGlass,
	}
}

func itoa(n int) string { return fmt.Sprint(n) }
