package codeowners

import "strings"

// index narrows the rules a path has to be tested against. Every rule sits in
// exactly one place:
//
//   - anchored: rules whose pattern starts with literal segments, in a trie
//     keyed by those segments from the root (/access/team-1/ sits at
//     access → team-1); a path visits only the nodes along its own prefix;
//   - floating: unanchored rules whose first segment is literal (logs/,
//     **/logs, foo/bar after **), in a trie walked from every segment of the path;
//   - ext: unanchored rules of the form *.ext, keyed by ".ext", looked up
//     with each segment's extension;
//   - wild: everything else (/*, f*, */x, ...), always tested.
//
// Each list holds rule indices in increasing line order. Matching scans each
// candidate list from its highest line down and stops at the first match or
// at a line not above the best match found so far, so the winner is the last
// matching rule in the file, exactly as a full scan would find it.
type index struct {
	anchored trie
	floating trie
	ext      map[string][]int32
	wild     []int32
}

type trie struct {
	children map[string]*trie
	rules    []int32
}

func (t *trie) insert(key []elem, rule int32) {
	n := t
	for _, e := range key {
		if n.children == nil {
			n.children = make(map[string]*trie)
		}
		c := n.children[e.lit]
		if c == nil {
			c = &trie{}
			n.children[e.lit] = c
		}
		n = c
	}
	n.rules = append(n.rules, rule)
}

func literalPrefix(es []elem) []elem {
	n := 0
	for n < len(es) && es[n].kind == elemLit {
		n++
	}
	return es[:n]
}

// extKey returns ".ext" when e is the glob *.ext with no other dot or
// wildcard, so that it matches exactly the segments whose extension is .ext.
func extKey(e elem) (string, bool) {
	if e.kind != elemGlob || len(e.glob) != 2 || e.glob[0].op != opStar || e.glob[1].op != opLit {
		return "", false
	}
	lit := e.glob[1].lit
	if len(lit) < 2 || lit[0] != '.' || strings.IndexByte(lit[1:], '.') >= 0 {
		return "", false
	}
	return lit, true
}

func buildIndex(rules []Rule) *index {
	x := &index{ext: make(map[string][]int32)}
	for i := range rules {
		r := int32(i)
		es := rules[i].pat.elems
		if len(es) == 0 {
			continue
		}
		if es[0].kind != elemAny {
			if key := literalPrefix(es); len(key) > 0 {
				x.anchored.insert(key, r)
				continue
			}
			x.wild = append(x.wild, r)
			continue
		}
		rest := es[1:]
		if key := literalPrefix(rest); len(key) > 0 {
			x.floating.insert(key, r)
			continue
		}
		if len(rest) > 0 {
			if k, ok := extKey(rest[0]); ok {
				x.ext[k] = append(x.ext[k], r)
				continue
			}
		}
		x.wild = append(x.wild, r)
	}
	return x
}

// match returns the index of the last rule matching path, or -1.
func (x *index) match(rules []Rule, path string) int {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return -1
	}
	var buf [32]string
	segs := splitPath(path, buf[:0])

	best := int32(-1)
	scan := func(list []int32) {
		for j := len(list) - 1; j >= 0; j-- {
			r := list[j]
			if r <= best {
				return
			}
			if rules[r].pat.match(segs) {
				best = r
				return
			}
		}
	}

	n := &x.anchored
	for _, s := range segs {
		if n = n.children[s]; n == nil {
			break
		}
		scan(n.rules)
	}
	for i := range segs {
		n := &x.floating
		for _, s := range segs[i:] {
			if n = n.children[s]; n == nil {
				break
			}
			scan(n.rules)
		}
	}
	if len(x.ext) > 0 {
		for _, s := range segs {
			if d := strings.LastIndexByte(s, '.'); d >= 0 {
				scan(x.ext[s[d:]])
			}
		}
	}
	scan(x.wild)
	return int(best)
}

func splitPath(p string, buf []string) []string {
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(buf, p)
		}
		buf = append(buf, p[:i])
		p = p[i+1:]
	}
}
