package ghemu_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// protectionSeed has a write user (alice), a user who may bypass pull
// requests on main through a team (bob), an admin (erin) and three
// protected branches: main (required check "ci", admins exempt), release
// (the App may bypass, force pushes and deletions allowed) and locked
// (admins included).
func protectionSeed() ghemu.Seed {
	return ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice"}, {Login: "bob"}, {Login: "erin"}},
		Teams: []ghemu.SeedTeam{{Slug: "releasers", Members: []string{"bob"}}},
		Repos: []ghemu.SeedRepo{{
			Name:   "access",
			Files:  map[string]string{"README.md": "# access\n"},
			Admins: []string{"erin"},
			Protection: map[string]ghemu.SeedProtection{
				"main": {RequiredStatusChecks: []string{"ci"},
					BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Teams: []string{"releasers"}}},
				"release": {AllowForcePushes: true, AllowDeletions: true,
					BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Apps: []string{"jit"}}},
				"locked": {EnforceAdmins: true},
			},
		}},
		App: &ghemu.SeedApp{ID: 42, Slug: "jit", InstallationID: 7},
	}
}

// tryGit runs git in dir and returns its combined output and error.
func tryGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// branchTip is the sha of branch on the server ("" when it does not exist).
func branchTip(t *testing.T, srv *ghemu.Server, branch string) string {
	t.Helper()
	ref, resp, err := srv.Client("alice").Git.GetRef(context.Background(), "acme", "access", "heads/"+branch)
	if status(resp) == 404 {
		return ""
	}
	if err != nil {
		t.Fatalf("ref %s: %v", branch, err)
	}
	return ref.GetObject().GetSHA()
}

