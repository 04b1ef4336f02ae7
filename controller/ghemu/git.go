package ghemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// gitRepo runs the git CLI against one bare repository. Arguments are passed
// as argv, never through a shell; messages go through stdin.
type gitRepo struct {
	dir string
}

// signature is a git author or committer.
type signature struct {
	name  string
	email string
	when  time.Time
}

// gitEnv is the environment every git command runs with: no user or system
// configuration leaks in.
func gitEnv(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	return append(env, extra...)
}

// gitError is a failed git command with its stderr.
type gitError struct {
	args   []string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: exit %d: %s", strings.Join(e.args, " "), e.code, strings.TrimSpace(e.stderr))
}

func (g *gitRepo) run(ctx context.Context, stdin []byte, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = gitEnv(env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), &gitError{args: args, code: ee.ExitCode(), stderr: errb.String()}
		}
		return nil, fmt.Errorf("running git %s: %w", args[0], err)
	}
	return out.Bytes(), nil
}

// checkGitVersion fails unless git is at least 2.38, the first release with
// `git merge-tree --write-tree`, which merges need.
func checkGitVersion(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "git", "version").Output()
	if err != nil {
		return fmt.Errorf("ghemu needs the git CLI on PATH: %w", err)
	}
	major, minor, ok := parseGitVersion(string(out))
	if !ok {
		return fmt.Errorf("ghemu: cannot read the git version from %q", strings.TrimSpace(string(out)))
	}
	if major < 2 || major == 2 && minor < 38 {
		return fmt.Errorf("ghemu needs git 2.38 or later (for merge-tree --write-tree), found %d.%d; install a newer git", major, minor)
	}
	return nil
}

// parseGitVersion reads "git version 2.39.5" (and vendor suffixes).
func parseGitVersion(s string) (major, minor int, ok bool) {
	f := strings.Fields(s)
	if len(f) < 3 || f[0] != "git" || f[1] != "version" {
		return 0, 0, false
	}
	parts := strings.SplitN(f[2], ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" && len(s) < 6 }
	if !digits(parts[0]) || !digits(parts[1]) {
		return 0, 0, false
	}
	major, _ = strconv.Atoi(parts[0])
	minor, _ = strconv.Atoi(parts[1])
	return major, minor, true
}

func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.code
	}
	return -1
}

func (g *gitRepo) initBare(ctx context.Context, branch string) error {
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return err
	}
	if _, err := g.run(ctx, nil, nil, "init", "--bare", "--quiet", "--initial-branch="+branch); err != nil {
		return err
	}
	if _, err := g.run(ctx, nil, nil, "config", "http.receivepack", "true"); err != nil {
		return err
	}
	_, err := g.run(ctx, nil, nil, "config", "receive.denyDeleteCurrent", "warn")
	return err
}

