// Package gitattr checks .gitattributes files so that no git attribute can
// apply to grant files or governing files (docs/contract.md "Approval rules"):
// attributes can hide a diff from reviewers (-diff, linguist-generated) or
// change what a checkout shows (filter, eol, working-tree-encoding), so a
// .gitattributes anywhere whose patterns could match them is rejected, in
// whatever pull request it arrives.
//
// Governed paths are everything under access/, policies/, templates/ and
// .github/, CODEOWNERS at the top level, docs/CODEOWNERS, and every file
// named .gitattributes; and, because git also gives attributes to
// directories (git archive drops a directory marked export-ignore), the
// directories access, policies, templates, .github and docs and everything
// below the first four.
//
// Patterns follow gitattributes(5), which adopts gitignore's rules: a
// pattern is relative to the directory of its .gitattributes; one without a
// slash matches a basename at any depth below it; one with a slash at the
// start or in the middle is anchored there; "*", "?" and bracket
// expressions never match "/"; "**/" and "/**/" match zero or more
// directories and a trailing "/**" everything inside; a trailing slash
// matches directories only (never files: attributes are not inherited).
//
// The check is fail closed: it does not compare a pattern with the files
// that exist, but decides whether it could match any governed path at all,
// so "access/** -diff" is refused before the first grant file exists. It
// matches case-insensitively too, as git does where core.ignorecase is set.
// A pattern is accepted only when it provably cannot match: "docs/*.md" and
// "/assets/**/*.png" are fine; "*.png" (templates/x.png), "/assets/**"
// (assets/.gitattributes) and "docs/*" (docs/CODEOWNERS) are not.
//
// The package is pure: it reads only the bytes it is given.
package gitattr
