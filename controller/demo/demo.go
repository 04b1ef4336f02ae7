// Package demo is make demo: a grant's whole life against jit dev, in
// about a minute. Run starts the sandbox (jit dev, in this process), then
// narrates and checks each step: alice's request with jit request, who may
// approve (as jit request tells her), her own approval refused, bob's
// approval, the signed merge, her credentials with jit credentials, her
// live grant with jit list --mine, the role logging in, the expiry, the
// login refused, the expiry pull request merged by auto-merge with jit's
// revocation record, jit audit show and git log of a fresh clone. A step
// that does not do what it narrates ends the run with an error naming it;
// the sandbox is stopped and its files removed either way.
//
// alice's commands run as a newcomer runs them: jit with her token and the
// sandbox's API URL in its environment, in her clone of acme/access, in a
// process of its own. That process is this program started again (see
// RunJitIfAsked), so the demo needs no go toolchain and no build, runs
// exactly the jit it was built with, and never sets alice's token in its
// own environment, which jit dev (running in this process) and the
// terraform it starts share.
package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jitops/jit/controller/internal/syncbuf"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/devsandbox"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/terraform"
)

// DefaultSkew is jit dev's --clock-skew for the demo: the shortest grant
// (1m) then lives 25 seconds, long enough for terraform to apply it and
// the demo to log in on a loaded machine, short enough for a demo.
const DefaultSkew = 35 * time.Second

// The demo's grant: alice reads the sandbox's orders database for the
// shortest duration there is.
const (
	grantID   = "sandbox/orders/alice-demo"
	grantFile = "access/" + grantID + ".yaml"
)

// requestArgs is alice's jit request.
var requestArgs = []string{"request", "--template", "postgres-role", "--scope", "database=orders", "--scope", "privileges=read",
	"--for", "1m", "--reason", "make demo: read the orders table", "--path", grantFile, "--no-prompt"}

// Options configure Run.
type Options struct {
	// Out receives the narration.
	Out io.Writer
	// Source is a directory inside the jit repository (jit dev --source).
	Source string
	// ClockSkew is jit dev's --clock-skew (0 means DefaultSkew).
	ClockSkew time.Duration
	// Patience scales every wait (0 means 1); tests on a loaded machine
	// give more.
	Patience float64
}

// demo is one run's state, filled in step by step.
type demo struct {
	Options
	ctx      context.Context
	start    time.Time
	dataDir  string // jit dev --data
	work     string // clones
	info     devsandbox.Info
	alice    devsandbox.User
	gh       *github.Client // as alice
	owner    string
	repo     string
	cloneDir string   // alice's clone of acme/access, where her jit commands run
	jitEnv   []string // their environment

	devLog *syncbuf.Buffer // jit dev's stderr, quoted when a step fails

	pr        int
	head      string
	approvers string // jit request's who-may-approve lines
	login     login
	expiry    int // the expiry pull request
}

// login is what jit credentials printed to connect with.
type login struct {
	url, password string
	expires       time.Time
}

