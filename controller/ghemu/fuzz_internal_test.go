package ghemu

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzParseCommit feeds arbitrary commit objects to the parser: it never
// panics, and whatever it accepts has a tree.
func FuzzParseCommit(f *testing.F) {
	f.Add([]byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\n" +
		"author Alice <alice@example.com> 1700000000 +0100\ncommitter Bob <bob@example.com> 1700000001 -0500\n\nMerge\n\nJit-Grant: x\n"))
	f.Add([]byte("tree abc\n\n"))
	f.Add([]byte("author <> x y\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := parseCommit("sha", raw)
		if err == nil && c.tree == "" {
			t.Errorf("accepted a commit without a tree: %q", raw)
		}
	})
}

// FuzzCheckCodeowners feeds arbitrary CODEOWNERS text to the checker: it
// never panics and every error points inside the file.
func FuzzCheckCodeowners(f *testing.F) {
	f.Add("* @acme/db-owners\naccess/ @nobody @bob # x\ndocs/ bob\n!x @bob\n/ @bob\n")
	f.Add("  \t@@ @/ /@ a@b\n#\n\r\n")
	f.Add("x @acme/\n@ \n")
	s := &Server{st: newState()}
	s.st.org = &account{login: "acme", typ: "Organization"}
	s.st.accounts["bob"] = &account{login: "bob", typ: "User"}
	s.st.teams["db-owners"] = &team{slug: "db-owners"}
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Split(text, "\n")
		for _, e := range s.checkCodeowners(".github/CODEOWNERS", text) {
			line, col := e["line"].(int), e["column"].(int)
			if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1])+1 {
				t.Errorf("error at line %d column %d outside the file %q", line, col, text)
			}
		}
	})
}

// FuzzPageBounds feeds arbitrary page/per_page values: the bounds always
// slice the list safely and never exceed 100 items.
func FuzzPageBounds(f *testing.F) {
	f.Add("2", "30", 65)
	f.Add("-1", "1000", 5)
	f.Add("9999999999999999999", "x", 0)
	f.Fuzz(func(t *testing.T, page, perPage string, total int) {
		if total < 0 || total > 1<<20 {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "/api/v3/x", nil)
		q := r.URL.Query()
		q.Set("page", page)
		q.Set("per_page", perPage)
		r.URL.RawQuery = q.Encode()
		c := &call{s: &Server{URL: "http://h"}, w: httptest.NewRecorder(), r: r}
		lo, hi := c.pageBounds(total)
		if lo < 0 || hi < lo || hi > total || hi-lo > maxPerPage {
			t.Errorf("page %q per_page %q total %d: bounds %d..%d", page, perPage, total, lo, hi)
		}
	})
}

// FuzzCredential feeds arbitrary Authorization headers: the parser never
// panics and a scheme it does not know never yields an empty credential
// (which would mean anonymous).
func FuzzCredential(f *testing.F) {
	f.Add("token ghp_x")
	f.Add("Bearer eyJ.a.b")
	f.Add("Basic eC1hY2Nlc3MtdG9rZW46Z2hzX3g=")
	f.Add("Basic !!!")
	f.Add("Digest x")
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", h)
		got := credential(r)
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		switch strings.ToLower(scheme) {
		case "token", "bearer", "basic":
		default:
			if r.Header.Get("Authorization") != "" && got == "" {
				t.Errorf("header %q gave an empty credential (anonymous)", h)
			}
		}
	})
}

