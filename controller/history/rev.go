package history

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Resolve returns the full hash of the commit rev names, resolving it as git
// does:
//
//   - a full 40-hex hash is that object (even where a reference has the
//     same name, as in git);
//   - otherwise a reference, trying in order the exact name (for "HEAD",
//     other upper-case root references and names starting with "refs/"),
//     then refs/NAME, refs/tags/NAME, refs/heads/NAME, refs/remotes/NAME and
//     refs/remotes/NAME/HEAD; "@" is HEAD;
//   - then an abbreviated hash of at least 4 hex digits that only one commit
//     (or tag of a commit) starts with. An ambiguous one is an error listing
//     the candidates.
//
// So a branch named like a hash prefix ("5d7a") is the branch, as in git,
// and a branch named like a full hash is not.
// Tags are peeled to the commit they name. rev may end in any sequence of
// "^", "^N" (the Nth parent; ^0 is the commit itself), "~" and "~N" (N first
// parents back). Other revision syntax (rev^{type}, rev@{...}, rev:path,
// ranges, searches) is an error saying so.
func (r *Repo) Resolve(rev string) (string, error) {
	h, err := r.resolve(rev)
	if err != nil {
		return "", fmt.Errorf("resolving revision %q: %w", rev, err)
	}
	return h.String(), nil
}

func (r *Repo) resolve(rev string) (plumbing.Hash, error) {
	if rev == "" {
		return plumbing.ZeroHash, errors.New("the revision is empty")
	}
	if i := strings.IndexAny(rev, "{}:"); i >= 0 || strings.Contains(rev, "..") {
		return plumbing.ZeroHash, errors.New("only branch, tag and commit names with ^, ^N, ~ and ~N are supported (not ^{...}, @{...}, :path or ranges)")
	}
	name, ops := rev, ""
	if i := strings.IndexAny(rev, "^~"); i >= 0 {
		name, ops = rev[:i], rev[i:]
	}
	if name == "" {
		return plumbing.ZeroHash, errors.New("^ and ~ need a revision before them")
	}
	h, err := r.resolveName(name)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return r.navigate(h, name, ops)
}

// resolveName resolves a revision without ^ and ~ suffixes.
func (r *Repo) resolveName(name string) (plumbing.Hash, error) {
	if name == "@" {
		name = "HEAD"
	}
	if len(name) == 40 && isHex(name) {
		// As in git, a full hash is the object, even where a reference has
		// the same name.
		h := plumbing.NewHash(strings.ToLower(name))
		if _, err := r.objs.EncodedObject(plumbing.AnyObject, h); err != nil {
			return plumbing.ZeroHash, errors.New("no commit has this hash")
		}
		return r.peel(h, name)
	}
	if validRefName(name) {
		for _, cand := range refCandidates(name) {
			ref, err := r.r.Reference(plumbing.ReferenceName(cand), true)
			if errors.Is(err, plumbing.ErrReferenceNotFound) {
				continue
			}
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("reading reference %s: %w", cand, err)
			}
			return r.peel(ref.Hash(), cand)
		}
	}
	if !isHex(name) || len(name) < 4 || len(name) > 40 {
		return plumbing.ZeroHash, errors.New("no branch, tag or commit has this name")
	}
	return r.resolvePrefix(strings.ToLower(name))
}

// refCandidates lists the reference names git tries for name, in order.
func refCandidates(name string) []string {
	var out []string
	if name == "HEAD" || strings.HasPrefix(name, "refs/") || isRootRef(name) {
		out = append(out, name)
	}
	return append(out, "refs/"+name, "refs/tags/"+name, "refs/heads/"+name, "refs/remotes/"+name, "refs/remotes/"+name+"/HEAD")
}

