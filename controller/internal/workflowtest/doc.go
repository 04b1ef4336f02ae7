// Package workflowtest is test-only: its tests hold the repository's GitHub
// Actions workflows to the trust rules (docs/contract.md "Trust: what makes a grant real").
//
// Every workflow: no pull_request_target or workflow_run trigger, a
// read-only GITHUB_TOKEN, no ${{ }} inside run scripts (event values go
// through env:), actions pinned to a release or a commit, no token left in
// .git/config, a timeout on every job, and a secret only ever as a whole
// env value (NAME: ${{ secrets.NAME }}) of the run step that needs it, never
// in a step that compiles code, and written to files only after umask 077.
//
// validate.yml builds jit only from a checkout of the base revision and
// reads the pull request's head only as git data; the workflow as it was
// before finding 1 is kept in testdata and must fail.
//
// expire.yml and apply.yml (the expiry-and-reconcile pass, `jit expire`)
// have exactly their triggers (a */5 schedule; a push), one concurrency group
// shared by both that never cancels a running pass, a job condition that
// refuses other branches, secrets from an environment, one full-history
// checkout of the default branch and nothing else (no git fetch or checkout
// in scripts), jit built from that checkout and run as a binary with
// --repo naming it and no key in its environment (the keys go to files), and
// terraform pinned without its wrapper. Sweeps written the naive way are kept
// in testdata and must fail.
//
// Each rule is also shown to catch a one-line break of the real workflow.
package workflowtest
