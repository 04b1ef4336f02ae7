package history

import (
	"container/heap"
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
)

// MergeBase returns the full hash of the best common ancestor of the commits
// a and b (full hashes), the commit a pull request's diff is computed from.
// When there are several (criss-cross merges) it returns the most recently
// committed. It walks only the commits between the two and their common
// ancestors, as git does.
func (r *Repo) MergeBase(ctx context.Context, a, b string) (string, error) {
	ha, err := parseHash(a)
	if err != nil {
		return "", err
	}
	hb, err := parseHash(b)
	if err != nil {
		return "", err
	}
	if ha == hb {
		return a, nil
	}
	w := newPainter(r)
	bases, err := w.paint(ctx, ha, hb)
	if err != nil {
		return "", err
	}
	if len(bases) == 0 {
		return "", fmt.Errorf("commits %s and %s share no history", short(ha), short(hb))
	}
	// Drop bases that are ancestors of another base.
	best := bases[:0]
	for i, x := range bases {
		redundant := false
		for j, y := range bases {
			if i != j && x != y {
				anc, err := newPainter(r).isAncestor(ctx, x, y)
				if err != nil {
					return "", err
				}
				if anc {
					redundant = true
					break
				}
			}
		}
		if !redundant {
			best = append(best, x)
		}
	}
	return best[0].String(), nil
}

// IsAncestor reports whether commit a is b or one of b's ancestors (a and b
// are full hashes).
func (r *Repo) IsAncestor(ctx context.Context, a, b string) (bool, error) {
	ha, err := parseHash(a)
	if err != nil {
		return false, err
	}
	hb, err := parseHash(b)
	if err != nil {
		return false, err
	}
	return newPainter(r).isAncestor(ctx, ha, hb)
}

const (
	paintA uint8 = 1 << iota
	paintB
	stale
	result
)

// painter implements git's paint-down-to-common walk: commits reachable from
// a are painted A, from b painted B, in committer-time order (newest first);
// a commit painted both is a common ancestor, and what lies below it is
// stale. The walk ends when only stale commits are left to visit.
type painter struct {
	r     *Repo
	nodes map[plumbing.Hash]*node
	queue nodeQueue
	seq   int
}

type node struct {
	hash    plumbing.Hash
	when    int64
	parents []plumbing.Hash
	flags   uint8
}

func newPainter(r *Repo) *painter { return &painter{r: r, nodes: map[plumbing.Hash]*node{}} }

func (p *painter) node(h plumbing.Hash) (*node, error) {
	if n, ok := p.nodes[h]; ok {
		return n, nil
	}
	c, err := p.r.readCommit(h)
	if err != nil {
		return nil, err
	}
	n := &node{hash: h, when: c.when, parents: c.parents}
	p.nodes[h] = n
	return n, nil
}

func (p *painter) push(n *node) {
	p.seq++
	heap.Push(&p.queue, queued{n: n, seq: p.seq})
}

func (p *painter) isAncestor(ctx context.Context, a, b plumbing.Hash) (bool, error) {
	if a == b {
		return true, nil
	}
	if _, err := p.paint(ctx, a, b); err != nil {
		return false, err
	}
	return p.nodes[a].flags&paintB != 0, nil
}

// paint walks from a and b and returns their common ancestors that are not
// below another common ancestor found first (newest first).
func (p *painter) paint(ctx context.Context, a, b plumbing.Hash) ([]plumbing.Hash, error) {
	na, err := p.node(a)
	if err != nil {
		return nil, err
	}
	nb, err := p.node(b)
	if err != nil {
		return nil, err
	}
	na.flags |= paintA
	nb.flags |= paintB
	p.push(na)
	p.push(nb)
	var results []*node
	for steps := 0; p.queue.hasNonStale(); steps++ {
		if steps%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		n := heap.Pop(&p.queue).(queued).n
		flags := n.flags & (paintA | paintB | stale)
		if flags == paintA|paintB {
			if n.flags&result == 0 {
				n.flags |= result
				results = append(results, n)
			}
			flags |= stale
		}
		for _, ph := range n.parents {
			pn, err := p.node(ph)
			if err != nil {
				return nil, err
			}
			if pn.flags&flags == flags {
				continue
			}
			pn.flags |= flags
			p.push(pn)
		}
	}
	// A result painted stale later lies below another result.
	sort.SliceStable(results, func(i, j int) bool { return results[i].when > results[j].when })
	var out []plumbing.Hash
	for _, n := range results {
		if n.flags&stale == 0 {
			out = append(out, n.hash)
		}
	}
	return out, nil
}

type queued struct {
	n   *node
	seq int
}

// nodeQueue is a max-heap on committer time, first pushed first on ties.
type nodeQueue []queued

func (q nodeQueue) Len() int { return len(q) }
func (q nodeQueue) Less(i, j int) bool {
	if q[i].n.when != q[j].n.when {
		return q[i].n.when > q[j].n.when
	}
	return q[i].seq < q[j].seq
}
func (q nodeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *nodeQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *nodeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (q nodeQueue) hasNonStale() bool {
	for _, e := range q {
		if e.n.flags&stale == 0 {
			return true
		}
	}
	return false
}

// ReplayedMerges returns the commits along the first-parent history of the
// commit tip (full hash) that have two or more parents and whose second
// parent already was their first parent or one of its ancestors: merges
// that brought in nothing new, as when a pull request's old head is merged
// a second time. For each such merge m it answers exactly what
// IsAncestor(m^2, m^1) answers, without relying on committer times (a
// clock-skewed history gets the exact answer too).
//
// It reads every commit reachable from tip once: walking the first-parent
// history from the root forwards, it keeps the set of commits reachable
// from the current one, and adds to it what each merge brings in, so the
// whole answer costs one walk however many merges there are.
func (r *Repo) ReplayedMerges(ctx context.Context, tip string) (map[string]bool, error) {
	h, err := parseHash(tip)
	if err != nil {
		return nil, err
	}
	// The first-parent chain, newest first.
	var chain []*commitHead
	for {
		if len(chain)%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c, err := r.readCommit(h)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
		if len(c.parents) == 0 {
			break
		}
		h = c.parents[0]
	}
	seen := make(map[plumbing.Hash]struct{}, 2*len(chain))
	out := map[string]bool{}
	var stack []plumbing.Hash
	for i := len(chain) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := chain[i]
		// seen is now every ancestor of c's first parent (itself included).
		if len(c.parents) >= 2 {
			if _, ok := seen[c.parents[1]]; ok {
				out[c.hash.String()] = true
			}
			for _, p := range c.parents[1:] {
				if _, ok := seen[p]; !ok {
					stack = append(stack, p)
				}
			}
		}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, ok := seen[x]; ok {
				continue
			}
			seen[x] = struct{}{}
			xc, err := r.readCommit(x)
			if err != nil {
				return nil, err
			}
			for _, p := range xc.parents {
				if _, ok := seen[p]; !ok {
					stack = append(stack, p)
				}
			}
		}
		seen[c.hash] = struct{}{}
	}
	return out, nil
}