// Run starts jit dev, runs every step and stops jit dev again. Its error
// names the step that failed.
func Run(ctx context.Context, o Options) (err error) {
	if o.ClockSkew == 0 {
		o.ClockSkew = DefaultSkew
	}
	if o.Patience == 0 {
		o.Patience = 1
	}
	d := &demo{Options: o, ctx: ctx, start: time.Now()}
	if !canRunJit.Load() {
		return errors.New("step 0 (start jit dev): the demo runs jit by starting this program again, and this program does not call demo.RunJitIfAsked first thing in main (or TestMain)")
	}
	// jit dev's App runs terraform; without it the demo would wait a
	// minute at step 6 to say so.
	if _, _, err := terraform.Find(os.Getenv("JIT_TERRAFORM")); err != nil {
		return fmt.Errorf("step 0 (start jit dev): %w; install terraform 1.5 or later (.ci/run does)", err)
	}
	tmp, err := os.MkdirTemp("", "jit-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	d.dataDir, d.work = filepath.Join(tmp, "dev"), filepath.Join(tmp, "work")
	for _, dir := range []string{d.dataDir, d.work} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
	}
	stopDev, err := d.startDev()
	if err != nil {
		return fmt.Errorf("step 0 (start jit dev): %w", err)
	}
	defer func() {
		if serr := stopDev(); serr != nil && err == nil {
			err = fmt.Errorf("stopping jit dev: %w", serr)
		}
	}()
	steps := []struct {
		title string
		run   func() error
	}{
		{"alice asks for read access to the orders database", d.stepRequest},
		{"jit explains who may approve", d.stepWhoMayApprove},
		{"alice approves her own request: refused", d.stepSelfApproval},
		{"bob (@acme/dba) approves", d.stepApprove},
		{"jit merges, with its decision signed into the merge commit", d.stepMerged},
		{"jit applies the grant and alice decrypts her credentials", d.stepCredentials},
		{"alice lists her live grants", d.stepList},
		{"the role logs in", d.stepLogin},
		{"the grant expires and jit destroys the role", d.stepExpiry},
		{"the login is refused", d.stepLoginRefused},
		{"the expiry pull request is merged by auto-merge, and jit records the revocation", d.stepExpiryMerged},
		{"jit audit show " + grantID + " (from git alone)", d.stepAudit},
		{"git log of a fresh clone", d.stepGitLog},
	}
	for i, s := range steps {
		d.say("\n[%4.1fs] %d. %s\n", time.Since(d.start).Seconds(), i+1, s.title)
		if err := s.run(); err != nil {
			return fmt.Errorf("step %d (%s): %w\n\njit dev's log:\n%s", i+1, s.title, err, tail(d.devLog.String()))
		}
	}
	d.say("\nDone in %s: requested, approved, merged, applied, used, expired, destroyed and recorded in git.\n", time.Since(d.start).Round(time.Second))
	return nil
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.Out, format, args...) }

// note prints an indented line of narration.
func (d *demo) note(format string, args ...any) {
	for _, l := range strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
		fmt.Fprintf(d.Out, "     %s\n", l)
	}
}

// tail is the end of s, for quoting logs in an error.
func tail(s string) string {
	if len(s) > 3000 {
		s = "…" + s[len(s)-3000:]
	}
	return s
}

// startDev runs `jit dev` in this process, as the command line would, and
// waits until it serves. stop interrupts it and waits for its clean-up.
func (d *demo) startDev() (stop func() error, err error) {
	ctx, cancel := context.WithCancel(d.ctx)
	var out, errOut syncbuf.Buffer
	d.devLog = &errOut
	done := make(chan int, 1)
	args := []string{"dev", "--data", d.dataDir, "--source", d.Source, "--clock-skew", d.ClockSkew.String()}
	d.say("Starting the sandbox: jit %s\n", strings.Join(args, " "))
	go func() { done <- cli.Main(ctx, args, &out, &errOut) }()
	stop = func() error {
		cancel()
		if code := <-done; code != cli.ExitOK {
			return fmt.Errorf("jit dev exited %d:\n%s", code, tail(errOut.String()))
		}
		return nil
	}
	err = d.wait("jit dev to serve", 60*time.Second, func() (bool, error) {
		select {
		case code := <-done:
			done <- code
			return false, fmt.Errorf("jit dev exited %d:\n%s", code, tail(errOut.String()))
		default:
		}
		info, err := devsandbox.ReadInfo(d.dataDir)
		if err != nil || info.AppURL == "" {
			return false, nil
		}
		d.info = info
		return true, nil
	})
	if err != nil {
		cancel()
		<-done
		return nil, err
	}
	if d.info.Postgres == "" {
		stop()
		return nil, fmt.Errorf("jit dev has no PostgreSQL (the server binaries are not installed), so no grant can be applied; install the postgresql package:\n%s", tail(out.String()))
	}
	d.alice, _ = d.info.User("alice")
	base, err := url.Parse(d.info.APIURL)
	if err != nil {
		stop()
		return nil, err
	}
	d.gh = github.NewClient(nil).WithAuthToken(d.alice.Token)
	d.gh.BaseURL = base
	d.owner, d.repo, _ = strings.Cut(d.info.Repo, "/")
	d.note("GitHub (emulated) at %s, the jit App at %s, PostgreSQL at %s", d.info.APIURL, d.info.AppURL, d.info.Postgres)
	d.note("GitHub's clock runs %s behind, so the 1m grant lives %s", d.ClockSkew, time.Minute-d.ClockSkew)
	return stop, nil
}

