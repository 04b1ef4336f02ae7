// Package workflowtest is test-only: its tests hold the repository's GitHub
// Actions workflows to the rule that the pull-request check never runs the
// pull request's own code (DESIGN.md "Trust", last paragraph). They parse
// .github/workflows/validate.yml and check that it builds jit only from a
// checkout of the base revision, reads the head only as git data, passes
// event values through env and never as ${{ }} inside run scripts, is not
// triggered by pull_request_target, and holds a read-only token. The
// workflow as it was before finding 1 is kept in testdata and must fail.
package workflowtest
