package history

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// Commits are decoded straight from their bytes, as go-git's object
// decoder (and git's parse_commit_buffer) reads them, without its
// buffered reader, string building and per-line allocations: walking
// 80,000 commits decoded each one twice over otherwise. FuzzParseCommit
// holds this decoder to go-git's.

// commitFields are what a commit object's bytes say, as git reads them:
// the tree is the first header; parents are the "parent" headers right
// after it; author and committer count only at their places (right after
// the parents, the committer right after the author or in its place);
// every other header is skipped; the message is everything after the first
// empty line.
type commitFields struct {
	tree    plumbing.Hash
	parents []plumbing.Hash
	// author and committer are the values of those headers (nil when
	// absent or valueless); they alias the commit's bytes.
	author, committer []byte
	// message is the offset of the message in the bytes (their length when
	// there is none).
	message int
}

var (
	errMissingTree = errors.New("malformed commit: missing tree header")
	errTreeFirst   = errors.New("malformed commit: tree header must be first")
)

// commitLines cuts a commit's bytes into lines as a bufio.Reader's
// ReadBytes('\n') does: each with its newline, except a last one without.
type commitLines struct {
	data []byte
	pos  int
}

// next returns the next line and whether it was the last (no newline
// follows it); an empty line means the end.
func (l *commitLines) next() (line []byte, last bool) {
	rest := l.data[l.pos:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		l.pos = len(l.data)
		return rest, true
	}
	l.pos += i + 1
	return rest[:i+1], false
}

// nextHeader is next for a header line; done is true at the end of the
// headers (no more bytes, or the empty line before the message, whose
// offset it records in f).
func (l *commitLines) nextHeader(f *commitFields) (line []byte, last, done bool) {
	line, last = l.next()
	switch {
	case len(line) == 0:
		return line, last, true
	case isBlankLine(line):
		f.message = l.pos
		return line, last, true
	}
	return line, last, false
}

// header splits a header line into its key (before the first space) and
// value (after it, without the newline; nil when there is no space).
func header(line []byte) (key string, value []byte) {
	line = bytes.TrimRight(line, "\n")
	k, v, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return string(line), nil
	}
	return string(k), v
}

func isBlankLine(line []byte) bool { return len(line) == 1 && line[0] == '\n' }

// parseCommitFields decodes a commit object's content.
func parseCommitFields(data []byte) (commitFields, error) {
	f := commitFields{message: len(data)}
	l := commitLines{data: data}
	line, last := l.next()
	if len(line) == 0 || isBlankLine(line) {
		return f, errMissingTree
	}
	key, value := header(line)
	if key != "tree" {
		return f, errTreeFirst
	}
	if !parseHexAnyCase(value, &f.tree) {
		return f, errors.New("malformed commit: bad tree hash")
	}
	if last {
		return f, nil
	}
	// The parents, contiguous after the tree.
	var done bool
	for {
		if line, last, done = l.nextHeader(&f); done {
			return f, nil
		}
		key, value = header(line)
		if key != "parent" {
			break
		}
		var p plumbing.Hash
		if !parseHexAnyCase(value, &p) {
			return f, errors.New("malformed commit: bad parent hash")
		}
		f.parents = append(f.parents, p)
		if last {
			return f, nil
		}
	}
	// line is the first header after the parents: the author's place.
	if key == "author" {
		f.author = value
		if last {
			return f, nil
		}
		if line, last, done = l.nextHeader(&f); done {
			return f, nil
		}
		key, value = header(line)
	}
	// line is in the committer's place.
	if key == "committer" {
		f.committer = value
	}
	// Every other header is skipped up to the empty line before the
	// message (continuation lines start with a space, so never end them).
	for !last {
		if _, last, done = l.nextHeader(&f); done {
			return f, nil
		}
	}
	return f, nil
}

