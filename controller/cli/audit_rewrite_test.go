package cli_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/cli"
)

// TestAuditRewrittenHistory: a history rewritten by a rebase (the merges
// that carried the decisions flattened away, every controller record moved
// onto a new parent) and one reordered by hand (the revoked record picked
// before the activation) are reported as anomalies, never trusted and never
// a crash.
func TestAuditRewrittenHistory(t *testing.T) {
	repo, _, at := auditHistory(t)
	now := at.Add(4 * time.Hour).Format(time.RFC3339)
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo.Dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=x", "GIT_AUTHOR_EMAIL=x@example.com", "GIT_COMMITTER_NAME=x", "GIT_COMMITTER_EMAIL=x@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitIn("checkout", "-q", "-b", "rebased", "main")
	gitIn("rebase", "-q", "--root", "--committer-date-is-author-date")
	code, out, errOut := run(t, "audit", "verify", "--repo", repo.Dir, "--rev", "rebased", "--now", now)
	if code != cli.ExitProblems || !strings.Contains(out, "no-decision prod/db/alice-inc-1") || !strings.Contains(out, "no-decision prod/db/bob-2") {
		t.Errorf("rebased history: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Reordered: on a branch from the first decision merge, the revoked
	// record is picked before the activated one.
	log := strings.Split(gitIn("log", "--first-parent", "--format=%H %s", "main"), "\n")
	var merge, activated, revoked string
	for _, l := range log {
		sha, subject, _ := strings.Cut(l, " ")
		switch {
		case subject == "jit: activated" && activated == "":
			activated = sha // the last activation listed first: bob's
		case subject == "jit: revoked":
			revoked = sha
		}
	}
	for _, l := range log {
		sha, subject, _ := strings.Cut(l, " ")
		if strings.HasPrefix(subject, "Merge pull request") && merge == "" && !strings.Contains(subject, "expire") {
			merge = sha
		}
	}
	gitIn("checkout", "-q", "-b", "reordered", merge)
	gitIn("cherry-pick", "--allow-empty", "--keep-redundant-commits", revoked)
	gitIn("cherry-pick", "--allow-empty", "--keep-redundant-commits", activated)
	code, out, errOut = run(t, "audit", "verify", "--repo", repo.Dir, "--rev", "reordered", "--now", now)
	if code != cli.ExitProblems || strings.Count(out, "bad-record") < 2 {
		t.Errorf("reordered history: exit %d, want every moved record reported as bad-record\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
