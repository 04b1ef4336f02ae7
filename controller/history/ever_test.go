package history_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
)

// indexFiles lists the ever-existed index files of g.
func indexFiles(t *testing.T, g *gittest.Repo) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(g.Dir, ".git", "jit", "*"))
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	sort.Strings(m)
	return m
}

func ids(t *testing.T, h *history.Repo, rev string) string {
	t.Helper()
	ever, err := h.EverExisted(ctx, resolve(t, h, rev))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for id := range ever {
		out = append(out, id)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// forge rewrites the index file of tip so that it also lists id, with a
// correct checksum: what a stale index that knows more ids looks like.
func forge(t *testing.T, g *gittest.Repo, tip, id string, edit func(string) string) {
	t.Helper()
	p := filepath.Join(g.Dir, ".git", "jit", "ever-"+tip+".idx")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	body := string(data[:bytes.LastIndex(data, []byte("sha256 "))])
	n := strings.Count(body, "\n") - 4
	body = strings.Replace(body, "ids "+itoa(n)+"\n", "ids "+itoa(n+1)+"\n", 1)
	body += tip + " 1767600000 \"" + id + "\"\n"
	if edit != nil {
		body = edit(body)
	}
	if err := os.WriteFile(p, history.WithChecksum([]byte(body)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func fmtInt(n int) string { return strconv.Itoa(n) }

func TestEverExistedIndex(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "initial", t0, map[string]string{"access/a.yaml": "a"})
	g.Commit("main", "admin", "b", t0.Add(time.Minute), map[string]string{"access/b.yaml": "b"})
	h := open(t, g)
	tip1 := resolve(t, h, "main")
	if got := ids(t, h, "main"); got != "a,b" {
		t.Fatalf("ids = %s", got)
	}
	if files := indexFiles(t, g); len(files) != 1 || files[0] != "ever-"+tip1+".idx" {
		t.Fatalf("index files = %v, want one for %s", files, tip1)
	}

	// The next call walks only the new commits and adds to the index: an id
	// only the index knows (as a stale index might) is still there.
	forge(t, g, tip1, "ghost", nil)
	g.Commit("main", "admin", "c", t0.Add(2*time.Minute), map[string]string{"access/c.yaml": "c", "access/a.yaml": ""})
	if got := ids(t, h, "main"); got != "a,b,c,ghost" {
		t.Errorf("ids after one more commit = %s, want the index's ids plus c", got)
	}
	tip2 := resolve(t, h, "main")
	if files := indexFiles(t, g); len(files) != 2 || files[1] != "ever-"+tip2+".idx" && files[0] != "ever-"+tip2+".idx" {
		t.Errorf("index files = %v, want one for %s too", files, tip2)
	}
	// The older commit still answers from its own index.
	if got := ids(t, h, tip1); got != "a,b,ghost" {
		t.Errorf("ids at the older tip = %s", got)
	}
}

func TestEverExistedIndexIgnored(t *testing.T) {
	tests := map[string]func(t *testing.T, g *gittest.Repo, tip string){
		"corrupt": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", nil)
			p := filepath.Join(g.Dir, ".git", "jit", "ever-"+tip+".idx")
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 1
			os.WriteFile(p, data, 0o644)
		},
		"truncated": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", nil)
			p := filepath.Join(g.Dir, ".git", "jit", "ever-"+tip+".idx")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)-20], 0o644)
		},
		"names another tip": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", func(s string) string { return strings.Replace(s, "tip "+tip, "tip "+strings.Repeat("1", 40), 1) })
		},
		"root of another repository": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", func(s string) string {
				i := strings.Index(s, "root ") + len("root ")
				return s[:i] + strings.Repeat("2", 40) + s[i+40:]
			})
		},
		"root is not a root commit": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", func(s string) string {
				i := strings.Index(s, "root ") + len("root ")
				return s[:i] + tip + s[i+40:]
			})
		},
		"count mismatch": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", func(s string) string { return strings.Replace(s, "ids 3", "ids 4", 1) })
		},
		"history rewritten": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", nil)
			// main moves to a history that does not contain tip.
			g.Branch("main", g.Commit("other", "admin", "other root", t0, map[string]string{"access/a.yaml": "a", "access/b.yaml": "b"}))
		},
		"not on the first-parent history": func(t *testing.T, g *gittest.Repo, tip string) {
			forge(t, g, tip, "ghost", nil)
			// main becomes a merge whose first parent is a branch off the
			// root and whose second parent is tip.
			root := resolve(t, open(t, g), "main~1")
			side := g.Commit("other", "admin", "side", t0.Add(time.Hour), map[string]string{"x": "x"}, plumbingHash(root))
			g.Branch("main", g.Commit("other", "admin", "merge", t0.Add(2*time.Hour), nil, side, g.Head("main")))
		},
	}
	for name, spoil := range tests {
		t.Run(name, func(t *testing.T) {
			g := gittest.New(t)
			g.Commit("main", "admin", "initial", t0, map[string]string{"access/a.yaml": "a"})
			g.Commit("main", "admin", "b", t0.Add(time.Minute), map[string]string{"access/b.yaml": "b"})
			h := open(t, g)
			tip := resolve(t, h, "main")
			ids(t, h, "main")
			spoil(t, g, tip)
			want := "a,b"
			if got := ids(t, h, "main"); got != want {
				t.Errorf("ids = %s, want %s: the spoilt index must not be used", got, want)
			}
		})
	}
}

// TestEverExistedConcurrent: runs sharing a git directory agree, and leave
// only complete index files behind.
func TestEverExistedConcurrent(t *testing.T) {
	g := gittest.New(t)
	for i := 0; i < 30; i++ {
		g.Commit("main", "admin", "c", t0.Add(time.Duration(i)*time.Minute), map[string]string{"access/g-" + fmtInt(i) + ".yaml": "x"})
	}
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := history.Open(g.Dir)
			if err != nil {
				t.Error(err)
				return
			}
			defer h.Close()
			tip, err := h.Resolve("main~" + fmtInt(i))
			if err != nil {
				t.Error(err)
				return
			}
			ever, err := h.EverExisted(ctx, tip)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = fmtInt(len(ever))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != fmtInt(30-i) {
			t.Errorf("run %d found %s ids, want %d", i, r, 30-i)
		}
	}
	files := indexFiles(t, g)
	if len(files) > 4 {
		t.Errorf("%d index files kept, want at most 4: %v", len(files), files)
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "ever-") {
			t.Errorf("left behind %s", f)
		}
	}
	// Every file left is valid: answering from it gives the right ids.
	h := open(t, g)
	if got := ids(t, h, "main"); strings.Count(got, ",") != 29 {
		t.Errorf("ids = %s", got)
	}
}
