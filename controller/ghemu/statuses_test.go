package ghemu_test

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestCombinedStatusRules checks GitHub's reduction: failure if any latest
// context is error or failure, pending if there are none or any is pending,
// success only when every context's latest status is success.
func TestCombinedStatusRules(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	srv := ghemutest.NewServer(t, testSeed(""))
	bob := client(t, srv, "bob")
	type st struct{ context, state string }
	tests := map[string]struct {
		posts []st
		want  string
		total int
	}{
		"no statuses":             {nil, "pending", 0},
		"one success":             {[]st{{"a", "success"}}, "success", 1},
		"latest per context wins": {[]st{{"a", "failure"}, {"a", "success"}}, "success", 1},
		"pending among successes": {[]st{{"a", "success"}, {"b", "pending"}}, "pending", 2},
		"error beats pending":     {[]st{{"a", "pending"}, {"b", "error"}}, "failure", 2},
		"failure beats success":   {[]st{{"a", "success"}, {"b", "failure"}}, "failure", 2},
		"recovered from failure":  {[]st{{"a", "failure"}, {"b", "success"}, {"a", "success"}}, "success", 2},
	}
	i := 0
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i++
			sha, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "s" + string(rune('a'+i)), Message: name})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.posts {
				must[*github.RepoStatus](t, "status")(bob.Repositories.CreateStatus(ctx, "acme", "access", sha,
					&github.RepoStatus{State: github.String(p.state), Context: github.String(p.context)}))
			}
			cs := must[*github.CombinedStatus](t, "combined")(bob.Repositories.GetCombinedStatus(ctx, "acme", "access", sha, nil))
			if cs.GetState() != tc.want || cs.GetTotalCount() != tc.total || cs.GetSHA() != sha {
				t.Errorf("combined = %s (%d) for %s, want %s (%d)", cs.GetState(), cs.GetTotalCount(), cs.GetSHA(), tc.want, tc.total)
			}
		})
	}
}