// seedCommit commits the directory tree dir (may be empty) plus files onto
// branch as one root commit.
func (g *gitRepo) seedCommit(ctx context.Context, branch, dir string, files map[string]string, msg string, who signature) (string, error) {
	idx, err := os.CreateTemp("", "ghemu-index-*")
	if err != nil {
		return "", err
	}
	idx.Close()
	os.Remove(idx.Name())
	defer os.Remove(idx.Name())
	env := []string{"GIT_INDEX_FILE=" + idx.Name()}
	if dir != "" {
		if _, err := g.run(ctx, nil, env, "--work-tree="+dir, "add", "--all", "--force", "."); err != nil {
			return "", fmt.Errorf("adding content from %s: %w", dir, err)
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		sha, err := g.writeBlob(ctx, []byte(files[p]))
		if err != nil {
			return "", err
		}
		if _, err := g.run(ctx, nil, env, "update-index", "--add", "--cacheinfo", "100644,"+sha+","+p); err != nil {
			return "", fmt.Errorf("adding file %s: %w", p, err)
		}
	}
	out, err := g.run(ctx, nil, env, "write-tree")
	if err != nil {
		return "", err
	}
	tree := strings.TrimSpace(string(out))
	c, err := g.commitTree(ctx, tree, nil, msg, who, who)
	if err != nil {
		return "", err
	}
	return c, g.updateRef(ctx, "refs/heads/"+branch, c, "")
}

func (g *gitRepo) writeBlob(ctx context.Context, content []byte) (string, error) {
	out, err := g.run(ctx, content, nil, "hash-object", "-w", "--stdin")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func gitDate(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + " " + t.Format("-0700")
}

// commitTree writes a commit object with message msg kept byte for byte.
func (g *gitRepo) commitTree(ctx context.Context, tree string, parents []string, msg string, author, committer signature) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + author.name, "GIT_AUTHOR_EMAIL=" + author.email, "GIT_AUTHOR_DATE=" + gitDate(author.when),
		"GIT_COMMITTER_NAME=" + committer.name, "GIT_COMMITTER_EMAIL=" + committer.email, "GIT_COMMITTER_DATE=" + gitDate(committer.when),
	}
	out, err := g.run(ctx, []byte(msg), env, args...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// updateRef moves ref to sha if it still points at old ("" = must not
// exist): compare-and-swap.
func (g *gitRepo) updateRef(ctx context.Context, ref, sha, old string) error {
	if old == "" {
		old = zeroSHA
	}
	_, err := g.run(ctx, nil, nil, "update-ref", ref, sha, old)
	return err
}

// setRef points ref at sha whatever it pointed at before (for refs only
// the emulator moves, like refs/pull/N/head).
func (g *gitRepo) setRef(ctx context.Context, ref, sha string) error {
	_, err := g.run(ctx, nil, nil, "update-ref", ref, sha)
	return err
}

// pullHeadRef is the hidden ref GitHub keeps at a pull request's head.
func pullHeadRef(number int) string { return "refs/pull/" + strconv.Itoa(number) + "/head" }

// hiddenRef reports whether ref is one only GitHub itself writes
// (refs/pull/...): readable by fetch, refused to pushes and the refs API.
func hiddenRef(ref string) bool { return strings.HasPrefix(ref, "refs/pull/") }

func (g *gitRepo) deleteRef(ctx context.Context, ref, old string) error {
	_, err := g.run(ctx, nil, nil, "update-ref", "-d", ref, old)
	return err
}

const zeroSHA = "0000000000000000000000000000000000000000"

// refs lists every ref with the object it points to.
func (g *gitRepo) refs(ctx context.Context) (map[string]string, error) {
	out, err := g.run(ctx, nil, nil, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if sha, ref, ok := strings.Cut(line, " "); ok {
			m[ref] = sha
		}
	}
	return m, nil
}

// resolve turns a branch name, full ref or (abbreviated) SHA into a commit
// SHA; ok is false when nothing matches. Branches are read from the
// repository's files without running git (the hot path of most requests).
func (g *gitRepo) resolve(ctx context.Context, rev string) (string, bool) {
	if rev == "" || strings.HasPrefix(rev, "-") || strings.Contains(rev, "..") {
		return "", false
	}
	if strings.HasPrefix(rev, "refs/heads/") {
		return g.readRef(rev, 0)
	}
	if sha, ok := g.readRef("refs/heads/"+rev, 0); ok {
		return sha, true
	}
	if len(rev) == 40 && isHex(rev) {
		if g.objectType(ctx, rev) == "commit" {
			return rev, true
		}
		return "", false
	}
	out, err := g.run(ctx, nil, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

// readRef reads a branch ref from the repository's files: the loose ref,
// else packed-refs. git writes loose refs through a lock file and rename,
// so a reader sees the old or the new value, never a torn one.
func (g *gitRepo) readRef(name string, depth int) (string, bool) {
	if depth > 5 || !validRefName(name) {
		return "", false
	}
	b, err := os.ReadFile(filepath.Join(g.dir, filepath.FromSlash(name)))
	if err == nil {
		v := strings.TrimSpace(string(b))
		if target, ok := strings.CutPrefix(v, "ref: "); ok {
			return g.readRef(target, depth+1)
		}
		if len(v) == 40 && isHex(v) {
			return v, true
		}
		return "", false
	}
	packed, err := os.ReadFile(filepath.Join(g.dir, "packed-refs"))
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(packed), "\n") {
		if sha, ref, ok := strings.Cut(line, " "); ok && ref == name && len(sha) == 40 && isHex(sha) {
			return sha, true
		}
	}
	return "", false
}

// objectType returns "commit", "tree", "blob", "tag" or "" when missing.
func (g *gitRepo) objectType(ctx context.Context, sha string) string {
	if !isHex(sha) {
		return ""
	}
	out, err := g.run(ctx, nil, nil, "cat-file", "-t", sha)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func isHex(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (g *gitRepo) isAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := g.run(ctx, nil, nil, "merge-base", "--is-ancestor", a, b)
	if err == nil {
		return true, nil
	}
	if exitCode(err) == 1 {
		return false, nil
	}
	return false, err
}

func (g *gitRepo) mergeBase(ctx context.Context, a, b string) (string, error) {
	out, err := g.run(ctx, nil, nil, "merge-base", a, b)
	if err != nil {
		if exitCode(err) == 1 {
			return "", nil
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// mergeTree merges theirs into ours without touching refs; clean is false
// when the merge conflicts.
func (g *gitRepo) mergeTree(ctx context.Context, ours, theirs string) (tree string, clean bool, err error) {
	out, err := g.run(ctx, nil, nil, "merge-tree", "--write-tree", "--no-messages", "--allow-unrelated-histories", ours, theirs)
	first, _, _ := strings.Cut(string(out), "\n")
	switch exitCode(err) {
	case -1:
		if err != nil {
			return "", false, err
		}
		return strings.TrimSpace(first), true, nil
	case 1:
		return strings.TrimSpace(first), false, nil
	}
	return "", false, err
}

// commitInfo is a parsed commit object.
type commitInfo struct {
	sha       string
	tree      string
	parents   []string
	author    signature
	committer signature
	message   string
}

func (g *gitRepo) readCommit(ctx context.Context, sha string) (*commitInfo, error) {
	out, err := g.run(ctx, nil, nil, "cat-file", "commit", sha)
	if err != nil {
		return nil, err
	}
	return parseCommit(sha, out)
}

func parseCommit(sha string, raw []byte) (*commitInfo, error) {
	head, msg, _ := bytes.Cut(raw, []byte("\n\n"))
	c := &commitInfo{sha: sha, message: string(msg)}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "tree":
			c.tree = v
		case "parent":
			c.parents = append(c.parents, v)
		case "author":
			c.author = parseSignature(v)
		case "committer":
			c.committer = parseSignature(v)
		}
	}
	if c.tree == "" {
		return nil, fmt.Errorf("commit %s has no tree", sha)
	}
	return c, nil
}

// parseSignature parses "Name <email> 1700000000 +0100".
func parseSignature(v string) signature {
	lt := strings.LastIndex(v, "<")
	gt := strings.LastIndex(v, ">")
	if lt < 0 || gt < lt {
		return signature{name: v}
	}
	s := signature{name: strings.TrimSpace(v[:lt]), email: v[lt+1 : gt]}
	f := strings.Fields(v[gt+1:])
	if len(f) >= 1 {
		if sec, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			s.when = time.Unix(sec, 0).UTC()
			if len(f) == 2 {
				if tz, err := time.Parse("-0700", f[1]); err == nil {
					s.when = s.when.In(tz.Location())
				}
			}
		}
	}
	return s
}

// revList lists commits reachable from head but not from any of exclude,
// newest first (at most max when max > 0).
func (g *gitRepo) revList(ctx context.Context, head string, exclude []string, max int) ([]string, error) {
	args := []string{"rev-list"}
	if max > 0 {
		args = append(args, "--max-count="+strconv.Itoa(max))
	}
	args = append(args, head)
	for _, e := range exclude {
		if e != "" && e != zeroSHA {
			args = append(args, "^"+e)
		}
	}
	out, err := g.run(ctx, nil, nil, args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// treeEntry is one line of a tree listing.
type treeEntry struct {
	mode string
	typ  string
	sha  string
	size int64 // -1 for trees
	path string
}

// lsTree lists a tree (recursively when recursive), or the entry at path
// when path is given.
func (g *gitRepo) lsTree(ctx context.Context, treeish string, recursive bool, paths ...string) ([]treeEntry, error) {
	args := []string{"ls-tree", "-l", "-z", "--full-tree"}
	if recursive {
		args = append(args, "-r", "-t")
	}
	args = append(args, treeish)
	if len(paths) > 0 {
		args = append(append(args, "--"), paths...)
	}
	out, err := g.run(ctx, nil, nil, args...)
	if err != nil {
		return nil, err
	}
	var es []treeEntry
	for _, rec := range strings.Split(string(out), "\x00") {
		if rec == "" {
			continue
		}
		meta, path, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 4 {
			continue
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			size = -1
		}
		es = append(es, treeEntry{mode: f[0], typ: f[1], sha: f[2], size: size, path: path})
	}
	return es, nil
}

func (g *gitRepo) catBlob(ctx context.Context, sha string) ([]byte, error) {
	return g.run(ctx, nil, nil, "cat-file", "blob", sha)
}

// indexEdit is one change to a tree built through a temporary index.
type indexEdit struct {
	path   string
	mode   string
	sha    string // "" removes the path
	remove bool
}

// buildTree applies edits on top of base (a tree-ish; "" starts empty) and
// writes the resulting tree.
func (g *gitRepo) buildTree(ctx context.Context, base string, edits []indexEdit) (string, error) {
	dir, err := os.MkdirTemp("", "ghemu-index-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(dir, "index")}
	if base != "" {
		if _, err := g.run(ctx, nil, env, "read-tree", base); err != nil {
			return "", err
		}
	}
	var in strings.Builder
	for _, e := range edits {
		if e.remove {
			in.WriteString("0 " + zeroSHA + "\t" + e.path + "\x00")
			continue
		}
		in.WriteString(e.mode + " " + e.sha + "\t" + e.path + "\x00")
	}
	if in.Len() > 0 {
		if _, err := g.run(ctx, []byte(in.String()), env, "update-index", "-z", "--index-info"); err != nil {
			return "", err
		}
	}
	out, err := g.run(ctx, nil, env, "write-tree")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// fileChange is one file of a diff between two commits.
type fileChange struct {
	status    string // added, removed, modified, renamed
	path      string
	oldPath   string
	sha       string // blob sha after the change (before, for removals)
	additions int
	deletions int
	binary    bool
}

// diff lists the files that differ between trees a and b; with b empty, a
// is a range "base...head" (diffed against the merge base).
func (g *gitRepo) diff(ctx context.Context, a, b string) ([]fileChange, error) {
	args := []string{"diff-tree", "-r", "-z", "--no-commit-id", "--raw", "--numstat", "--no-renames", a, b}
	if b == "" {
		args = []string{"diff", "--no-ext-diff", "--no-textconv", "-z", "--raw", "--numstat", "--no-renames", a}
	}
	out, err := g.run(ctx, nil, nil, args...)
	if err != nil {
		return nil, err
	}
	return parseDiff(string(out)), nil
}

// parseDiff reads `git diff-tree -z --raw --numstat` output.
func parseDiff(out string) []fileChange {
	toks := strings.Split(out, "\x00")
	var files []fileChange
	byPath := map[string]int{}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, ":") {
			f := strings.Fields(t)
			if len(f) < 5 || i+1 >= len(toks) {
				continue
			}
			i++
			fc := fileChange{path: toks[i], sha: f[3]}
			switch f[4][0] {
			case 'A':
				fc.status = "added"
			case 'D':
				fc.status = "removed"
				fc.sha = f[2]
			default:
				fc.status = "modified"
			}
			byPath[fc.path] = len(files)
			files = append(files, fc)
			continue
		}
		// numstat: "added\tdeleted\tpath"
		f := strings.SplitN(t, "\t", 3)
		if len(f) != 3 {
			continue
		}
		if j, ok := byPath[f[2]]; ok {
			if f[0] == "-" {
				files[j].binary = true
				continue
			}
			files[j].additions, _ = strconv.Atoi(f[0])
			files[j].deletions, _ = strconv.Atoi(f[1])
		}
	}
	return files
}

// patches returns each text file's unified diff between a and b as GitHub
// shows it in "patch": from the first hunk header on, without the diff
// headers and the final newline. Binary files and paths git has to quote
// get no entry.
func (g *gitRepo) patches(ctx context.Context, a, b string) (map[string]string, error) {
	out, err := g.run(ctx, nil, nil, "-c", "core.quotePath=false", "diff-tree", "-r", "-p", "--no-commit-id",
		"--no-renames", "--no-color", "--no-ext-diff", a, b)
	if err != nil {
		return nil, err
	}
	return parsePatches(string(out)), nil
}

// parsePatches splits `git diff-tree -p` output into per-file patches.
func parsePatches(out string) map[string]string {
	m := map[string]string{}
	text := "\n" + out
	for _, chunk := range strings.Split(text, "\ndiff --git ")[1:] {
		var path string
		lines := strings.SplitAfter(chunk, "\n")
		hunk := -1
		for i, l := range lines {
			switch {
			case strings.HasPrefix(l, "--- a/") && path == "":
				path = strings.TrimSuffix(strings.TrimPrefix(l, "--- a/"), "\n")
			case strings.HasPrefix(l, "+++ b/"):
				path = strings.TrimSuffix(strings.TrimPrefix(l, "+++ b/"), "\n")
			case strings.HasPrefix(l, "@@"):
				hunk = i
			}
			if hunk >= 0 {
				break
			}
		}
		if path == "" || hunk < 0 {
			continue
		}
		m[path] = strings.TrimSuffix(strings.Join(lines[hunk:], ""), "\n")
	}
	return m
}
