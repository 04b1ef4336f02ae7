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
// # Auto-merge (GraphQL)
//
// Auto-merge is GraphQL only on GitHub, so POST /api/graphql (GitHub
// Enterprise Server's path) and POST /graphql answer the two mutations
// enablePullRequestAutoMerge and disablePullRequestAutoMerge, authenticated
// as the REST API is, and nothing else (there is no GraphQL parser: the
// mutation is found by its field name and its input must be passed as a
// variable). GraphQL is outside the REST contract: GitHub's OpenAPI
// description does not cover it and nothing validates it against a schema.
// The pull request is named by its node_id. Enabling is refused, as GitHub
// refuses it, when the repository does not allow auto-merge
// (SeedRepo.AllowAutoMerge, off by default as on GitHub), for a rebase, a
// closed or draft pull request, an expectedHeadOid that is not the head, a
// caller without write access, and a pull request that could merge right
// now ("Pull request Pull request is in clean status"). authorEmail is
// accepted and ignored. An enabled auto-merge shows as auto_merge on the
// pull request and delivers pull_request auto_merge_enabled; it merges, as
// whoever enabled it and with the recorded method, title and body, through
// the same code as the merge API (without an admin's bypass) as soon as
// that would succeed, tried after every API write and push to the
// repository. It is disabled, with auto_merge_disabled and a reason, by the
// disable mutation, by closing the pull request, by a push to the head by
// someone without write access, and by a conflict once the requirements
// are met.
//
// Every pull request has refs/pull/N/head, as on GitHub: written when it
// opens, moved with its head branch while it is open, kept after close and
// merge, fetchable over smart HTTP, and refused to pushes ("deny updating a
// hidden ref") and to the refs API.
//
// Assert with Requests (every API, GraphQL ("POST /graphql") and git call
// with its route, identity and status; APIRequests without git, ResetRequests to count one flow), PullRequests, Reviews, Comments, Statuses, CheckRuns and
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
