package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
)

const passGrant = "template: data\nrequester: alice\nduration: 1h\nreason: test\nscope:\n  value: a\n"

func setRef(t *testing.T, repo *gittest.Repo, name string, h plumbing.Hash) {
	t.Helper()
	if err := repo.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		t.Fatal(err)
	}
}

// passRepo is an access repository with the data template whose main
// branch has one verified grant, dev/a.
func passRepo(t *testing.T, t0 time.Time) (*gittest.Repo, *decisiontest.Key) {
	t.Helper()
	repo, key := provAccessRepoWith(t, t0.Add(-time.Hour), "../provision/testdata/repo/templates/data", "data")
	provMerge(t, repo, key, t0, "access/dev/a.yaml", passGrant)
	return repo, key
}

// Which revision a pass reads is not up to whoever can push a tag or a
// branch: only the default branch, never an older revision of it.
func TestPassReadsOnlyTheDefaultBranchTip(t *testing.T) {
	provNeedTerraform(t)
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	now := "--now=" + t0.Add(30*time.Minute).Format(time.RFC3339)

	t.Run("a tag named main is not the branch", func(t *testing.T) {
		repo, _ := passRepo(t, t0)
		// mallory's own chain: her key in jit-signers, a grant "signed"
		// with it, and a tag named like the default branch.
		evil := decisiontest.NewKey(t)
		base := repo.Commit("evil", "mallory", "innocent", t0, map[string]string{".github/jit-signers": evil.AllowedSigners()}, repo.Head("main"))
		head := repo.Commit("evil-pr", "mallory", "request", t0, map[string]string{"access/dev/m.yaml": strings.Replace(passGrant, "alice", "mallory", 1)}, base)
		provPR++
		evil.Merge(t, repo, "evil", t0.Add(time.Minute), head, decisionFor(t, "access/dev/m.yaml", strings.Replace(passGrant, "alice", "mallory", 1), t0.Add(time.Minute), provPR))
		setRef(t, repo, "refs/tags/main", repo.Head("evil"))
		dir := t.TempDir()
		code, out, errOut := provRun(t, "apply", "--repo", repo.Dir, "--state", "local:"+filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work"), "--new-state", now)
		if code != cli.ExitOK || out != "applied dev/a until 2026-05-01T10:00:00Z (terraform_data.grant, terraform_data.second)\n" || strings.Contains(out+errOut, "dev/m") {
			t.Errorf("apply exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})

	t.Run("an older revision is refused", func(t *testing.T) {
		repo, _ := passRepo(t, t0)
		old := repo.Head("main")
		repo.Commit("main", "alice", "revoke", t0.Add(10*time.Minute), map[string]string{"access/dev/a.yaml": ""})
		dir := t.TempDir()
		code, out, errOut := provRun(t, "reconcile", "--repo", repo.Dir, "--state", "local:"+filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work"), "--new-state", now, "--rev", old.String())
		if code != cli.ExitProblems || out != "" || !strings.Contains(errOut, "--rev "+old.String()+" is not the tip of main") {
			t.Errorf("reconcile of an older revision exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})

	t.Run("origin's newer tip wins over a stale local branch", func(t *testing.T) {
		repo, key := passRepo(t, t0)
		stale := repo.Head("main")
		provMerge(t, repo, key, t0.Add(time.Minute), "access/dev/b.yaml", strings.Replace(passGrant, "value: a", "value: b", 1))
		setRef(t, repo, "refs/remotes/origin/main", repo.Head("main"))
		setRef(t, repo, "refs/heads/main", stale)
		dir := t.TempDir()
		code, out, errOut := provRun(t, "apply", "--repo", repo.Dir, "--state", "local:"+filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work"), "--new-state", now)
		if code != cli.ExitOK || !strings.Contains(out, "applied dev/b ") {
			t.Errorf("apply exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		// A local branch ahead of origin (commits the server does not have)
		// is refused.
		setRef(t, repo, "refs/remotes/origin/main", stale)
		setRef(t, repo, "refs/heads/main", repo.Head("pr-"+itoa(provPR)))
		code, out, errOut = provRun(t, "apply", "--repo", repo.Dir, "--state", "local:"+filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work"), now)
		if code != cli.ExitProblems || !strings.Contains(errOut, "has commits that origin/main") {
			t.Errorf("apply with local ahead exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})
}

// A state that holds workspaces of grants another repository has is not
// taken for a state whose grants were all removed.
func TestPassRefusesAnotherDeploymentsState(t *testing.T) {
	provNeedTerraform(t)
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	now := "--now=" + t0.Add(30*time.Minute).Format(time.RFC3339)
	a, _ := passRepo(t, t0)
	b, keyB := provAccessRepoWith(t, t0.Add(-time.Hour), "../provision/testdata/repo/templates/data", "data")
	provMerge(t, b, keyB, t0, "access/dev/other.yaml", passGrant)
	dir := t.TempDir()
	state := []string{"--state", "local:" + filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work"), now}
	if code, out, errOut := provRun(t, append([]string{"reconcile", "--repo", a.Dir, "--new-state"}, state...)...); code != cli.ExitOK {
		t.Fatalf("reconcile of a: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := provRun(t, append([]string{"reconcile", "--repo", b.Dir}, state...)...)
	if code != cli.ExitProblems || out != "" || !strings.Contains(errOut, "holds workspaces of grants that never existed on") || !strings.Contains(errOut, "dev/a") {
		t.Fatalf("reconcile of b on a's state: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, out, errOut := provRun(t, append([]string{"reconcile", "--repo", a.Dir}, state...)...); code != cli.ExitOK || out != "reconciled: 1 desired, 1 existed, 0 actions, 0 failed, 0 anomalies\n" {
		t.Errorf("a's grant did not survive: exit %d\n%s%s", code, out, errOut)
	}
}