func TestIsGitPath(t *testing.T) {
	tests := map[string]bool{
		"/acme/access.git/info/refs":         true,
		"/acme/access.git/git-upload-pack":   true,
		"/acme/access.git":                   true,
		"/acme/.git/info/refs":               false,
		"/acme/access/info/refs":             false,
		"/api/v3/repos/acme/access":          false,
		"/acme/access.git/../../etc/passwd":  false,
		"/acme/access.git/objects/..":        false,
		"//acme/access.git/info/refs":        false,
		"/acme/access.git/info//refs":        false,
		"/acme/access.git/\\..\\x/info/refs": false,
	}
	for p, want := range tests {
		if got := isGitPath(p); got != want {
			t.Errorf("isGitPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// FuzzParseCodeowners feeds arbitrary CODEOWNERS text to the rule parser: it
// never panics, rules keep file order, and a compiled pattern never matches
// a path under a negated or bare "/" pattern (those yield no rule).
func FuzzParseCodeowners(f *testing.F) {
	f.Add("* @acme/db-owners\naccess/ @bob # x\n/build/logs/ @a\ndocs/* x@y.z\n**/logs @l\n!neg @n\n/ @root\n\\*.md @m\n")
	f.Add("[a-z] @x\n(((( @y\n\\ @z\n")
	f.Fuzz(func(t *testing.T, text string) {
		rules := parseCodeowners(text)
		for i := 1; i < len(rules); i++ {
			if rules[i].line <= rules[i-1].line {
				t.Errorf("rules out of order: %d after %d", rules[i].line, rules[i-1].line)
			}
		}
		for _, r := range rules {
			_ = r.re.MatchString("a/b/c")
		}
	})
}

func TestParseGitVersion(t *testing.T) {
	tests := map[string]struct {
		major, minor int
		ok           bool
	}{
		"git version 2.39.5\n":                   {2, 39, true},
		"git version 2.38.0.windows.1":           {2, 38, true},
		"git version 2.37.1 (Apple Git-137.1)\n": {2, 37, true},
		"git version 3.0":                        {3, 0, true},
		"hg version 2.39":                        {0, 0, false},
		"git version two":                        {0, 0, false},
		"git version -1.2":                       {0, 0, false},
		"git version +2.40":                      {0, 0, false},
		"":                                       {0, 0, false},
	}
	for in, want := range tests {
		major, minor, ok := parseGitVersion(in)
		if major != want.major || minor != want.minor || ok != want.ok {
			t.Errorf("parseGitVersion(%q) = %d, %d, %v; want %d, %d, %v", in, major, minor, ok, want.major, want.minor, want.ok)
		}
	}
}

// FuzzParseDiff feeds arbitrary diff-tree output to the parser: it never
// panics and every file it reports has a path and a known status.
func FuzzParseDiff(f *testing.F) {
	f.Add(":000000 100644 0000000000000000000000000000000000000000 d95f3ad14dee633a758d2e331151e950dd13e4ed A\x00access/a.yaml\x00" +
		":100644 000000 d95f3ad14dee633a758d2e331151e950dd13e4ed 0000000000000000000000000000000000000000 D\x00b\x001\t0\taccess/a.yaml\x000\t1\tb\x00")
	f.Add(":100644 100644 a b M\x00bin\x00-\t-\tbin\x00")
	f.Add(":x\x00\x00:\x00")
	f.Fuzz(func(t *testing.T, out string) {
		for _, fc := range parseDiff(out) {
			if fc.status != "added" && fc.status != "removed" && fc.status != "modified" {
				t.Errorf("status %q", fc.status)
			}
		}
	})
}

// FuzzParsePatches feeds arbitrary patch output to the splitter: it never
// panics and every patch starts at a hunk header.
func FuzzParsePatches(f *testing.F) {
	f.Add("diff --git a/x b/x\nnew file mode 100644\nindex 0000000..d95f3ad\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+a\n" +
		"diff --git a/y b/y\ndeleted file mode 100644\n--- a/y\n+++ /dev/null\n@@ -1 +0,0 @@\n-b\n\\ No newline at end of file\n")
	f.Add("diff --git a/b b/b\nBinary files a/b and b/b differ\n")
	f.Fuzz(func(t *testing.T, out string) {
		for path, p := range parsePatches(out) {
			if !strings.HasPrefix(p, "@@") {
				t.Errorf("patch for %q does not start at a hunk: %q", path, p)
			}
		}
	})
}

func TestParsePatches(t *testing.T) {
	out := "diff --git a/x b/x\nnew file mode 100644\nindex 0000000..d95f3ad\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+a\n" +
		"diff --git a/y b/y\ndeleted file mode 100644\n--- a/y\n+++ /dev/null\n@@ -1 +0,0 @@\n-b\n\\ No newline at end of file\n" +
		"diff --git a/bin b/bin\nBinary files a/bin and b/bin differ\n"
	got := parsePatches(out)
	want := map[string]string{"x": "@@ -0,0 +1 @@\n+a", "y": "@@ -1 +0,0 @@\n-b\n\\ No newline at end of file"}
	if len(got) != len(want) || got["x"] != want["x"] || got["y"] != want["y"] {
		t.Errorf("parsePatches = %q, want %q", got, want)
	}
}

// FuzzParseGitVersion: never panics; accepted versions are non-negative.
func FuzzParseGitVersion(f *testing.F) {
	f.Add("git version 2.39.5\n")
	f.Add("git version 2.38.0.windows.1")
	f.Add("git version -1.-2")
	f.Fuzz(func(t *testing.T, s string) {
		if major, minor, ok := parseGitVersion(s); ok && (major < 0 || minor < 0) {
			t.Errorf("parseGitVersion(%q) = %d.%d", s, major, minor)
		}
	})
}

// FuzzLabelNames feeds arbitrary label request bodies: a bare array, a
// bare string and {"labels": [...]} are accepted; anything else is a 422
// with GitHub's body, never a panic or a silent success.
func FuzzLabelNames(f *testing.F) {
	f.Add(`["bug","grant"]`)
	f.Add(`"bug"`)
	f.Add(`{"labels":["a",{"name":"b"}]}`)
	f.Add(`{"labels":[1]}`)
	f.Add(`42`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v3/repos/o/r/issues/1/labels", strings.NewReader(body))
		w := httptest.NewRecorder()
		c := &call{s: &Server{}, w: w, r: r, route: "POST /repos/{owner}/{repo}/issues/{issue_number}/labels"}
		_, ok := labelNames(c)
		if ok && w.Code != http.StatusOK {
			t.Errorf("accepted %q but answered %d", body, w.Code)
		}
		if !ok && w.Code != http.StatusBadRequest && w.Code != http.StatusUnprocessableEntity {
			t.Errorf("rejected %q with %d", body, w.Code)
		}
	})
}

// FuzzParseMutation feeds arbitrary GraphQL documents to the mutation
// finder: it never panics, and whatever it accepts names one of the two
// auto-merge mutations, occurring in the document as a whole word, and a
// variable that is a GraphQL name following "$" in the document.
func FuzzParseMutation(f *testing.F) {
	f.Add("mutation($input: EnablePullRequestAutoMergeInput!) { enablePullRequestAutoMerge(input: $input) { clientMutationId } }")
	f.Add("# c\n,mutation X { a: disablePullRequestAutoMerge ( input : $in ) { x } }")
	f.Add(`mutation { enablePullRequestAutoMerge(input: {pullRequestId: "x"}) { x } }`)
	f.Add("query { enablePullRequestAutoMerge(input: $i) }")
	f.Add("mutation { enablePullRequestAutoMergeX(input: $i) }")
	f.Add("mutation{enablePullRequestAutoMerge(input:$")
	f.Fuzz(func(t *testing.T, q string) {
		field, variable, err := parseMutation(q)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("empty error for %q", q)
			}
			return
		}
		if field != enableAutoMergeField && field != disableAutoMergeField {
			t.Errorf("accepted field %q from %q", field, q)
		}
		if name, _ := readName(variable, 0); variable == "" || name != variable || !strings.Contains(q, "$"+variable) {
			t.Errorf("accepted variable %q from %q", variable, q)
		}
	})
}
