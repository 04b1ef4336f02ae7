// Package request turns grant files (access/**.yaml) into grant.Request
// values. It is pure: it reads only the bytes and the fs.FS it is given.
//
// Parsing is strict (DESIGN.md "A grant file"): unknown fields, duplicate
// keys, anchors and aliases, custom tags, multiple documents, files over
// 64 KiB and non-UTF-8 input are errors, each reported with the file, line
// and column where it was found. A file is never half accepted: a file with
// any problem yields no Request.
package request
