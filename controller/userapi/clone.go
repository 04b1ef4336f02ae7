package userapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Clone is the user's clone of the access repository, driven with the git
// binary. Its methods never change the working tree, the index or HEAD.
type Clone struct {
	// Dir is the top of the working tree.
	Dir string
	env []string
}

// OpenClone finds the git working tree containing dir.
func OpenClone(ctx context.Context, dir string) (*Clone, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("git is not on PATH: install git, which jit uses in your clone of the access repository")
	}
	g := &Clone{Dir: dir}
	top, err := g.git(ctx, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("--repo %s is not a clone of the access repository: %w", dir, err)
	}
	g.Dir = top
	return g, nil
}

// git runs git in the clone with stdin and returns its trimmed standard
// output, or an error carrying its standard error.
func (g *Clone) git(ctx context.Context, stdin []byte, args ...string) (string, error) {
	return g.gitEnv(ctx, nil, stdin, args...)
}

func (g *Clone) gitEnv(ctx context.Context, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.Dir}, args...)...)
	cmd.Env = append(append(append(os.Environ(), "GIT_OPTIONAL_LOCKS=0"), g.env...), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return strings.TrimSpace(out.String()), nil
}

// RemoteURL returns the URL of the origin remote.
func (g *Clone) RemoteURL(ctx context.Context) (string, error) {
	u, err := g.git(ctx, nil, "remote", "get-url", "origin")
	if err != nil {
		return "", fmt.Errorf("the clone %s has no origin remote (%w): add one, or pass --github-repo OWNER/NAME", g.Dir, err)
	}
	return u, nil
}

// ParseRemote returns the owner and name a remote URL names: its last two
// path segments, ".git" stripped. It accepts https://host/owner/name(.git),
// http://127.0.0.1:PORT/owner/name.git, ssh://git@host/owner/name.git and
// git@host:owner/name.git.
func ParseRemote(raw string) (owner, name string, err error) {
	p := raw
	if u, perr := url.Parse(raw); perr == nil && u.Scheme != "" && u.Host != "" {
		p = u.Path
	} else if at := strings.Index(raw, ":"); at > 0 && !strings.Contains(raw[:at], "/") {
		p = raw[at+1:] // scp-like git@host:owner/name
	}
	p = strings.TrimSuffix(strings.TrimSuffix(strings.Trim(p, "/"), ".git"), "/")
	parts := strings.Split(p, "/")
	if len(parts) < 2 || !segment(parts[len(parts)-2]) || !segment(parts[len(parts)-1]) {
		return "", "", fmt.Errorf("remote URL %q does not end in OWNER/NAME: pass --github-repo OWNER/NAME", raw)
	}
	return parts[len(parts)-2], parts[len(parts)-1], nil
}

func segment(s string) bool { return s != "" && s != "." && s != ".." }

// Authenticate lets git fetch from and push to origin with token when
// origin is an http(s) URL on the API's host (github.com for
// api.github.com). The token travels in the environment of git, never on
// its command line. Any other origin keeps the user's own git credentials.
// An origin on the API's host that is plain http on a host other than a
// loopback one (see Loopback) is an error: the token would cross a network
// in clear text.
func (g *Clone) Authenticate(ctx context.Context, token, apiHost string) error {
	raw, err := g.RemoteURL(ctx)
	if err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil
	}
	if !strings.EqualFold(u.Host, apiHost) && !(strings.EqualFold(apiHost, "api.github.com") && strings.EqualFold(u.Host, "github.com")) {
		return nil
	}
	if u.Scheme == "http" && !Loopback(u.Hostname()) {
		return fmt.Errorf("the origin remote of %s is plain http on %s: use https (git remote set-url origin https://...), since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)", g.Dir, u.Hostname())
	}
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	g.env = append(g.env, "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http."+u.Scheme+"://"+u.Host+"/.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+basic)
	return nil
}

// Fetch fetches origin's branches into refs/remotes/origin/.
func (g *Clone) Fetch(ctx context.Context) error {
	if _, err := g.git(ctx, nil, "fetch", "--quiet", "origin"); err != nil {
		return fmt.Errorf("fetching origin: %w", err)
	}
	return nil
}

// RemoteTip returns the commit origin's branch pointed at when last fetched.
func (g *Clone) RemoteTip(ctx context.Context, branch string) (string, error) {
	h, err := g.git(ctx, nil, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/"+branch+"^{commit}")
	if err != nil || h == "" {
		return "", fmt.Errorf("origin has no branch %s after fetching: check the origin remote of %s", branch, g.Dir)
	}
	return h, nil
}

// FileChange is one file a commit writes (Data) or deletes (Delete).
type FileChange struct {
	Path   string
	Data   []byte
	Delete bool
}

// Identity is a commit's author and committer.
type Identity struct{ Name, Email string }

// Commit writes a commit whose parent is parent and whose tree is parent's
// with changes applied, built in a temporary index, and returns its hash.
// The commit is not on any branch. When the user has no git identity
// configured, fallback is the author and committer.
func (g *Clone) Commit(ctx context.Context, parent string, changes []FileChange, message string, fallback Identity) (string, error) {
	dir, err := os.MkdirTemp("", "jit-index-")
	if err != nil {
		return "", fmt.Errorf("making a temporary index: %w", err)
	}
	defer os.RemoveAll(dir)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(dir, "index")}
	if _, err := g.gitEnv(ctx, env, nil, "read-tree", parent); err != nil {
		return "", err
	}
	for _, c := range changes {
		if c.Delete {
			if _, err := g.gitEnv(ctx, env, nil, "update-index", "--force-remove", "--", c.Path); err != nil {
				return "", err
			}
			continue
		}
		blob, err := g.git(ctx, c.Data, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		if _, err := g.gitEnv(ctx, env, nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+c.Path); err != nil {
			return "", err
		}
	}
	tree, err := g.gitEnv(ctx, env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	if name, _ := g.git(ctx, nil, "config", "user.name"); name == "" {
		env = append(env, "GIT_AUTHOR_NAME="+fallback.Name, "GIT_COMMITTER_NAME="+fallback.Name)
	}
	if email, _ := g.git(ctx, nil, "config", "user.email"); email == "" {
		env = append(env, "GIT_AUTHOR_EMAIL="+fallback.Email, "GIT_COMMITTER_EMAIL="+fallback.Email)
	}
	return g.gitEnv(ctx, env, []byte(message), "commit-tree", tree, "-p", parent, "-F", "-")
}

// Push creates branch on origin at commit. It never overwrites: a branch
// that already exists there is an error.
func (g *Clone) Push(ctx context.Context, commit, branch string) error {
	if _, err := g.git(ctx, nil, "push", "--quiet", "--porcelain", "--force-with-lease=refs/heads/"+branch+":", "origin", commit+":refs/heads/"+branch); err != nil {
		return fmt.Errorf("pushing branch %s to origin (delete it there if it is left from an earlier attempt): %w", branch, err)
	}
	return nil
}
