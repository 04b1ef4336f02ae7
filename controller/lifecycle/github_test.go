package lifecycle_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-github/v60/github"
	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/lifecycle"
)

// TestMergedAsksGitHub: a grant is applied only when GitHub says its
// decision's commit is the merge of the pull request it names.
func TestMergedAsksGitHub(t *testing.T) {
	ctx := context.Background()
	srv := ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice", ID: 1001}},
		Repos: []ghemu.SeedRepo{{Name: "access", Files: map[string]string{"README.md": "access\n"}}},
		App:   &ghemu.SeedApp{ID: 42, Slug: "jit"},
	})
	ea, _ := srv.App()
	c, err := ghapi.New(ctx, ghapi.Config{APIURL: srv.APIURL, AppID: ea.ID, PrivateKeyPEM: ea.PrivateKeyPEM, Owner: "acme", Repo: "access"})
	if err != nil {
		t.Fatal(err)
	}
	open := func(branch string) (int, string) {
		head, err := srv.Commit(ctx, "access", ghemu.Change{Branch: branch, Author: "alice", Message: "request", Files: map[string]string{"access/" + branch + ".yaml": "x\n"}})
		if err != nil {
			t.Fatal(err)
		}
		pr, _, err := srv.Client("alice").PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{
			Title: github.String(branch), Head: github.String(branch), Base: github.String("main")})
		if err != nil {
			t.Fatal(err)
		}
		return pr.GetNumber(), head
	}
	merged, head := open("a")
	sha, err := c.Merge(ctx, merged, head, "Merge", "merged")
	if err != nil {
		t.Fatal(err)
	}
	unmerged, otherHead := open("b")

	gh := lifecycle.NewGitHub(c, "main")
	if err := gh.Merged(ctx, merged, sha); err != nil {
		t.Errorf("the real merge: %v", err)
	}
	for name, tc := range map[string]struct {
		number int
		commit string
	}{
		"another commit than the merge": {merged, head},
		"an open pull request":          {unmerged, otherHead},
		"another pull request's merge":  {unmerged, sha},
	} {
		if err := gh.Merged(ctx, tc.number, tc.commit); !errors.Is(err, lifecycle.ErrNotTheMerge) {
			t.Errorf("%s: %v, want ErrNotTheMerge", name, err)
		}
	}
	// The App's own merges are known without asking.
	srv.ResetRequests()
	e, _ := lifecycle.New(lifecycle.Config{Branch: "main", Signer: testSigner(t), GitHub: gh, Lock: nopLock{}})
	e.KnownMerge(7, "0123456789012345678901234567890123456789")
	if err := gh.Merged(ctx, 7, "0123456789012345678901234567890123456789"); err != nil {
		t.Errorf("a merge the App reported: %v", err)
	}
	if n := len(srv.APIRequests()); n != 0 {
		t.Errorf("%d requests for a merge the App made itself, want 0", n)
	}
}

type nopLock struct{}

func (nopLock) Lock(context.Context, string) (func(), error) { return func() {}, nil }
func (nopLock) Holds(context.Context, string) error          { return nil }

func testSigner(t *testing.T) ssh.Signer { return decisiontest.NewKey(t).Signer }
