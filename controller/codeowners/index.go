package codeowners

import "strings"

// index narrows the rules a path has to be tested against. A rule's key is
// the run of elements at the start of its pattern that are a literal segment
// or a lone * (after the leading ** of an unanchored pattern). Rules sit in:
//
//   - anchored: a trie of keys from the root (/access/team-1/ sits at
//     access → team-1 → *); a path visits only the nodes along its own
//     segments, following literal and * edges;
//   - floating: a trie of keys of unanchored rules (logs/, **/logs, x/y
//     after **), walked from every segment of the path;
//   - at a trie node, a rule whose next element is a glob starting with a
//     literal (svc-*) is filed under the first bytes of that literal, and is
//     visited only for segments with those first bytes;
//   - ext: unanchored rules *.ext, keyed by ".ext", looked up with each
//     segment's extension;
//   - wild: everything else (f*, ?x, ...), always tested.
//
// Each list holds rule indices in increasing line order. Matching scans each
// candidate list from its highest line down and stops at the first match or
// at a line not above the best match found so far, so the winner is the last
// matching rule in the file, exactly as a full scan would find it. A list
// reached twice for one path is scanned once.
type index struct {
	anchored trie
	floating trie
	ext      map[string]*ruleList
	wild     ruleList
}

type ruleList struct{ rules []int32 }

// prefixLen is how many leading bytes of a glob's literal prefix key it.
const prefixLen = 3

// maxKeyDepth bounds the trie's depth, so that a hostile pattern of very many
// segments costs one node per level only up to here; deeper segments are left
// to the rule's own matcher.
const maxKeyDepth = 16

type trie struct {
	children map[string]*trie
	any      *trie                // edge for a lone * segment
	prefixed map[string]*ruleList // rules whose next element is a glob with a literal prefix
	here     ruleList             // rules whose key ends here
}

func isLoneStar(e elem) bool {
	return e.kind == elemGlob && len(e.glob) == 1 && e.glob[0].op == opStar
}

// insert files rule under its key, the leading literal and lone-* elements
// of es; it returns false when es has no key.
func (t *trie) insert(es []elem, rule int32) bool {
	n, depth := t, 0
	for ; depth < len(es) && depth < maxKeyDepth; depth++ {
		e := es[depth]
		var next *trie
		switch {
		case e.kind == elemLit:
			if n.children == nil {
				n.children = make(map[string]*trie)
			}
			if next = n.children[e.lit]; next == nil {
				next = &trie{}
				n.children[e.lit] = next
			}
		case isLoneStar(e) && !(depth == len(es)-2 && es[depth+1].kind == elemAny):
			// (a trailing "/" adds * and **: not worth a node of its own)
			if n.any == nil {
				n.any = &trie{}
			}
			next = n.any
		}
		if next == nil {
			break
		}
		n = next
	}
	if depth < len(es) {
		if e := es[depth]; e.kind == elemGlob && e.glob[0].op == opLit {
			key := e.glob[0].lit
			if len(key) > prefixLen {
				key = key[:prefixLen]
			}
			if n.prefixed == nil {
				n.prefixed = make(map[string]*ruleList)
			}
			l := n.prefixed[key]
			if l == nil {
				l = &ruleList{}
				n.prefixed[key] = l
			}
			l.rules = append(l.rules, rule)
			return true
		}
	}
	if depth == 0 {
		return false
	}
	n.here.rules = append(n.here.rules, rule)
	return true
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

func buildIndex(pats []pattern) *index {
	x := &index{ext: make(map[string]*ruleList)}
	for i := range pats {
		r := int32(i)
		es := pats[i].elems
		if len(es) == 0 {
			continue
		}
		if es[0].kind != elemAny {
			if !x.anchored.insert(es, r) {
				x.wild.rules = append(x.wild.rules, r)
			}
			continue
		}
		rest := es[1:]
		if len(rest) > 0 && !isLoneStar(rest[0]) && x.floating.insert(rest, r) {
			continue
		}
		if len(rest) > 0 {
			if k, ok := extKey(rest[0]); ok {
				l := x.ext[k]
				if l == nil {
					l = &ruleList{}
					x.ext[k] = l
				}
				l.rules = append(l.rules, r)
				continue
			}
		}
		x.wild.rules = append(x.wild.rules, r)
	}
	return x
}

// matcher holds the state of one match call.
type matcher struct {
	pats []pattern
	segs []string
	best int32
	// lists already scanned: the first few in an array, the rest in a map
	nseen    int
	seen     [16]*ruleList
	seenMore map[*ruleList]bool
}

// visit reports whether l is scanned for the first time in this match.
func (m *matcher) visit(l *ruleList) bool {
	for _, s := range m.seen[:m.nseen] {
		if s == l {
			return false
		}
	}
	if m.nseen < len(m.seen) {
		m.seen[m.nseen] = l
		m.nseen++
		return true
	}
	if m.seenMore[l] {
		return false
	}
	if m.seenMore == nil {
		m.seenMore = make(map[*ruleList]bool)
	}
	m.seenMore[l] = true
	return true
}

func (m *matcher) scan(l *ruleList) {
	if l == nil || len(l.rules) == 0 || l.rules[len(l.rules)-1] <= m.best {
		return
	}
	if !m.visit(l) {
		return
	}
	for j := len(l.rules) - 1; j >= 0; j-- {
		r := l.rules[j]
		if r <= m.best {
			return
		}
		if m.pats[r].match(m.segs) {
			m.best = r
			return
		}
	}
}

// walk visits the trie along segs, scanning the rules filed at each node
// reached and under each glob prefix of the next segment.
func (m *matcher) walk(root *trie, segs []string) {
	var abuf, bbuf [8]*trie
	active := append(abuf[:0], root)
	next := bbuf[:0]
	for _, s := range segs {
		next = next[:0]
		for _, n := range active {
			if n.prefixed != nil {
				for k := 1; k <= prefixLen && k <= len(s); k++ {
					m.scan(n.prefixed[s[:k]])
				}
			}
			if c := n.children[s]; c != nil {
				m.scan(&c.here)
				next = append(next, c)
			}
			if n.any != nil {
				m.scan(&n.any.here)
				next = append(next, n.any)
			}
		}
		if len(next) == 0 {
			return
		}
		active, next = next, active
	}
}

// match returns the index of the last rule matching path, or -1.
func (x *index) match(pats []pattern, path string) int {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return -1
	}
	var sbuf [32]string
	m := matcher{pats: pats, segs: splitPath(path, sbuf[:0]), best: -1}

	m.walk(&x.anchored, m.segs)
	if x.floating.children != nil || x.floating.prefixed != nil {
		for i := range m.segs {
			m.walk(&x.floating, m.segs[i:])
		}
	}
	if len(x.ext) > 0 {
		for _, s := range m.segs {
			if d := strings.LastIndexByte(s, '.'); d >= 0 {
				m.scan(x.ext[s[d:]])
			}
		}
	}
	m.scan(&x.wild)
	return int(m.best)
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
