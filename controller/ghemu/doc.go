// Package ghemu is a GitHub emulator for tests and local development: it
// serves GitHub's REST API under /api/v3/ (the GitHub Enterprise Server
// layout), git over smart HTTP from real bare repositories on disk (through
// the real `git http-backend`), GitHub App authentication (RS256 JWTs and
// installation tokens) and signed webhook deliveries.
//
// It sits at the outer edge of the layering: nothing in the product imports
// it except tests and `jit dev`/`jit ghemu`. The controller talks to it only
// through go-github and ghinstallation, unchanged, so the emulator must agree
// with GitHub (its responses validate against GitHub's OpenAPI description
// and its webhook payloads against GitHub's schemas), not with our code.
//
// State (users, pull requests, reviews, checks, statuses, comments) lives in
// memory behind one mutex; file content and history live in the bare git
// repositories, and every write to a repository is serialised per repository.
// A restart on the same DataDir keeps the repositories (seeding skips one
// that exists) but loses the in-memory state: pull requests, reviews,
// comments, checks and statuses, and team changes made through the API.
//
// # In tests
//
//	srv := ghemutest.NewServer(t, ghemu.Seed{
//		Org:   ghemu.SeedOrg{Login: "acme"},
//		Users: []ghemu.SeedUser{{Login: "alice"}, {Login: "bob"}},
//		Teams: []ghemu.SeedTeam{{Slug: "db-owners", Members: []string{"bob"}}},
//		Repos: []ghemu.SeedRepo{{Name: "access", Content: "testdata/tree",
//			Protection: map[string]ghemu.SeedProtection{"main": {DismissStaleReviews: true}}}},
//		App:     &ghemu.SeedApp{ID: 42, Slug: "jit"},
//		Webhook: ghemu.SeedWebhook{URL: receiver.URL, Secret: "s3cret"},
//	})
//	alice := srv.Client("alice")               // go-github, BaseURL = srv.APIURL
//	bot, _ := srv.InstallationClient(nil)      // ghinstallation, acts as jit[bot]
//	sha, _ := srv.Commit(ctx, "access", ghemu.Change{Branch: "grant", Author: "alice",
//		Message: "add grant", Files: map[string]string{"access/a.yaml": "..."}})
//	git clone srv.GitURL("acme", "access")      // basic auth: any user, token as password
//
// # Branch protection
//
// Classic branch protection (SeedProtection) is enforced wherever a ref
// moves. A protected branch only moves through the pull request merge API:
// `git push`, PATCH and DELETE of git/refs are refused (the push fails with
// "GH006: Protected branch update failed", checked by a pre-receive hook
// the emulator installs, so the ref stays where it was) unless the actor
// is in bypass_pull_request_allowances (users, team members, the App by
// slug) or is a repository admin (SeedRepo.Admins) and enforce_admins is
// off. Bypass actors other than admins still need the required checks on
// the pushed commit. Force pushes and deletions are refused for everyone
// unless allow_force_pushes or allow_deletions. A merge answers 405 until
// every required context has a successful, neutral or skipped check run or
// a success status on the head (and, with strict, until the head contains
// the base tip); admins with enforce_admins off merge regardless, bypass
// allowances do not. The contents API (PUT and DELETE of contents with a
// branch) is judged as a push and answers 409 with the reason.
//
// Every pull request has refs/pull/N/head, as on GitHub: written when it
// opens, moved with its head branch while it is open, kept after close and
// merge, fetchable over smart HTTP, and refused to pushes ("deny updating a
// hidden ref") and to the refs API.
//
// Assert with Requests (every API and git call with its route, identity and
// status; APIRequests without git, ResetRequests to count one flow), PullRequests, Reviews, Comments, Statuses, CheckRuns and
// Deliveries; inject faults with FailNext and RateLimitNext. Routes the
// emulator does not implement answer GitHub's 404 and fail the test.
//
// # Standalone
//
// `jit ghemu --seed FILE [--addr HOST:PORT] [--data DIR]` serves the same
// emulator and prints one JSON object with the API URL, git URL, webhook
// secret, App id and key file, and each user's token; see
// testdata/seed.json for the seed format.
package ghemu
