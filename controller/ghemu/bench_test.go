package ghemu_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// BenchmarkAPIRoundTrip is a typical read through go-github on loopback:
// GET a pull request (which also checks mergeability with git).
func BenchmarkAPIRoundTrip(b *testing.B) {
	requireGit(b)
	ctx := context.Background()
	srv := ghemutest.NewServer(b, testSeed(""))
	alice := srv.Client("alice")
	pushBranch(b, srv, "alice", "access", "bench", map[string]string{"access/b.yaml": "b\n"})
	pr, _, err := alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("b"), Head: github.String("bench"), Base: github.String("main")})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("GetRepository", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := alice.Repositories.Get(ctx, "acme", "access"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetPullRequest", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := alice.PullRequests.Get(ctx, "acme", "access", pr.GetNumber()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMerge opens a pull request and merges it with a message carrying
// trailers: the git work (merge-tree, commit-tree, update-ref) and the
// webhook payloads included. Preparing the branch is not timed.
func BenchmarkMerge(b *testing.B) {
	requireGit(b)
	ctx := context.Background()
	srv := ghemutest.NewServer(b, testSeed(""))
	alice, bob := srv.Client("alice"), srv.Client("bob")
	ref, _, err := alice.Git.GetRef(ctx, "acme", "access", "heads/main")
	if err != nil {
		b.Fatal(err)
	}
	base := ref.GetObject().GetSHA()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		br := "b" + strconv.Itoa(i)
		if _, _, err := alice.Git.CreateRef(ctx, "acme", "access", &github.Reference{Ref: github.String("refs/heads/" + br), Object: &github.GitObject{SHA: github.String(base)}}); err != nil {
			b.Fatal(err)
		}
		fc, _, err := alice.Repositories.CreateFile(ctx, "acme", "access", "access/"+br+".yaml",
			&github.RepositoryContentFileOptions{Message: github.String(br), Content: []byte(br + "\n"), Branch: github.String(br)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		pr, _, err := alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String(br), Head: github.String(br), Base: github.String("main")})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := bob.PullRequests.Merge(ctx, "acme", "access", pr.GetNumber(), "Jit-Grant: "+br+"\n",
			&github.PullRequestOptions{SHA: fc.GetSHA(), CommitTitle: br}); err != nil {
			b.Fatal(err)
		}
	}
}