// isRootRef reports the syntax git accepts for references outside refs/:
// upper case letters and underscores ("HEAD", "ORIG_HEAD").
func isRootRef(name string) bool {
	for _, c := range name {
		if (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return name != ""
}

// validRefName applies git's rules for reference names (check-ref-format,
// one-level names allowed), so that no name reaches the reference store
// that could point outside it.
func validRefName(name string) bool {
	if name == "" || name == "@" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") ||
		strings.HasSuffix(name, ".") || strings.Contains(name, "//") || strings.Contains(name, "..") || strings.Contains(name, "@{") {
		return false
	}
	for _, c := range []byte(name) {
		if c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// resolvePrefix finds the one commit whose hash starts with the lower-case
// hex prefix; tags of commits count as their commit.
func (r *Repo) resolvePrefix(prefix string) (plumbing.Hash, error) {
	type prefixer interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}
	p, ok := r.r.Storer.(prefixer)
	if !ok {
		return plumbing.ZeroHash, errors.New("no branch or tag has this name, and abbreviated hashes need a repository on disk")
	}
	raw := plumbing.NewHash(prefix + strings.Repeat("0", 40-len(prefix)))
	hashes, err := p.HashesWithPrefix(raw[:len(prefix)/2])
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("looking up objects starting with %s: %w", prefix, err)
	}
	commits := map[plumbing.Hash]bool{}
	for _, h := range hashes {
		if !strings.HasPrefix(h.String(), prefix) {
			continue
		}
		if c, err := r.peel(h, prefix); err == nil {
			commits[c] = true
		}
	}
	switch len(commits) {
	case 0:
		return plumbing.ZeroHash, errors.New("no branch, tag or commit has this name")
	case 1:
		for c := range commits {
			return c, nil
		}
	}
	var names []string
	for c := range commits {
		names = append(names, c.String())
	}
	sort.Strings(names)
	return plumbing.ZeroHash, fmt.Errorf("abbreviated hash %s is ambiguous; it starts commits %s; give more digits", prefix, strings.Join(names, ", "))
}

// peel follows annotated tags to the commit they name.
func (r *Repo) peel(h plumbing.Hash, name string) (plumbing.Hash, error) {
	for range 10 {
		obj, err := r.objs.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s points at %s, which is not in the repository: %w", name, short(h), err)
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			t, err := object.DecodeTag(r.objs, obj)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("reading tag %s: %w", short(h), err)
			}
			h = t.Target
		default:
			return plumbing.ZeroHash, fmt.Errorf("%s names a %s, not a commit", name, obj.Type())
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("%s is a chain of more than 10 tags", name)
}

// navigate applies ^N and ~N suffixes to h.
func (r *Repo) navigate(h plumbing.Hash, name, ops string) (plumbing.Hash, error) {
	for ops != "" {
		op := ops[0]
		ops = ops[1:]
		end := 0
		for end < len(ops) && '0' <= ops[end] && ops[end] <= '9' {
			end++
		}
		n := 1
		if end > 0 {
			v, err := strconv.Atoi(ops[:end])
			if err != nil || v > 1_000_000 {
				return plumbing.ZeroHash, fmt.Errorf("%c%s: the number is too large", op, ops[:end])
			}
			n = v
		}
		ops = ops[end:]
		if ops != "" && ops[0] != '^' && ops[0] != '~' {
			return plumbing.ZeroHash, fmt.Errorf("unexpected %q after %c; only ^, ^N, ~ and ~N may follow a revision", ops, op)
		}
		if op == '^' {
			if n == 0 {
				continue
			}
			c, err := r.readCommit(h)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if n > len(c.parents) {
				return plumbing.ZeroHash, fmt.Errorf("commit %s has %d parents, so it has no parent %d", short(h), len(c.parents), n)
			}
			h = c.parents[n-1]
			continue
		}
		for i := 0; i < n; i++ {
			c, err := r.readCommit(h)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if len(c.parents) == 0 {
				return plumbing.ZeroHash, fmt.Errorf("%s has only %d first-parent ancestors", name, i)
			}
			h = c.parents[0]
		}
	}
	return h, nil
}