// parseHexAnyCase reads a 40-digit hexadecimal object name in either case,
// as git and go-git accept in commit headers.
func parseHexAnyCase(b []byte, h *plumbing.Hash) bool {
	if len(b) != 2*len(h) {
		return false
	}
	_, err := hex.Decode(h[:], b)
	return err == nil
}

// parseSignature reads "Name <email> 1767600000 +0100" as go-git's
// Signature.Decode does: nothing without both angle brackets in order; the
// time only when a Unix time follows the email; the zone only when a whole
// ±hhmm follows that.
func parseSignature(b []byte) Signature {
	var s Signature
	open, end := bytes.LastIndexByte(b, '<'), bytes.LastIndexByte(b, '>')
	if open < 0 || end < 0 || end < open {
		return s
	}
	s.Name = string(bytes.Trim(b[:open], " "))
	s.Email = string(b[open+1 : end])
	if end+2 >= len(b) {
		return s
	}
	b = b[end+2:]
	space := bytes.IndexByte(b, ' ')
	if space < 0 {
		space = len(b)
	}
	ts, err := strconv.ParseInt(string(b[:space]), 10, 64)
	if err != nil {
		return s
	}
	s.When = time.Unix(ts, 0).In(time.UTC)
	if start := space + 1; start+5 <= len(b) {
		zone := string(b[start : start+5])
		hours, err1 := strconv.ParseInt(zone[:3], 10, 64)
		mins, err2 := strconv.ParseInt(zone[3:], 10, 64)
		if err1 == nil && err2 == nil {
			if hours < 0 {
				mins = -mins
			}
			s.When = s.When.In(fixedZone(int(hours*60*60 + mins*60)))
		}
	}
	return s
}

// unixTime is the Unix time of a signature value as parseSignature reads
// it, or 0 when it has none, without building the rest.
func unixTime(b []byte) int64 {
	open, end := bytes.LastIndexByte(b, '<'), bytes.LastIndexByte(b, '>')
	if open < 0 || end < open || end+2 >= len(b) {
		return 0
	}
	b = b[end+2:]
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	t, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return t
}

// decodeCommit builds the Commit whose hash is h from its content.
func decodeCommit(h plumbing.Hash, data []byte) (Commit, error) {
	f, err := parseCommitFields(data)
	if err != nil {
		return Commit{}, fmt.Errorf("reading commit %s: %w", short(h), err)
	}
	return f.commit(h, data), nil
}

// commit builds the Commit whose hash is h and whose content, which f was
// parsed from, is data.
func (f *commitFields) commit(h plumbing.Hash, data []byte) Commit {
	c := Commit{
		Hash:      hexString(h),
		Tree:      hexString(f.tree),
		Author:    parseSignature(f.author),
		Committer: parseSignature(f.committer),
		Message:   string(data[f.message:]),
	}
	if len(f.parents) > 0 {
		c.Parents = make([]string, len(f.parents))
		for i, p := range f.parents {
			c.Parents[i] = hexString(p)
		}
	}
	return c
}

// hexString is h.String() in one allocation rather than two: walks name
// every commit, tree and blob they pass.
func hexString(h plumbing.Hash) string {
	var b [2 * len(h)]byte
	hex.Encode(b[:], h[:])
	return string(b[:])
}

// zones holds the fixed zones parseSignature made, by offset in seconds:
// one per offset rather than one per signature, which a walk would keep
// for every commit it passes.
var zones sync.Map

// fixedZone is time.FixedZone("", offset), shared for the offsets real
// zones have (quarter hours within a day: at most 192 of them kept).
func fixedZone(offset int) *time.Location {
	if offset%900 != 0 || offset <= -86400 || offset >= 86400 {
		return time.FixedZone("", offset)
	}
	if z, ok := zones.Load(offset); ok {
		return z.(*time.Location)
	}
	z, _ := zones.LoadOrStore(offset, time.FixedZone("", offset))
	return z.(*time.Location)
}
