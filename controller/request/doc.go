// Package request turns grant files (access/**.yaml) into grant.Request
// values. It is pure: it reads only the bytes and the fs.FS it is given.
//
// Parsing is strict (docs/contract.md "Grant files"): unknown fields, duplicate
// keys, anchors and aliases, custom tags, multiple documents, files over
// 64 KiB and non-UTF-8 input are errors, each reported with the file, line
// and column where it was found. A file is never half accepted: a file with
// any problem yields no Request (ParseLenient and LoadLenient return what
// did parse, marked, for reports that show every problem at once).
//
// What the approver reads must be what is stored, so characters on which the
// YAML parser and a diff viewer disagree are rejected too, each at its line
// and column: a carriage return that does not end a CRLF line ending, NEL,
// LINE and PARAGRAPH SEPARATOR, bidirectional controls, invisible (format)
// characters other than a leading byte order mark, and control characters
// other than tab and line feed; also when a double-quoted escape produces
// them. CRLF line endings are accepted (text.go says why).
package request