// TestPushToProtectedBranch pushes with real git through smart HTTP and
// checks who may fast-forward, force-push and delete protected branches;
// every refused push fails with GitHub's GH006 message and leaves the
// branch where it was.
func TestPushToProtectedBranch(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	srv := ghemutest.NewServer(t, protectionSeed())
	app, _ := srv.App()
	tok := must[*github.InstallationToken](t, "token")(appClient(t, srv, app).Apps.CreateInstallationToken(ctx, app.InstallationID, nil))
	main := branchTip(t, srv, "main")
	// Creating a protected branch is allowed (block_creations is off).
	for _, b := range []string{"release", "locked"} {
		must[*github.Reference](t, "create "+b)(client(t, srv, "alice").Git.CreateRef(ctx, "acme", "access",
			&github.Reference{Ref: github.String("refs/heads/" + b), Object: &github.GitObject{SHA: github.String(main)}}))
	}

	clone := func(t *testing.T, user, token string) string {
		dir := filepath.Join(t.TempDir(), "c")
		git(t, "", "clone", "--quiet", cloneURL(srv, user, token, "acme", "access"), dir)
		return dir
	}
	// commitOn makes a commit on top of base (fast-forward) or beside it
	// (orphan, so a force push).
	commitOn := func(t *testing.T, dir, base string, force bool) string {
		if force {
			git(t, dir, "checkout", "--quiet", "--orphan", "o"+base[:7])
		} else {
			git(t, dir, "checkout", "--quiet", "--detach", base)
		}
		git(t, dir, "commit", "--quiet", "--allow-empty", "-m", "change")
		return git(t, dir, "rev-parse", "HEAD")
	}

	for _, tc := range []struct {
		name, user string
		app        bool
		branch     string
		force      bool
		delete     bool
		// statusFirst pushes the commit to a side branch and sets "ci" to
		// success on it before pushing to the branch.
		statusFirst bool
		want        string // "" when the push must succeed
	}{
		{name: "write user", user: "alice", branch: "main", want: "Changes must be made through a pull request."},
		{name: "bypass team without the required check", user: "bob", branch: "main", want: `Required status check "ci" is expected.`},
		{name: "bypass team with the required check", user: "bob", branch: "main", statusFirst: true},
		{name: "bypass team force push", user: "bob", branch: "main", force: true, statusFirst: true, want: "Cannot force-push to this branch"},
		{name: "bypass team deletion", user: "bob", branch: "main", delete: true, want: "Cannot delete this protected branch"},
		{name: "admin without the required check", user: "erin", branch: "main"},
		{name: "admin force push", user: "erin", branch: "main", force: true, want: "Cannot force-push to this branch"},
		{name: "admin deletion", user: "erin", branch: "main", delete: true, want: "Cannot delete this protected branch"},
		{name: "admin with enforce_admins", user: "erin", branch: "locked", want: "Changes must be made through a pull request."},
		{name: "app not in the allowances", app: true, branch: "main", want: "Changes must be made through a pull request."},
		{name: "app in the allowances", app: true, branch: "release"},
		{name: "app force push where allowed", app: true, branch: "release", force: true},
		{name: "bypass user not listed for the branch", user: "bob", branch: "release", want: "Changes must be made through a pull request."},
		{name: "deletion where allowed", app: true, branch: "release", delete: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dir string
			if tc.app {
				dir = clone(t, "x-access-token", tok.GetToken())
			} else {
				dir = clone(t, tc.user, srv.Token(tc.user))
			}
			before := branchTip(t, srv, tc.branch)
			refspec := ":refs/heads/" + tc.branch
			want := ""
			if !tc.delete {
				want = commitOn(t, dir, before, tc.force)
				refspec = "HEAD" + refspec
				if tc.force {
					refspec = "+" + refspec
				}
			}
			if tc.statusFirst {
				git(t, dir, "push", "--quiet", "origin", "HEAD:refs/heads/side-"+want[:7])
				must[*github.RepoStatus](t, "status")(client(t, srv, tc.user).Repositories.CreateStatus(ctx, "acme", "access", want,
					&github.RepoStatus{State: github.String("success"), Context: github.String("ci")}))
			}
			out, err := tryGit(dir, "push", "origin", refspec)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("push: %v\n%s", err, out)
				}
				if got := branchTip(t, srv, tc.branch); got != want {
					t.Errorf("%s = %q after the push, want %q", tc.branch, got, want)
				}
				return
			}
			gh006 := "GH006: Protected branch update failed for refs/heads/" + tc.branch + "."
			if err == nil || !strings.Contains(out, gh006) || !strings.Contains(out, tc.want) {
				t.Errorf("push: err %v, output:\n%s\nwant a failure saying %q and %q", err, out, gh006, tc.want)
			}
			if got := branchTip(t, srv, tc.branch); got != before {
				t.Errorf("%s moved to %s on a refused push, want %s", tc.branch, got, before)
			}
		})
	}
}

