package userapi_test

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/userapi"
)

// TestClientAgainstEmulator: the client acts as the token's user: who it
// is, the default branch, a pull request it opens (authored by that user),
// and the comments and reviews on it, bots told apart from people.
func TestClientAgainstEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts the emulator, which runs git")
	}
	ctx := context.Background()
	srv := ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice"}, {Login: "bob"}},
		Repos: []ghemu.SeedRepo{{Name: "access", DefaultBranch: "trunk", Files: map[string]string{"README.md": "access\n"}}},
		App:   &ghemu.SeedApp{ID: 77, Slug: "jit"},
	})
	c, err := userapi.New(srv.APIURL, srv.Token("alice"), "acme", "access")
	if err != nil {
		t.Fatal(err)
	}
	if login, err := c.Login(ctx); err != nil || login != "alice" {
		t.Errorf("Login = %q, %v", login, err)
	}
	if b, err := c.DefaultBranch(ctx); err != nil || b != "trunk" {
		t.Errorf("DefaultBranch = %q, %v", b, err)
	}
	if _, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "feature", Author: "alice", Message: "x", Files: map[string]string{"a.txt": "a\n"}}); err != nil {
		t.Fatal(err)
	}
	pr, err := c.OpenPullRequest(ctx, "feature", "trunk", "a title", "a body")
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.PullRequests("access"); len(got) != 1 || got[0].Author != "alice" || got[0].Title != "a title" || pr.Number != got[0].Number ||
		pr.URL != srv.URL+"/acme/access/pull/1" {
		t.Errorf("opened %+v; emulator has %+v", pr, got)
	}
	if _, err := c.OpenPullRequest(ctx, "nosuch", "trunk", "t", "b"); err == nil {
		t.Errorf("a pull request from a missing branch was opened")
	}

	bot, err := srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*github.Client{srv.Client("bob"), bot} {
		if _, _, err := cl.Issues.CreateComment(ctx, "acme", "access", 1, &github.IssueComment{Body: github.String("hello")}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := c.Comments(ctx, 1)
	if err != nil || len(cs) != 2 || cs[0].Author != "bob" || cs[0].Bot || cs[1].Author != "jit[bot]" || !cs[1].Bot || cs[1].Body != "hello" {
		t.Errorf("Comments = %+v, %v", cs, err)
	}
	if _, _, err := srv.Client("bob").PullRequests.CreateReview(ctx, "acme", "access", 1, &github.PullRequestReviewRequest{Event: github.String("APPROVE")}); err != nil {
		t.Fatal(err)
	}
	rs, err := c.Reviews(ctx, 1)
	if err != nil || len(rs) != 1 || rs[0].Author != "bob" || rs[0].State != "APPROVED" || rs[0].Commit == "" {
		t.Errorf("Reviews = %+v, %v", rs, err)
	}

	bad, _ := userapi.New(srv.APIURL, "not-a-token", "acme", "access")
	if _, err := bad.Login(ctx); err == nil {
		t.Errorf("a bad token was accepted")
	}
	if _, err := userapi.New("ftp://x", "t", "a", "b"); err == nil {
		t.Errorf("an ftp API URL was accepted")
	}
	if _, err := userapi.New(srv.APIURL, "", "a", "b"); err != userapi.ErrNoToken {
		t.Errorf("no token: %v", err)
	}
}