// wait polls cond until it holds, showing progress, for at most limit
// (times Patience). cond's error ends the wait.
func (d *demo) wait(what string, limit time.Duration, cond func() (bool, error)) error {
	limit = time.Duration(float64(limit) * d.Patience)
	start := time.Now()
	fmt.Fprintf(d.Out, "     waiting for %s ", what)
	dots := 0
	for {
		ok, err := cond()
		if err != nil {
			fmt.Fprintln(d.Out)
			return err
		}
		if ok {
			fmt.Fprintf(d.Out, " %.1fs\n", time.Since(start).Seconds())
			return nil
		}
		if time.Since(start) > limit {
			fmt.Fprintln(d.Out)
			return fmt.Errorf("%s did not happen within %s", what, limit.Round(time.Second))
		}
		if n := int(time.Since(start) / time.Second); n > dots {
			fmt.Fprint(d.Out, strings.Repeat(".", n-dots))
			dots = n
		}
		select {
		case <-d.ctx.Done():
			fmt.Fprintln(d.Out)
			return d.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// git runs git in dir as user u (basic authentication with the user's
// token in an http.extraHeader given through the environment, never on the
// command line).
func (d *demo) git(dir string, u devsandbox.User, args ...string) (string, error) {
	cmd := exec.CommandContext(d.ctx, "git", args...)
	cmd.Dir = dir
	auth := base64.StdEncoding.EncodeToString([]byte(u.Login + ":" + u.Token))
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+auth,
		"GIT_AUTHOR_NAME="+u.Login, "GIT_AUTHOR_EMAIL="+u.Login+"@acme.example",
		"GIT_COMMITTER_NAME="+u.Login, "GIT_COMMITTER_EMAIL="+u.Login+"@acme.example")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// clone makes a fresh clone of the access repository as u under name.
func (d *demo) clone(u devsandbox.User, name string) (string, error) {
	dir := filepath.Join(d.work, name)
	_, err := d.git(d.work, u, "clone", "-q", d.info.GitURL, dir)
	return dir, err
}

// stepRequest has alice ask with jit request in her clone: it writes the
// grant file, pushes it on jit/request/<id> and opens the pull request.
func (d *demo) stepRequest() error {
	dir, err := d.clone(d.alice, "alice")
	if err != nil {
		return err
	}
	d.cloneDir = dir
	// Like anybody who commits, alice has her git identity set: the
	// e-mail of her GitHub account, so that GitHub links her commit to
	// her (jit merges only commits whose authors it can tell apart from
	// the reviewers).
	me, _, err := d.gh.Users.Get(d.ctx, "")
	if err != nil {
		return fmt.Errorf("reading alice's account: %w", err)
	}
	if me.GetEmail() == "" {
		return errors.New("alice's GitHub account has no public e-mail address to commit with")
	}
	for _, kv := range [][2]string{{"user.name", d.alice.Login}, {"user.email", me.GetEmail()}} {
		if _, err := d.git(dir, d.alice, "config", kv[0], kv[1]); err != nil {
			return err
		}
	}
	d.jitEnv = jitEnvironment(os.Environ(), d.alice.Token, d.info.APIURL)
	d.note("as alice, in her clone of %s (git identity %s <%s>), with GITHUB_TOKEN (her token) and JIT_GITHUB_URL=%s:",
		d.info.Repo, d.alice.Login, me.GetEmail(), d.info.APIURL)
	out, err := d.jit(requestArgs...)
	if err != nil {
		return err
	}
	first, rest, _ := strings.Cut(out, "\n")
	u, ok := strings.CutPrefix(first, "opened ")
	n, err := strconv.Atoi(path.Base(u))
	if !ok || err != nil {
		return fmt.Errorf("jit request's output does not start with \"opened\" and the pull request's URL:\n%s", out)
	}
	d.approvers = strings.TrimSpace(rest)
	pr, _, err := d.gh.PullRequests.Get(d.ctx, d.owner, d.repo, n)
	if err != nil {
		return fmt.Errorf("reading pull request #%d, which jit request opened: %w", n, err)
	}
	branch := "jit/request/" + grantID
	if pr.GetUser().GetLogin() != "alice" || pr.GetHead().GetRef() != branch {
		return fmt.Errorf("pull request #%d is %s's from %s; want alice's from %s", n, pr.GetUser().GetLogin(), pr.GetHead().GetRef(), branch)
	}
	d.pr, d.head = n, pr.GetHead().GetSHA()
	if _, err := d.git(dir, d.alice, "fetch", "-q", "origin", branch); err != nil {
		return err
	}
	yaml, err := d.git(dir, d.alice, "show", "FETCH_HEAD:"+grantFile)
	if err != nil {
		return err
	}
	if !strings.Contains(yaml, "requester: alice") {
		return fmt.Errorf("the grant file jit request pushed does not name alice as its requester:\n%s", yaml)
	}
	d.note("alice's pull request is #%d, from %s with %s:\n%s", d.pr, branch, grantFile, indent(yaml))
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// checkRun returns the head's latest check run called name (nil when none).
func (d *demo) checkRun(name string) (*github.CheckRun, error) {
	res, _, err := d.gh.Checks.ListCheckRunsForRef(d.ctx, d.owner, d.repo, d.head, &github.ListCheckRunsOptions{CheckName: github.String(name)})
	if err != nil {
		return nil, fmt.Errorf("listing check runs of %s: %w", d.head, err)
	}
	var latest *github.CheckRun
	for _, cr := range res.CheckRuns {
		if cr.GetName() == name && (latest == nil || cr.GetID() > latest.GetID()) {
			latest = cr
		}
	}
	return latest, nil
}

// approvalCheck waits for jit/approval on the head and returns it.
func (d *demo) approvalCheck(what string, ok func(*github.CheckRun) bool) (*github.CheckRun, error) {
	var cr *github.CheckRun
	err := d.wait(what, 30*time.Second, func() (bool, error) {
		c, err := d.checkRun("jit/approval")
		if err != nil || c == nil {
			return false, err
		}
		cr = c
		return ok(c), nil
	})
	return cr, err
}

func pending(cr *github.CheckRun) bool { return cr.GetStatus() != "completed" }

// stepWhoMayApprove quotes who jit request said may approve (bob, of
// @acme/dba, never alice) and waits for jit/validate to pass and
// jit/approval to wait for that approval.
func (d *demo) stepWhoMayApprove() error {
	d.note("jit request said:")
	for _, l := range strings.Split(d.approvers, "\n") {
		d.note("  > %s", l)
	}
	for _, u := range d.info.Users {
		if strings.Contains(d.approvers, "@"+devsandbox.Org+"/"+u.Team) {
			d.note("(@%s/%s is %s)", devsandbox.Org, u.Team, u.Login)
		}
	}
	if !strings.Contains(d.approvers, "@"+devsandbox.Org+"/dba") || !strings.Contains(d.approvers, "never the requester (alice)") {
		return fmt.Errorf("jit request does not say that @acme/dba may approve, never alice:\n%s", d.approvers)
	}
	if _, err := d.approvalCheck("jit/validate to pass", func(*github.CheckRun) bool {
		v, err := d.checkRun("jit/validate")
		return err == nil && v != nil && v.GetConclusion() == "success"
	}); err != nil {
		v, _ := d.checkRun("jit/validate")
		if v != nil {
			return fmt.Errorf("%w; jit/validate says %q:\n%s", err, v.GetOutput().GetTitle(), v.GetOutput().GetSummary())
		}
		return err
	}
	cr, err := d.approvalCheck("jit/approval", func(*github.CheckRun) bool { return true })
	if err != nil {
		return err
	}
	d.note("jit/approval agrees: %s", cr.GetOutput().GetTitle())
	if !pending(cr) {
		return fmt.Errorf("jit/approval is %s (%s) before anybody approved; want it pending", cr.GetStatus(), cr.GetConclusion())
	}
	return nil
}

// section is the part of s from the line from up to the line starting
// with to, trimmed (all of s when from is missing).
func section(s, from, to string) string {
	if i := strings.Index(s, from); i >= 0 {
		s = s[i:]
	}
	if i := strings.Index(s, "\n"+to); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// stepSelfApproval has alice approve her own request: GitHub refuses the
// review, and jit/approval stays pending.
func (d *demo) stepSelfApproval() error {
	_, _, err := d.gh.PullRequests.CreateReview(d.ctx, d.owner, d.repo, d.pr, &github.PullRequestReviewRequest{Event: github.String("APPROVE")})
	var ge *github.ErrorResponse
	if err == nil {
		return errors.New("GitHub accepted alice's approval of her own pull request")
	}
	if !errors.As(err, &ge) || ge.Response.StatusCode != 422 {
		return fmt.Errorf("alice's approval: %w; want GitHub's 422", err)
	}
	d.note("GitHub answers %d: %s", ge.Response.StatusCode, ge.Message)
	for _, e := range ge.Errors {
		d.note("  %s", e.Message)
	}
	// jit never counts a requester's approval either; its check stays
	// pending, saying what it waits for.
	time.Sleep(time.Second)
	cr, err := d.checkRun("jit/approval")
	if err != nil {
		return err
	}
	if cr == nil || !pending(cr) {
		return errors.New("jit/approval is no longer pending after alice's attempt")
	}
	d.note("jit/approval is still pending: %s", cr.GetOutput().GetTitle())
	// Had GitHub taken it, jit would not count it either; its check says so.
	for _, l := range strings.Split(cr.GetOutput().GetSummary(), "\n") {
		if strings.Contains(l, "is not a requester") {
			d.note("jit's own rule: an approval counts only from a reviewer who%s", strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "-"), ","))
			return nil
		}
	}
	return errors.New("jit/approval does not say that the requester's approval never counts")
}

// stepApprove approves as bob with jit dev approve.
func (d *demo) stepApprove() error {
	var out, errOut bytes.Buffer
	args := []string{"dev", "approve", fmt.Sprint(d.pr), "--as", "bob", "--data", d.dataDir}
	d.note("$ jit %s", strings.Join(args, " "))
	if code := cli.Main(d.ctx, args, &out, &errOut); code != cli.ExitOK {
		return fmt.Errorf("jit dev approve exited %d: %s", code, strings.TrimSpace(errOut.String()))
	}
	d.note("%s", strings.TrimSpace(out.String()))
	return nil
}

// stepMerged waits for jit's merge and shows its signed trailers.
func (d *demo) stepMerged() error {
	var pr *github.PullRequest
	err := d.wait("jit to merge #"+fmt.Sprint(d.pr), 30*time.Second, func() (bool, error) {
		p, _, err := d.gh.PullRequests.Get(d.ctx, d.owner, d.repo, d.pr)
		if err != nil {
			return false, err
		}
		if p.GetState() == "closed" && !p.GetMerged() {
			return false, fmt.Errorf("pull request #%d was closed without merging", d.pr)
		}
		pr = p
		return p.GetMerged(), nil
	})
	if err != nil {
		if cr, _ := d.checkRun("jit/approval"); cr != nil {
			err = fmt.Errorf("%w; jit/approval says %q:\n%s", err, cr.GetOutput().GetTitle(), cr.GetOutput().GetSummary())
		}
		return err
	}
	c, _, err := d.gh.Git.GetCommit(d.ctx, d.owner, d.repo, pr.GetMergeCommitSHA())
	if err != nil {
		return fmt.Errorf("reading the merge commit: %w", err)
	}
	d.note("merged by %s as %.12s", pr.GetMergedBy().GetLogin(), pr.GetMergeCommitSHA())
	var trailers []string
	for _, l := range strings.Split(c.GetMessage(), "\n") {
		if strings.HasPrefix(l, "Jit-") && !strings.HasPrefix(l, "Jit-Signature") {
			trailers = append(trailers, l)
		}
	}
	if len(trailers) == 0 || !strings.Contains(c.GetMessage(), "Jit-Signature") {
		return fmt.Errorf("the merge commit carries no signed Jit- trailers:\n%s", c.GetMessage())
	}
	d.note("%s\nJit-Signature: …", strings.Join(trailers, "\n"))
	return nil
}

// stepCredentials waits for jit's credentials comment on the pull request
// and has alice read it with jit credentials and her sandbox key.
func (d *demo) stepCredentials() error {
	// jit credentials trusts only the comment of the App that signed the
	// grant's activated record, so the demo waits for both.
	err := d.wait("terraform to apply the grant, jit to post the credentials and record the activation", 60*time.Second, func() (bool, error) {
		cs, _, err := d.gh.Issues.ListComments(d.ctx, d.owner, d.repo, d.pr, nil)
		if err != nil {
			return false, err
		}
		commented := false
		for _, c := range cs {
			commented = commented || strings.Contains(c.GetBody(), explain.CredentialsMarker)
		}
		if !commented {
			return false, nil
		}
		commits, _, err := d.gh.Repositories.ListCommits(d.ctx, d.owner, d.repo, &github.CommitsListOptions{SHA: devsandbox.DefaultBranch})
		if err != nil {
			return false, err
		}
		for _, c := range commits {
			if strings.HasPrefix(c.GetCommit().GetMessage(), "jit: activated "+grantID+"\n") {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	out, err := d.jit("credentials", grantID, "--identity", d.alice.Identity)
	if err != nil {
		return err
	}
	l, err := parseCredentials(out)
	if err != nil {
		return fmt.Errorf("jit credentials' output: %w", err)
	}
	d.login = l
	return nil
}

// parseCredentials reads the lines of jit credentials a person copies
// from: url, password and expires.
func parseCredentials(out string) (login, error) {
	var l login
	var expires string
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "url":
			l.url = v
		case "password":
			l.password = v
		case "expires":
			expires, _, _ = strings.Cut(v, " (")
		}
	}
	if !strings.HasPrefix(l.url, "postgresql://") || l.password == "" {
		return login{}, fmt.Errorf("no postgresql:// url and password in:\n%s", out)
	}
	t, err := time.Parse("2006-01-02 15:04:05 UTC", expires)
	if err != nil {
		return login{}, fmt.Errorf("the expiry %q: %w", expires, err)
	}
	l.expires = t
	return l, nil
}

// stepList shows alice's live grant with jit list --mine.
func (d *demo) stepList() error {
	out, err := d.jit("list", "--mine")
	if err != nil {
		return err
	}
	if !strings.Contains(out, grantID+" ") || !strings.Contains(out, "alice") {
		return fmt.Errorf("jit list --mine does not list %s as alice's", grantID)
	}
	return nil
}

// psql runs sql as the delivered role, as alice would with the url and
// password jit credentials printed.
func (d *demo) psql(sql string) (string, error) {
	cmd := exec.CommandContext(d.ctx, "psql", "-X", "-q", "-w", "-At", "-c", sql, d.login.url)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PGPASSWORD="+d.login.password, "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

const loginSQL = "SELECT current_user || ' reads ' || count(*) || ' order(s)' FROM orders"

// stepLogin logs in as the role and reads the orders table.
func (d *demo) stepLogin() error {
	out, err := d.psql(loginSQL)
	if err != nil {
		return fmt.Errorf("logging in with the delivered credential: %w", err)
	}
	d.note("psql: %s", out)
	return nil
}

// stepExpiry waits for the expiry and for jit's expiry pull request (opened
// once the role is destroyed).
func (d *demo) stepExpiry() error {
	at := d.login.expires
	d.note("the grant expires at %s, in %s", at.Format(time.TimeOnly), time.Until(at).Round(time.Second))
	d.note("(the expiry counts from GitHub's merge time, %s behind here; git's timeline will show the expiry that much early)", d.ClockSkew)
	if err := d.wait("the expiry", time.Until(at)+5*time.Second, func() (bool, error) { return !time.Now().Before(at), nil }); err != nil {
		return err
	}
	var expiry *github.PullRequest
	err := d.wait("jit to destroy the role and open the expiry pull request", 60*time.Second, func() (bool, error) {
		prs, _, err := d.gh.PullRequests.List(d.ctx, d.owner, d.repo, &github.PullRequestListOptions{State: "all"})
		if err != nil {
			return false, err
		}
		for _, p := range prs {
			if strings.HasPrefix(p.GetHead().GetRef(), "jit/expire/") && strings.Contains(p.GetHead().GetRef(), grantID) {
				expiry = p
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	d.expiry = expiry.GetNumber()
	d.note("#%d %q from %s", d.expiry, expiry.GetTitle(), expiry.GetHead().GetRef())
	return nil
}

// stepLoginRefused logs in again: PostgreSQL refuses.
func (d *demo) stepLoginRefused() error {
	var refusal error
	err := d.wait("the login to be refused", 30*time.Second, func() (bool, error) {
		_, refusal = d.psql(loginSQL)
		return refusal != nil, nil
	})
	if err != nil {
		return fmt.Errorf("%w: the expired role still logs in", err)
	}
	if !strings.Contains(refusal.Error(), "password authentication failed") {
		return fmt.Errorf("the login failed, but not as an expired grant does: %w", refusal)
	}
	d.note("psql: %s", refusal)
	d.note("(\"password authentication failed\" is how an expired grant looks: the role is gone, not the password wrong)")
	return nil
}

// stepExpiryMerged waits for GitHub's auto-merge of the expiry pull request.
func (d *demo) stepExpiryMerged() error {
	var by string
	err := d.wait(fmt.Sprintf("auto-merge of #%d", d.expiry), 60*time.Second, func() (bool, error) {
		p, _, err := d.gh.PullRequests.Get(d.ctx, d.owner, d.repo, d.expiry)
		if err != nil {
			return false, err
		}
		if p.GetState() == "closed" && !p.GetMerged() {
			return false, fmt.Errorf("the expiry pull request #%d was closed without merging", d.expiry)
		}
		by = p.GetMergedBy().GetLogin()
		return p.GetMerged(), nil
	})
	if err != nil {
		return err
	}
	d.note("#%d merged by %s: %s deleted from %s", d.expiry, by, grantFile, devsandbox.DefaultBranch)
	return d.wait("jit's signed revocation record on "+devsandbox.DefaultBranch, 30*time.Second, func() (bool, error) {
		cs, _, err := d.gh.Repositories.ListCommits(d.ctx, d.owner, d.repo, &github.CommitsListOptions{SHA: devsandbox.DefaultBranch})
		if err != nil {
			return false, err
		}
		for _, c := range cs {
			if strings.HasPrefix(c.GetCommit().GetMessage(), "jit: revoked "+grantID) {
				return true, nil
			}
		}
		return false, nil
	})
}

// stepAudit tells the grant's story from a fresh clone with jit audit show.
func (d *demo) stepAudit() error {
	dir, err := d.clone(d.alice, "audit")
	if err != nil {
		return err
	}
	var out, errOut bytes.Buffer
	args := []string{"audit", "show", grantID, "--repo", dir}
	d.note("$ jit %s", strings.Join(args, " "))
	if code := cli.Main(d.ctx, args, &out, &errOut); code != cli.ExitOK {
		return fmt.Errorf("jit audit show exited %d: %s%s", code, out.String(), errOut.String())
	}
	story := out.String()
	d.note("%s", story)
	for _, want := range []string{fmt.Sprintf("#%d", d.pr), "bob"} {
		if !strings.Contains(story, want) {
			return fmt.Errorf("the story does not mention %s", want)
		}
	}
	return nil
}

// stepGitLog shows the access repository's history.
func (d *demo) stepGitLog() error {
	dir, err := d.clone(d.alice, "log")
	if err != nil {
		return err
	}
	log, err := d.git(dir, d.alice, "log", "--format=%h %<(8,trunc)%an %s", devsandbox.DefaultBranch)
	if err != nil {
		return err
	}
	d.note("%s", log)
	for _, want := range []string{fmt.Sprintf("Merge pull request #%d", d.pr), "jit: activated " + grantID, "Expire " + grantID, "jit: revoked " + grantID} {
		if !strings.Contains(log, want) {
			return fmt.Errorf("the history lacks %q", want)
		}
	}
	return nil
}