// TestRefAPIOnProtectedBranch checks PATCH and DELETE of git/refs on
// protected branches: refused (422, branch unchanged) unless allowed.
func TestRefAPIOnProtectedBranch(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	srv := ghemutest.NewServer(t, protectionSeed())
	app, _ := srv.App()
	bot := installationClient(t, srv, app)
	alice, erin := client(t, srv, "alice"), client(t, srv, "erin")
	main := branchTip(t, srv, "main")
	must[*github.Reference](t, "create release")(alice.Git.CreateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/release"), Object: &github.GitObject{SHA: github.String(main)}}))
	next := pushBranch(t, srv, "alice", "access", "feature", map[string]string{"a": "a\n"})
	update := func(c *github.Client, branch, sha string, force bool) (*github.Response, error) {
		_, resp, err := c.Git.UpdateRef(ctx, "acme", "access", &github.Reference{Ref: github.String("refs/heads/" + branch),
			Object: &github.GitObject{SHA: github.String(sha)}}, force)
		return resp, err
	}

	del := func(c *github.Client, branch string) func() (*github.Response, error) {
		return func() (*github.Response, error) { return c.Git.DeleteRef(ctx, "acme", "access", "heads/"+branch) }
	}
	patch := func(c *github.Client, branch, sha string, force bool) func() (*github.Response, error) {
		return func() (*github.Response, error) { return update(c, branch, sha, force) }
	}
	// Steps run in order; want is the refusal ("" for success), tip where
	// the branch must be afterwards ("" for gone).
	for _, st := range []struct {
		what, branch string
		do           func() (*github.Response, error)
		want, tip    string
	}{
		{"write user PATCH main", "main", patch(alice, "main", next, false), "Changes must be made through a pull request.", main},
		{"write user DELETE main", "main", del(alice, "main"), "Cannot delete this protected branch", main},
		{"admin DELETE main", "main", del(erin, "main"), "Cannot delete this protected branch", main},
		{"app PATCH main", "main", patch(bot, "main", next, false), "Changes must be made through a pull request.", main},
		// The admin (enforce_admins off) may fast-forward but not force.
		{"admin PATCH main", "main", patch(erin, "main", next, false), "", next},
		{"admin force PATCH main", "main", patch(erin, "main", main, true), "Cannot force-push to this branch", next},
		// The App is in release's allowances; force and deletion are allowed.
		{"app PATCH release", "release", patch(bot, "release", next, false), "", next},
		{"app force PATCH release", "release", patch(bot, "release", main, true), "", main},
		{"app DELETE release", "release", del(bot, "release"), "", ""},
	} {
		resp, err := st.do()
		if st.want != "" {
			wantErr(t, st.what, resp, err, 422, "Protected branch update failed for refs/heads/"+st.branch+": "+st.want)
		} else if err != nil {
			t.Errorf("%s: %v", st.what, err)
		}
		if got := branchTip(t, srv, st.branch); got != st.tip {
			t.Errorf("after %s: %s = %q, want %q", st.what, st.branch, got, st.tip)
		}
	}
}

// TestBranchProtectionResponse checks the modelled protection in GitHub's
// shape (validated against the OpenAPI description by the client).
func TestBranchProtectionResponse(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	seed := protectionSeed()
	p := seed.Repos[0].Protection["main"]
	p.BypassPullRequestAllowances.Users = []string{"alice"}
	p.BypassPullRequestAllowances.Apps = []string{"jit"}
	p.StrictStatusChecks = true
	seed.Repos[0].Protection["main"] = p
	srv := ghemutest.NewServer(t, seed)
	alice := client(t, srv, "alice")

	type view struct {
		Users, Teams, Apps                      []string
		EnforceAdmins, Force, Deletions, Strict bool
		ReviewsUsers, ReviewsTeams, ReviewsApps []string
	}
	get := func(branch string) view {
		prot := must[*github.Protection](t, "protection "+branch)(alice.Repositories.GetBranchProtection(ctx, "acme", "access", branch))
		var v view
		v.Users, v.Teams, v.Apps = bypassNames(prot.GetRequiredPullRequestReviews().BypassPullRequestAllowances)
		v.EnforceAdmins = prot.GetEnforceAdmins().Enabled
		v.Force = prot.GetAllowForcePushes().Enabled
		v.Deletions = prot.GetAllowDeletions().Enabled
		v.Strict = prot.GetRequiredStatusChecks().Strict
		rv := must[*github.PullRequestReviewsEnforcement](t, "reviews "+branch)(alice.Repositories.GetPullRequestReviewEnforcement(ctx, "acme", "access", branch))
		v.ReviewsUsers, v.ReviewsTeams, v.ReviewsApps = bypassNames(rv.BypassPullRequestAllowances)
		return v
	}
	for branch, want := range map[string]view{
		"main": {Users: []string{"alice"}, Teams: []string{"releasers"}, Apps: []string{"jit"}, Strict: true,
			ReviewsUsers: []string{"alice"}, ReviewsTeams: []string{"releasers"}, ReviewsApps: []string{"jit"}},
		"release": {Apps: []string{"jit"}, Force: true, Deletions: true, ReviewsApps: []string{"jit"}},
		"locked":  {EnforceAdmins: true},
	} {
		if diff := cmp.Diff(want, get(branch)); diff != "" {
			t.Errorf("protection of %s (-want +got):\n%s", branch, diff)
		}
	}
}

// bypassNames lists the logins and slugs of bypass allowances (nil lists
// when there are none).
func bypassNames(b *github.BypassPullRequestAllowances) (users, teams, apps []string) {
	if b == nil {
		return nil, nil, nil
	}
	for _, u := range b.Users {
		users = append(users, u.GetLogin())
	}
	for _, tm := range b.Teams {
		teams = append(teams, tm.GetSlug())
	}
	for _, a := range b.Apps {
		apps = append(apps, a.GetSlug())
	}
	return users, teams, apps
}

// TestSeedProtectionRejected checks the seed's protection is validated.
func TestSeedProtectionRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*ghemu.Seed)
		want string
	}{
		{"unknown bypass user", func(s *ghemu.Seed) {
			p := s.Repos[0].Protection["main"]
			p.BypassPullRequestAllowances.Users = []string{"mallory"}
			s.Repos[0].Protection["main"] = p
		}, `seed: repos[0].protection: main: bypass_pull_request_allowances.users: "mallory" is not a seeded user`},
		{"unknown bypass team", func(s *ghemu.Seed) {
			p := s.Repos[0].Protection["main"]
			p.BypassPullRequestAllowances.Teams = []string{"nobody"}
			s.Repos[0].Protection["main"] = p
		}, `seed: repos[0].protection: main: bypass_pull_request_allowances.teams: "nobody" is not a seeded team`},
		{"unknown bypass app", func(s *ghemu.Seed) {
			p := s.Repos[0].Protection["main"]
			p.BypassPullRequestAllowances.Apps = []string{"other"}
			s.Repos[0].Protection["main"] = p
		}, `seed: repos[0].protection: main: bypass_pull_request_allowances.apps: "other" is not the seeded app's slug`},
		{"invalid branch", func(s *ghemu.Seed) {
			s.Repos[0].Protection["a..b"] = ghemu.SeedProtection{}
		}, `seed: repos[0].protection: branch "a..b" is not a valid branch name`},
		{"unknown admin", func(s *ghemu.Seed) {
			s.Repos[0].Admins = []string{"mallory"}
		}, `seed: repos[0].admins: "mallory" is not a seeded user`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireGit(t)
			sd := protectionSeed()
			tc.edit(&sd)
			_, err := ghemu.New(ghemu.Config{DataDir: t.TempDir(), Seed: sd})
			if err == nil || err.Error() != tc.want {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestMergeRequiredChecks checks that a merge waits for every required
// context (a successful, neutral or skipped check run, or a success
// status), that strict protection wants the head up to date with the base,
// and that only admins bypass, and only while enforce_admins is off.
func TestMergeRequiredChecks(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	seed := protectionSeed()
	seed.Repos[0].Protection["main"] = ghemu.SeedProtection{RequiredStatusChecks: []string{"ci", "lint"}, StrictStatusChecks: true,
		BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Users: []string{"bob"}, Apps: []string{"jit"}}}
	seed.Repos[0].Protection["locked"] = ghemu.SeedProtection{RequiredStatusChecks: []string{"ci"}, EnforceAdmins: true}
	srv := ghemutest.NewServer(t, seed)
	app, _ := srv.App()
	bot := installationClient(t, srv, app)
	alice, bob, erin := client(t, srv, "alice"), client(t, srv, "bob"), client(t, srv, "erin")
	raw := map[string]*github.Client{"alice": srv.Client("alice"), "bob": srv.Client("bob"), "erin": srv.Client("erin"), "jit": bot}
	must[*github.Reference](t, "create locked")(alice.Git.CreateRef(ctx, "acme", "access", &github.Reference{
		Ref: github.String("refs/heads/locked"), Object: &github.GitObject{SHA: github.String(branchTip(t, srv, "main"))}}))
	open := func(branch, base string) *github.PullRequest {
		pushBranch(t, srv, "alice", "access", branch, map[string]string{branch + ".txt": branch + "\n"})
		return must[*github.PullRequest](t, "PR "+branch)(alice.PullRequests.Create(ctx, "acme", "access",
			&github.NewPullRequest{Title: github.String(branch), Head: github.String(branch), Base: github.String(base)}))
	}
	check := func(sha, name, conclusion string) {
		must[*github.CheckRun](t, "check run "+name)(bot.Checks.CreateCheckRun(ctx, "acme", "access", github.CreateCheckRunOptions{
			Name: name, HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String(conclusion)}))
	}
	merge := func(who string, pr *github.PullRequest) (*github.Response, error) {
		_, resp, err := raw[who].PullRequests.Merge(ctx, "acme", "access", pr.GetNumber(), "", nil)
		return resp, err
	}

	one := open("one", "main")
	head := one.GetHead().GetSHA()
	resp, err := merge("bob", one)
	wantErr(t, "no checks", resp, err, 405, `Required status check "ci" is expected.`)
	check(head, "ci", "failure")
	resp, err = merge("bob", one)
	wantErr(t, "failed check run", resp, err, 405, `Required status check "ci" is expected.`)
	check(head, "ci", "neutral")
	resp, err = merge("bob", one)
	wantErr(t, "one context missing", resp, err, 405, `Required status check "lint" is expected.`)
	must[*github.RepoStatus](t, "pending status")(bob.Repositories.CreateStatus(ctx, "acme", "access", head,
		&github.RepoStatus{State: github.String("pending"), Context: github.String("lint")}))
	resp, err = merge("bob", one)
	wantErr(t, "pending status", resp, err, 405, `Required status check "lint" is expected.`)
	// Bypass allowances let bob and the App push, not merge past checks.
	resp, err = merge("jit", one)
	wantErr(t, "app in the allowances", resp, err, 405, `Required status check "lint" is expected.`)

	// Strict: main moves (the admin pushes past protection), so one is
	// behind even once its checks pass.
	two := open("two", "main")
	must[*github.PullRequestMergeResult](t, "admin merges without checks")(erin.PullRequests.Merge(ctx, "acme", "access", two.GetNumber(), "", nil))
	must[*github.RepoStatus](t, "lint success")(bob.Repositories.CreateStatus(ctx, "acme", "access", head,
		&github.RepoStatus{State: github.String("success"), Context: github.String("lint")}))
	resp, err = merge("bob", one)
	wantErr(t, "head behind the base", resp, err, 405, "Head branch is out of date")
	if got := must[*github.PullRequest](t, "PR one")(bob.PullRequests.Get(ctx, "acme", "access", one.GetNumber())); got.GetMergeableState() != "behind" {
		t.Errorf("mergeable_state = %q with the head behind, want behind", got.GetMergeableState())
	}
	must[struct{}](t, "update branch")(func() (struct{}, *github.Response, error) {
		_, resp, err := bob.PullRequests.UpdateBranch(ctx, "acme", "access", one.GetNumber(), nil)
		if _, accepted := err.(*github.AcceptedError); accepted {
			err = nil
		}
		return struct{}{}, resp, err
	}())
	updated := must[*github.PullRequest](t, "PR one")(bob.PullRequests.Get(ctx, "acme", "access", one.GetNumber()))
	head = updated.GetHead().GetSHA()
	resp, err = merge("bob", one)
	wantErr(t, "new head without checks", resp, err, 405, `Required status check "ci" is expected.`)
	check(head, "ci", "success")
	check(head, "lint", "skipped")
	must[*github.PullRequestMergeResult](t, "merge with checks")(bob.PullRequests.Merge(ctx, "acme", "access", one.GetNumber(), "", nil))

	// enforce_admins: the admin waits like everyone else.
	three := open("three", "locked")
	resp, err = merge("erin", three)
	wantErr(t, "admin with enforce_admins", resp, err, 405, `Required status check "ci" is expected.`)
}

// TestLoadSeedProtection reads the protection fields from JSON in the
// shape the README documents.
func TestLoadSeedProtection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	writeFile(t, path, `{"repos": [{"name": "access", "admins": ["erin"], "protection": {"main": {
		"required_status_checks": ["ci"], "strict_required_status_checks": true, "enforce_admins": true,
		"allow_force_pushes": true, "allow_deletions": true,
		"bypass_pull_request_allowances": {"users": ["bob"], "teams": ["releasers"], "apps": ["jit"]}}}}]}`)
	sd, err := ghemu.LoadSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	want := ghemu.SeedRepo{Name: "access", Admins: []string{"erin"}, Protection: map[string]ghemu.SeedProtection{"main": {
		RequiredStatusChecks: []string{"ci"}, StrictStatusChecks: true, EnforceAdmins: true, AllowForcePushes: true, AllowDeletions: true,
		BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Users: []string{"bob"}, Teams: []string{"releasers"}, Apps: []string{"jit"}}}}}
	if diff := cmp.Diff(want, sd.Repos[0]); diff != "" {
		t.Errorf("repo (-want +got):\n%s", diff)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Seeded admins are admins to the permission API too, as GitHub reports
// the admin role it enforces.
func TestSeededAdminsHaveAdminPermission(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	srv := ghemutest.NewServer(t, protectionSeed())
	alice := client(t, srv, "alice")
	for login, want := range map[string]string{"erin": "admin", "alice": "write"} {
		p := must[*github.RepositoryPermissionLevel](t, "permission "+login)(alice.Repositories.GetPermissionLevel(ctx, "acme", "access", login))
		if p.GetPermission() != want {
			t.Errorf("permission of %s = %s, want %s", login, p.GetPermission(), want)
		}
	}
}

// TestAppRecordCommitOnProtectedDefaultBranch is the App's own write to the
// default branch: a record commit made through the Git Data API and moved
// onto main with PATCH git/refs. Outside main's bypass allowances it is
// refused; inside them it still needs main's required checks on the new
// commit (bypassing the pull request requirement bypasses nothing else),
// which the App can post on its own commit before moving the ref.
func TestAppRecordCommitOnProtectedDefaultBranch(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		bypass []string
		want   []string // refusal after each step: no check, then the check posted ("" = moved)
	}{
		{"app not in the allowances", nil, []string{"Changes must be made through a pull request.", "Changes must be made through a pull request."}},
		{"app in the allowances", []string{"jit"}, []string{`Required status check "ci" is expected.`, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := protectionSeed()
			seed.Repos[0].Protection["main"] = ghemu.SeedProtection{RequiredStatusChecks: []string{"ci"}, RequiredApprovingReviewCount: 1,
				BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Apps: tc.bypass}}
			srv := ghemutest.NewServer(t, seed)
			app, _ := srv.App()
			bot := installationClient(t, srv, app)
			main := branchTip(t, srv, "main")
			parent := must[*github.Commit](t, "parent")(bot.Git.GetCommit(ctx, "acme", "access", main))
			rec := must[*github.Commit](t, "record commit")(bot.Git.CreateCommit(ctx, "acme", "access", &github.Commit{
				Message: github.String("Activate grant\n\nJit-Event: activated\n"), Tree: parent.Tree,
				Parents: []*github.Commit{{SHA: github.String(main)}}}, nil))
			for i, want := range tc.want {
				if i == 1 {
					must[*github.CheckRun](t, "check on the record commit")(bot.Checks.CreateCheckRun(ctx, "acme", "access", github.CreateCheckRunOptions{
						Name: "ci", HeadSHA: rec.GetSHA(), Status: github.String("completed"), Conclusion: github.String("success")}))
				}
				_, resp, err := bot.Git.UpdateRef(ctx, "acme", "access", &github.Reference{Ref: github.String("refs/heads/main"),
					Object: &github.GitObject{SHA: github.String(rec.GetSHA())}}, false)
				tip := main
				if want != "" {
					wantErr(t, tc.name, resp, err, 422, "Protected branch update failed for refs/heads/main: "+want)
				} else if err != nil {
					t.Fatalf("step %d: %v", i, err)
				} else {
					tip = rec.GetSHA()
				}
				if got := branchTip(t, srv, "main"); got != tip {
					t.Errorf("step %d: main = %s, want %s", i, got, tip)
				}
			}
		})
	}
}
