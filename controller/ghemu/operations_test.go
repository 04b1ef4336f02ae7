package ghemu_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// status returns the HTTP status of a go-github call's response (0 if none).
func status(resp *github.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func must[T any](t *testing.T, what string) func(v T, resp *github.Response, err error) T {
	return func(v T, resp *github.Response, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// wantErr checks a go-github error's status and that its text contains msg.
func wantErr(t *testing.T, what string, resp *github.Response, err error, code int, msg string) {
	t.Helper()
	if err == nil || status(resp) != code || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: status %d, err %v; want %d containing %q", what, status(resp), err, code, msg)
	}
}

// TestEveryOperation calls every emulated operation through go-github with
// GitHub's OpenAPI description validating each answer, checks what each does,
// and finally checks that every documented operation was exercised.
func TestEveryOperation(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	app, _ := srv.App()
	alice, bob, carol := client(t, srv, "alice"), client(t, srv, "bob"), client(t, srv, "carol")
	// GitHub answers statuses its description does not document for some
	// operations (403 on check runs for users, 422 on statuses, 409 on
	// contents, whose documented 409 schema is an ambiguous oneOf) and
	// serves contents/ for the root; those calls go through unvalidated
	// clients.
	rawAlice := srv.Client("alice")

	atr, err := ghinstallation.NewAppsTransport(contractTransport(t), app.ID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = strings.TrimSuffix(srv.APIURL, "/")
	appc := github.NewClient(&http.Client{Transport: atr})
	appc.BaseURL, _ = url.Parse(srv.APIURL)
	if a := must[*github.App](t, "get app")(appc.Apps.Get(ctx, "")); a.GetSlug() != "jit" {
		t.Errorf("app slug = %s", a.GetSlug())
	}
	must[*github.Installation](t, "repo installation")(appc.Apps.FindRepositoryInstallation(ctx, "acme", "access"))
	inst := must[*github.Installation](t, "get installation")(appc.Apps.GetInstallation(ctx, app.InstallationID))
	if inst.GetAppID() != app.ID || inst.GetAccount().GetLogin() != "acme" {
		t.Errorf("installation app %d account %s", inst.GetAppID(), inst.GetAccount().GetLogin())
	}
	tok := must[*github.InstallationToken](t, "token")(appc.Apps.CreateInstallationToken(ctx, app.InstallationID,
		&github.InstallationTokenOptions{Repositories: []string{"access"}}))
	if len(tok.Repositories) != 1 || tok.GetExpiresAt().IsZero() {
		t.Errorf("token repositories %d expires %v", len(tok.Repositories), tok.GetExpiresAt())
	}
	_, resp, err := appc.Apps.CreateInstallationToken(ctx, app.InstallationID,
		&github.InstallationTokenOptions{Repositories: []string{"nope"}})
	wantErr(t, "token for unknown repo", resp, err, 422, "not accessible to the parent installation")
	bot := tokenClient(t, srv, tok.GetToken())

	// users and teams
	u := must[*github.User](t, "get user")(alice.Users.Get(ctx, "alice"))
	if u.GetName() != "Alice Liddell" || u.GetType() != "User" {
		t.Errorf("user = %s %s", u.GetName(), u.GetType())
	}
	// GET /user (users/get-authenticated) is not in the contract subset, so
	// it goes through the unvalidated client; user_test.go checks it.
	if me := must[*github.User](t, "authenticated user")(rawAlice.Users.Get(ctx, "")); me.GetLogin() != "alice" || me.GetName() != "Alice Liddell" {
		t.Errorf("authenticated user = %s %s", me.GetLogin(), me.GetName())
	}
	keys := must[[]*github.Key](t, "keys")(bob.Users.ListKeys(ctx, "alice", nil))
	if len(keys) != 1 || !strings.HasPrefix(keys[0].GetKey(), "ssh-ed25519 ") {
		t.Errorf("keys = %v", keys)
	}
	team := must[*github.Team](t, "team")(bot.Teams.GetTeamBySlug(ctx, "acme", "db-owners"))
	if team.GetMembersCount() != 2 || team.GetSlug() != "db-owners" {
		t.Errorf("team = %d members, slug %s", team.GetMembersCount(), team.GetSlug())
	}
	members := must[[]*github.User](t, "members")(bot.Teams.ListTeamMembersBySlug(ctx, "acme", "db-owners", nil))
	if len(members) != 2 {
		t.Errorf("members = %d, want 2", len(members))
	}
	m := must[*github.Membership](t, "membership")(bot.Teams.GetTeamMembershipBySlug(ctx, "acme", "db-owners", "carol"))
	if m.GetRole() != "maintainer" || m.GetState() != "active" {
		t.Errorf("membership = %s %s", m.GetRole(), m.GetState())
	}
	_, resp, err = bot.Teams.GetTeamMembershipBySlug(ctx, "acme", "db-owners", "alice")
	wantErr(t, "non-member", resp, err, 404, "Not Found")
	// Team membership changes: carol maintains db-owners, bob only belongs.
	_, resp, err = bob.Teams.AddTeamMembershipBySlug(ctx, "acme", "db-owners", "alice", &github.TeamAddTeamMembershipOptions{Role: "member"})
	wantErr(t, "member adds to team", resp, err, 403, "team maintainer")
	_, resp, err = bot.Teams.AddTeamMembershipBySlug(ctx, "acme", "db-owners", "alice", nil)
	wantErr(t, "App without members: write adds to team", resp, err, 403, "Resource not accessible by integration")
	added := must[*github.Membership](t, "add membership")(carol.Teams.AddTeamMembershipBySlug(ctx, "acme", "db-owners", "alice", &github.TeamAddTeamMembershipOptions{Role: "maintainer"}))
	if added.GetRole() != "maintainer" || added.GetState() != "active" {
		t.Errorf("added membership = %+v", added)
	}
	if _, err := carol.Teams.RemoveTeamMembershipBySlug(ctx, "acme", "db-owners", "bob"); err != nil {
		t.Fatalf("remove bob: %v", err)
	}
	_, resp, err = bot.Teams.GetTeamMembershipBySlug(ctx, "acme", "db-owners", "bob")
	wantErr(t, "removed member", resp, err, 404, "Not Found")
	teamNow := must[[]*github.User](t, "members after")(bot.Teams.ListTeamMembersBySlug(ctx, "acme", "db-owners", nil))
	var logins []string
	for _, u := range teamNow {
		logins = append(logins, u.GetLogin())
	}
	if strings.Join(logins, " ") != "alice carol" {
		t.Errorf("members after the changes = %v, want [alice carol]", logins)
	}
	// Back as the seed had it, for the rest of the walk.
	must[*github.Membership](t, "re-add bob")(carol.Teams.AddTeamMembershipBySlug(ctx, "acme", "db-owners", "bob", nil))
	if _, err := carol.Teams.RemoveTeamMembershipBySlug(ctx, "acme", "db-owners", "alice"); err != nil {
		t.Fatalf("remove alice: %v", err)
	}

	// Repository permissions: carol reads, alice writes, the org owns.
	for login, want := range map[string]string{"alice": "write", "carol": "read"} {
		p := must[*github.RepositoryPermissionLevel](t, "permission "+login)(bot.Repositories.GetPermissionLevel(ctx, "acme", "access", login))
		if p.GetPermission() != want || p.GetUser().GetLogin() != login {
			t.Errorf("permission of %s = %s for %s, want %s", login, p.GetPermission(), p.GetUser().GetLogin(), want)
		}
	}
	_, resp, err = bot.Repositories.GetPermissionLevel(ctx, "acme", "access", "nobody")
	wantErr(t, "permission of unknown user", resp, err, 404, "Not Found")

	// repos
	r := must[*github.Repository](t, "repo")(alice.Repositories.Get(ctx, "acme", "access"))
	if r.GetDefaultBranch() != "main" || !r.GetPrivate() || !r.GetPermissions()["push"] {
		t.Errorf("repo = %s private %v perms %v", r.GetDefaultBranch(), r.GetPrivate(), r.GetPermissions())
	}
	_, resp, err = client(t, srv, "").Repositories.Get(ctx, "acme", "access")
	wantErr(t, "anonymous on private repo", resp, err, 404, "Not Found")
	br := must[*github.Branch](t, "branch")(alice.Repositories.GetBranch(ctx, "acme", "access", "main", 0))
	if !br.GetProtected() || br.GetCommit().GetSHA() == "" {
		t.Errorf("branch = protected %v sha %s", br.GetProtected(), br.GetCommit().GetSHA())
	}
	prot := must[*github.Protection](t, "protection")(alice.Repositories.GetBranchProtection(ctx, "acme", "access", "main"))
	if !prot.GetRequiredPullRequestReviews().DismissStaleReviews {
		t.Errorf("protection dismiss_stale_reviews = false")
	}
	must[*github.PullRequestReviewsEnforcement](t, "review protection")(alice.Repositories.GetPullRequestReviewEnforcement(ctx, "acme", "access", "main"))
	rules := must[[]*github.RepositoryRule](t, "rules")(alice.Repositories.GetRulesForBranch(ctx, "acme", "access", "main"))
	if len(rules) != 0 {
		t.Errorf("rules = %v, want none (classic protection only)", rules)
	}
	coErrs := must[*github.CodeownersErrors](t, "codeowners errors")(alice.Repositories.GetCodeownersErrors(ctx, "acme", "access", nil))
	if len(coErrs.Errors) != 0 {
		t.Errorf("codeowners errors on a valid file: %+v", coErrs.Errors)
	}

	// git refs
	main0 := must[*github.Reference](t, "get ref")(alice.Git.GetRef(ctx, "acme", "access", "heads/main")).GetObject().GetSHA()
	must[*github.Reference](t, "create ref")(alice.Git.CreateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: github.String(main0)}}))
	_, resp, err = alice.Git.CreateRef(ctx, "acme", "access", &github.Reference{Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: github.String(main0)}})
	wantErr(t, "create existing ref", resp, err, 422, "Reference already exists")
	_, resp, err = alice.Git.CreateRef(ctx, "acme", "access", &github.Reference{Ref: github.String("feature2"), Object: &github.GitObject{SHA: github.String(main0)}})
	wantErr(t, "create bad ref", resp, err, 422, "Reference name must start with 'refs'")
	_, resp, err = alice.Git.GetRef(ctx, "acme", "access", "heads/missing")
	wantErr(t, "missing ref", resp, err, 404, "Not Found")

	// contents (on the feature branch)
	_, resp, err = alice.Repositories.CreateFile(ctx, "acme", "access", "access/a.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("add a"), Content: []byte("a: 1\n"), Branch: github.String("nope")})
	wantErr(t, "create on missing branch", resp, err, 404, "Branch nope not found")
	created := must[*github.RepositoryContentResponse](t, "create file")(alice.Repositories.CreateFile(ctx, "acme", "access", "access/a.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("add a"), Content: []byte("a: 1\n"), Branch: github.String("feature")}))
	_, resp, err = alice.Repositories.UpdateFile(ctx, "acme", "access", "access/a.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("edit a"), Content: []byte("a: 2\n"), Branch: github.String("feature")})
	wantErr(t, "update without sha", resp, err, 422, `"sha" wasn't supplied`)
	_, resp, err = rawAlice.Repositories.UpdateFile(ctx, "acme", "access", "access/a.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("edit a"), Content: []byte("a: 2\n"), Branch: github.String("feature"), SHA: github.String(main0)})
	wantErr(t, "update with stale sha", resp, err, 409, "does not match")
	must[*github.RepositoryContentResponse](t, "update file")(alice.Repositories.UpdateFile(ctx, "acme", "access", "access/a.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("edit a"), Content: []byte("a: 2\n"), Branch: github.String("feature"), SHA: created.Content.SHA}))
	fc, dc, _, err := alice.Repositories.GetContents(ctx, "acme", "access", "access/a.yaml", &github.RepositoryContentGetOptions{Ref: "feature"})
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := fc.GetContent(); text != "a: 2\n" || dc != nil {
		t.Errorf("file content = %q", text)
	}
	_, dc, _, err = alice.Repositories.GetContents(ctx, "acme", "access", "access", &github.RepositoryContentGetOptions{Ref: "feature"})
	if err != nil || len(dc) != 1 || dc[0].GetName() != "a.yaml" {
		t.Errorf("dir listing = %v, %v", dc, err)
	}
	_, dc, _, err = rawAlice.Repositories.GetContents(ctx, "acme", "access", "", nil)
	if err != nil || len(dc) != 2 {
		t.Errorf("root listing on main = %d entries, %v", len(dc), err)
	}
	b := must[*github.RepositoryContentResponse](t, "create b")(alice.Repositories.CreateFile(ctx, "acme", "access", "access/b.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("add b"), Content: []byte("b\n"), Branch: github.String("feature")}))
	must[*github.RepositoryContentResponse](t, "delete b")(alice.Repositories.DeleteFile(ctx, "acme", "access", "access/b.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("rm b"), SHA: b.Content.SHA, Branch: github.String("feature")}))
	_, _, resp, err = alice.Repositories.GetContents(ctx, "acme", "access", "access/b.yaml", &github.RepositoryContentGetOptions{Ref: "feature"})
	wantErr(t, "deleted file", resp, err, 404, "Not Found")

	// git data
	blob := must[*github.Blob](t, "create blob")(alice.Git.CreateBlob(ctx, "acme", "access", &github.Blob{Content: github.String("c: 3\n"), Encoding: github.String("utf-8")}))
	gb := must[*github.Blob](t, "get blob")(alice.Git.GetBlob(ctx, "acme", "access", blob.GetSHA()))
	if raw, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(gb.GetContent(), "\n", "")); string(raw) != "c: 3\n" {
		t.Errorf("blob = %q", raw)
	}
	featRef := must[*github.Reference](t, "feature ref")(alice.Git.GetRef(ctx, "acme", "access", "heads/feature"))
	featCommit := must[*github.Commit](t, "git commit")(alice.Git.GetCommit(ctx, "acme", "access", featRef.GetObject().GetSHA()))
	tree := must[*github.Tree](t, "create tree")(alice.Git.CreateTree(ctx, "acme", "access", featCommit.GetTree().GetSHA(),
		[]*github.TreeEntry{{Path: github.String("access/c.yaml"), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA}}))
	full := must[*github.Tree](t, "get tree")(alice.Git.GetTree(ctx, "acme", "access", tree.GetSHA(), true))
	var paths []string
	for _, e := range full.Entries {
		if e.GetType() == "blob" {
			paths = append(paths, e.GetPath())
		}
	}
	sort.Strings(paths)
	if strings.Join(paths, " ") != ".github/CODEOWNERS README.md access/a.yaml access/c.yaml" {
		t.Errorf("tree paths = %v", paths)
	}
	nc := must[*github.Commit](t, "create commit")(alice.Git.CreateCommit(ctx, "acme", "access", &github.Commit{
		Message: github.String("add c\n\nJit-Grant: c\n"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: featCommit.SHA}}}, nil))
	if nc.GetMessage() != "add c\n\nJit-Grant: c\n" || nc.GetAuthor().GetEmail() != "alice@example.com" {
		t.Errorf("created commit message %q author %q", nc.GetMessage(), nc.GetAuthor().GetEmail())
	}
	must[*github.Reference](t, "fast-forward ref")(alice.Git.UpdateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: nc.SHA}}, false))
	must[*github.Reference](t, "create tmp ref")(alice.Git.CreateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/tmp"), Object: &github.GitObject{SHA: github.String(main0)}}))
	refs := must[[]*github.Reference](t, "matching refs")(alice.Git.ListMatchingRefs(ctx, "acme", "access", &github.ReferenceListOptions{Ref: "heads/"}))
	if len(refs) != 3 {
		t.Errorf("matching refs = %d, want 3", len(refs))
	}
	if _, err := alice.Git.DeleteRef(ctx, "acme", "access", "heads/tmp"); err != nil {
		t.Errorf("delete ref: %v", err)
	}
	resp, err = alice.Git.DeleteRef(ctx, "acme", "access", "heads/tmp")
	wantErr(t, "delete missing ref", resp, err, 422, "Reference does not exist")

	// commits
	commits := must[[]*github.RepositoryCommit](t, "list commits")(alice.Repositories.ListCommits(ctx, "acme", "access", &github.CommitsListOptions{SHA: "feature"}))
	if len(commits) != 6 || commits[0].GetSHA() != nc.GetSHA() {
		t.Errorf("commits on feature = %d, head %s; want 6, %s", len(commits), commits[0].GetSHA(), nc.GetSHA())
	}
	onlyA := must[[]*github.RepositoryCommit](t, "list commits by path")(alice.Repositories.ListCommits(ctx, "acme", "access", &github.CommitsListOptions{SHA: "feature", Path: "access/a.yaml"}))
	if len(onlyA) != 2 {
		t.Errorf("commits touching access/a.yaml = %d, want 2", len(onlyA))
	}
	one := must[*github.RepositoryCommit](t, "get commit")(alice.Repositories.GetCommit(ctx, "acme", "access", nc.GetSHA(), nil))
	if len(one.Files) != 1 || one.Files[0].GetFilename() != "access/c.yaml" || one.Files[0].GetStatus() != "added" {
		t.Errorf("commit files = %v", one.Files)
	}
	cmp := must[*github.CommitsComparison](t, "compare")(alice.Repositories.CompareCommits(ctx, "acme", "access", "main", "feature", nil))
	if cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 5 || len(cmp.Files) != 2 {
		t.Errorf("compare = %s ahead %d files %d", cmp.GetStatus(), cmp.GetAheadBy(), len(cmp.Files))
	}

	// pull requests
	pr := must[*github.PullRequest](t, "create PR")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("feature"), Head: github.String("acme:feature"), Base: github.String("main")}))
	_, resp, err = alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("again"), Head: github.String("feature"), Base: github.String("main")})
	wantErr(t, "duplicate PR", resp, err, 422, "A pull request already exists for acme:feature.")
	_, resp, err = alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("none"), Head: github.String("main"), Base: github.String("main")})
	wantErr(t, "empty PR", resp, err, 422, "No commits between main and main")
	n := pr.GetNumber()
	list := must[[]*github.PullRequest](t, "list PRs")(bob.PullRequests.List(ctx, "acme", "access", &github.PullRequestListOptions{Head: "acme:feature"}))
	if len(list) != 1 || list[0].GetNumber() != n {
		t.Errorf("list by head = %d PRs", len(list))
	}
	if none := must[[]*github.PullRequest](t, "list closed")(bob.PullRequests.List(ctx, "acme", "access", &github.PullRequestListOptions{State: "closed"})); len(none) != 0 {
		t.Errorf("closed PRs = %d, want 0", len(none))
	}
	edited := must[*github.PullRequest](t, "edit PR")(alice.PullRequests.Edit(ctx, "acme", "access", n, &github.PullRequest{Title: github.String("Feature: a and c")}))
	if edited.GetTitle() != "Feature: a and c" || edited.GetCommits() != 5 || edited.GetChangedFiles() != 2 {
		t.Errorf("edited PR title %q commits %d files %d", edited.GetTitle(), edited.GetCommits(), edited.GetChangedFiles())
	}
	prCommits := must[[]*github.RepositoryCommit](t, "PR commits")(bob.PullRequests.ListCommits(ctx, "acme", "access", n, nil))
	if len(prCommits) != 5 || prCommits[4].GetSHA() != nc.GetSHA() {
		t.Errorf("PR commits = %d, last %s; want 5 oldest first", len(prCommits), prCommits[len(prCommits)-1].GetSHA())
	}
	files := must[[]*github.CommitFile](t, "PR files")(bob.PullRequests.ListFiles(ctx, "acme", "access", n, nil))
	if len(files) != 2 || files[0].GetFilename() != "access/a.yaml" || files[0].GetAdditions() != 1 {
		t.Errorf("PR files = %v", files)
	} else if files[0].GetPatch() != "@@ -0,0 +1 @@\n+a: 2" || files[1].GetPatch() != "@@ -0,0 +1 @@\n+c: 3" {
		t.Errorf("patches = %q, %q", files[0].GetPatch(), files[1].GetPatch())
	}

	// reviews
	pending := must[*github.PullRequestReview](t, "pending review")(carol.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Body: github.String("looking")}))
	if pending.GetState() != "PENDING" || pending.SubmittedAt != nil {
		t.Errorf("pending review = %s submitted %v", pending.GetState(), pending.SubmittedAt)
	}
	if rs := must[[]*github.PullRequestReview](t, "reviews as bob")(bob.PullRequests.ListReviews(ctx, "acme", "access", n, nil)); len(rs) != 0 {
		t.Errorf("bob sees %d reviews, want 0 (carol's is pending)", len(rs))
	}
	sub := must[*github.PullRequestReview](t, "submit review")(carol.PullRequests.SubmitReview(ctx, "acme", "access", n, pending.GetID(), &github.PullRequestReviewRequest{Event: github.String("COMMENT")}))
	if sub.GetState() != "COMMENTED" || sub.GetBody() != "looking" {
		t.Errorf("submitted = %s %q", sub.GetState(), sub.GetBody())
	}
	_, resp, err = bob.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Event: github.String("REQUEST_CHANGES")})
	wantErr(t, "request changes without body", resp, err, 422, "Body is required")
	appr := must[*github.PullRequestReview](t, "approve")(bob.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	rs := must[[]*github.PullRequestReview](t, "reviews")(alice.PullRequests.ListReviews(ctx, "acme", "access", n, nil))
	if len(rs) != 2 || rs[0].GetUser().GetLogin() != "carol" || rs[1].GetState() != "APPROVED" {
		t.Errorf("reviews = %d", len(rs))
	}
	if g := must[*github.PullRequestReview](t, "get review")(alice.PullRequests.GetReview(ctx, "acme", "access", n, appr.GetID())); g.GetUser().GetLogin() != "bob" {
		t.Errorf("get review user = %s", g.GetUser().GetLogin())
	}
	_, resp, err = alice.PullRequests.DismissReview(ctx, "acme", "access", n, sub.GetID(), &github.PullRequestReviewDismissalRequest{Message: github.String("no")})
	wantErr(t, "dismiss a comment", resp, err, 422, "Can not dismiss a commented pull request review")
	dis := must[*github.PullRequestReview](t, "dismiss")(alice.PullRequests.DismissReview(ctx, "acme", "access", n, appr.GetID(), &github.PullRequestReviewDismissalRequest{Message: github.String("stale")}))
	if dis.GetState() != "DISMISSED" {
		t.Errorf("dismissed state = %s", dis.GetState())
	}
	appr = must[*github.PullRequestReview](t, "approve again")(bob.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))

	// check runs
	_, resp, err = rawAlice.Checks.CreateCheckRun(ctx, "acme", "access", github.CreateCheckRunOptions{Name: "jit/validate", HeadSHA: nc.GetSHA()})
	wantErr(t, "check run by a user", resp, err, 403, "You must authenticate via a GitHub App.")
	cr := must[*github.CheckRun](t, "create check run")(bot.Checks.CreateCheckRun(ctx, "acme", "access", github.CreateCheckRunOptions{
		Name: "jit/validate", HeadSHA: nc.GetSHA(), Status: github.String("in_progress")}))
	if len(cr.PullRequests) != 1 || cr.GetApp().GetID() != app.ID {
		t.Errorf("check run PRs %d app %d", len(cr.PullRequests), cr.GetApp().GetID())
	}
	done := must[*github.CheckRun](t, "complete check run")(bot.Checks.UpdateCheckRun(ctx, "acme", "access", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "jit/validate", Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("valid"), Summary: github.String("1 grant")}}))
	if done.GetStatus() != "completed" || done.CompletedAt == nil {
		t.Errorf("completed check = %s at %v", done.GetStatus(), done.CompletedAt)
	}
	must[*github.CheckRun](t, "get check run")(bot.Checks.GetCheckRun(ctx, "acme", "access", cr.GetID()))
	if _, err := bot.Checks.ReRequestCheckRun(ctx, "acme", "access", cr.GetID()); err != nil {
		t.Errorf("rerequest check run: %v", err)
	}
	if _, err := bot.Checks.ReRequestCheckSuite(ctx, "acme", "access", cr.GetCheckSuite().GetID()); err != nil {
		t.Errorf("rerequest check suite: %v", err)
	}
	runs := must[*github.ListCheckRunsResults](t, "list check runs")(bot.Checks.ListCheckRunsForRef(ctx, "acme", "access", "feature", nil))
	if runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "success" {
		t.Errorf("check runs = %d", runs.GetTotal())
	}

	// statuses
	must[*github.RepoStatus](t, "pending status")(bot.Repositories.CreateStatus(ctx, "acme", "access", nc.GetSHA(), &github.RepoStatus{State: github.String("pending"), Context: github.String("jit/approval")}))
	if cs := must[*github.CombinedStatus](t, "combined")(bot.Repositories.GetCombinedStatus(ctx, "acme", "access", "feature", nil)); cs.GetState() != "pending" {
		t.Errorf("combined = %s, want pending", cs.GetState())
	}
	must[*github.RepoStatus](t, "success status")(bot.Repositories.CreateStatus(ctx, "acme", "access", nc.GetSHA(), &github.RepoStatus{State: github.String("success"), Context: github.String("jit/approval")}))
	if cs := must[*github.CombinedStatus](t, "combined")(bot.Repositories.GetCombinedStatus(ctx, "acme", "access", nc.GetSHA(), nil)); cs.GetState() != "success" || cs.GetTotalCount() != 1 {
		t.Errorf("combined = %s (%d), want success (1)", cs.GetState(), cs.GetTotalCount())
	}
	sts := must[[]*github.RepoStatus](t, "statuses")(bot.Repositories.ListStatuses(ctx, "acme", "access", nc.GetSHA(), nil))
	if len(sts) != 2 || sts[0].GetState() != "success" {
		t.Errorf("statuses = %d, newest %s", len(sts), sts[0].GetState())
	}
	_, resp, err = srv.Client("bob").Repositories.CreateStatus(ctx, "acme", "access", nc.GetSHA(), &github.RepoStatus{State: github.String("great")})
	wantErr(t, "bad status state", resp, err, 422, "Validation Failed")

	// comments and labels
	cm := must[*github.IssueComment](t, "comment")(bot.Issues.CreateComment(ctx, "acme", "access", n, &github.IssueComment{Body: github.String("sticky")}))
	must[*github.IssueComment](t, "edit comment")(bot.Issues.EditComment(ctx, "acme", "access", cm.GetID(), &github.IssueComment{Body: github.String("sticky v2")}))
	cms := must[[]*github.IssueComment](t, "comments")(alice.Issues.ListComments(ctx, "acme", "access", n, nil))
	if len(cms) != 1 || cms[0].GetBody() != "sticky v2" || cms[0].GetUser().GetLogin() != "jit[bot]" {
		t.Errorf("comments = %v", cms)
	}
	must[[]*github.Label](t, "add labels")(bot.Issues.AddLabelsToIssue(ctx, "acme", "access", n, []string{"grant"}))
	must[[]*github.Label](t, "set labels")(bot.Issues.ReplaceLabelsForIssue(ctx, "acme", "access", n, []string{"a", "b"}))
	if _, err := bot.Issues.RemoveLabelForIssue(ctx, "acme", "access", n, "a"); err != nil {
		t.Errorf("remove label: %v", err)
	}
	labels := must[[]*github.Label](t, "labels")(alice.Issues.ListLabelsByIssue(ctx, "acme", "access", n, nil))
	if len(labels) != 1 || labels[0].GetName() != "b" {
		t.Errorf("labels = %v", labels)
	}

	// update-branch after main moved; the approval goes stale and is dismissed
	// (main is protected: the contents API is refused there, so the commit
	// lands as a merged change would)
	if _, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "main", Author: "bob", Message: "notes", Files: map[string]string{"NOTES.md": "n\n"}}); err != nil {
		t.Fatal(err)
	}
	_, resp, err = alice.PullRequests.UpdateBranch(ctx, "acme", "access", n, &github.PullRequestBranchUpdateOptions{ExpectedHeadSHA: github.String(main0)})
	wantErr(t, "update-branch with stale expected sha", resp, err, 422, "expected head sha")
	_, _, err = alice.PullRequests.UpdateBranch(ctx, "acme", "access", n, &github.PullRequestBranchUpdateOptions{ExpectedHeadSHA: nc.SHA})
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) {
		t.Errorf("update-branch: %v, want 202 (go-github's AcceptedError)", err)
	}
	after := must[*github.PullRequest](t, "PR after update")(alice.PullRequests.Get(ctx, "acme", "access", n))
	if after.GetHead().GetSHA() == nc.GetSHA() {
		t.Errorf("head did not move after update-branch")
	}
	if g := must[*github.PullRequestReview](t, "stale review")(alice.PullRequests.GetReview(ctx, "acme", "access", n, appr.GetID())); g.GetState() != "DISMISSED" {
		t.Errorf("approval after update-branch = %s, want DISMISSED (dismiss_stale_reviews)", g.GetState())
	}

	// squash merge by the App
	res := must[*github.PullRequestMergeResult](t, "squash merge")(bot.PullRequests.Merge(ctx, "acme", "access", n, "", &github.PullRequestOptions{MergeMethod: "squash", SHA: after.GetHead().GetSHA()}))
	sq := must[*github.Commit](t, "squash commit")(bot.Git.GetCommit(ctx, "acme", "access", res.GetSHA()))
	if len(sq.Parents) != 1 || !strings.HasPrefix(sq.GetMessage(), "Feature: a and c (#1)\n\n* ") {
		t.Errorf("squash commit parents %d message %q", len(sq.Parents), sq.GetMessage())
	}
	if ok := must[bool](t, "is merged")(bot.PullRequests.IsMerged(ctx, "acme", "access", n)); !ok {
		t.Errorf("IsMerged = false")
	}
	_, resp, err = bot.PullRequests.Merge(ctx, "acme", "access", n, "", nil)
	wantErr(t, "merge twice", resp, err, 405, "Pull Request is not mergeable")

	// Every documented operation was exercised.
	hit := map[string]bool{}
	for _, r := range srv.Requests() {
		hit[r.Route] = true
	}
	var missing []string
	for _, route := range ghemu.Routes() {
		if !hit[route] {
			missing = append(missing, route)
		}
	}
	if len(missing) > 0 {
		t.Errorf("operations not exercised: %v", missing)
	}
}
