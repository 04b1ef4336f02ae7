package pass_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/pass"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/reconcile"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/terraform"
	"github.com/jitops/jit/controller/trailer"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The pass benchmarks run pass.Run over an access repository whose default
// branch holds n grants, each merged by its own pull request with a signed
// decision, on the pg state backend, with the real terraform:
//
//	go test ./controller/pass -run '^$' -bench . -benchtime 1x
//
// BenchmarkPassNothingToDo1000 measures a pass with 1,000 (JIT_BENCH_LIVE)
// live, completely applied grants (target: 2 s), which must run no
// terraform process. BenchmarkPassDestroyExpired measures a pass (NoApply,
// the default concurrency) at a time when all of its grants
// (JIT_BENCH_EXPIRED, default 100) have expired: each is destroyed through
// terraform; its metrics say, per terraform step, the seconds and the
// processes each grant cost.
//
// Setup applies benchReal grants through pass.Run and terraform and copies
// the first one's state for the others, with the grant id and the lineage
// replaced, straight into the states table (1,000 applies would take long).

const benchReal = 3

var benchT0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func BenchmarkPassNothingToDo1000(b *testing.B) {
	n := benchCount(b, "JIT_BENCH_LIVE", 1000)
	cfg := benchDeployment(b, n)
	cfg.Now = func() time.Time { return benchT0.Add(30 * time.Minute) }
	steps := newStepTimes()
	cfg.Provision.Terraform = terraform.NewRunner(cfg.Provision.Terraform.Path(), slog.New(steps.handler()))
	ctx := context.Background()
	for b.Loop() {
		rep, err := pass.Run(ctx, cfg, reconcile.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Grants) != n || len(rep.Actual) != n || len(rep.Result.Outcomes) != 0 || len(rep.Anomalies) != 0 {
			b.Fatalf("%d grants, %d workspaces, %d actions, %d anomalies; want %d, %d, 0, 0: %+v", len(rep.Grants), len(rep.Actual), len(rep.Result.Outcomes), len(rep.Anomalies), n, n, rep.Result.Outcomes)
		}
	}
	// Nothing to do costs no terraform process at all.
	if len(steps.count) != 0 {
		b.Errorf("a pass with nothing to do ran terraform: %v", steps.count)
	}
}

func BenchmarkPassDestroyExpired(b *testing.B) {
	n := benchCount(b, "JIT_BENCH_EXPIRED", 100)
	ctx := context.Background()
	steps := newStepTimes()
	for b.Loop() {
		b.StopTimer()
		cfg := benchDeployment(b, n)
		cfg.Provision.Terraform = terraform.NewRunner(cfg.Provision.Terraform.Path(), slog.New(steps.handler()))
		steps.reset()
		cfg.Now = func() time.Time { return benchT0.Add(13 * time.Hour) }
		b.StartTimer()
		start := time.Now()
		rep, err := pass.Run(ctx, cfg, reconcile.Options{NoApply: true})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		if err := rep.Result.Err(); err != nil {
			b.Fatal(err)
		}
		destroyed := 0
		for _, o := range rep.Result.Outcomes {
			if o.Action == reconcile.Destroy {
				destroyed++
			}
		}
		if destroyed != n {
			b.Fatalf("%d destroyed, want %d: %+v", destroyed, n, rep.Result.Outcomes)
		}
		b.ReportMetric(elapsed.Seconds()/float64(n), "s/grant")
		steps.report(b, n)
	}
}

// stepTimes adds up, per terraform step, the time the terraform runner
// reports ("terraform finished" at debug level), for the benchmarks to say
// where a grant's time goes.
type stepTimes struct {
	mu    sync.Mutex
	total map[string]time.Duration
	count map[string]int
}

func newStepTimes() *stepTimes {
	return &stepTimes{total: map[string]time.Duration{}, count: map[string]int{}}
}

func (s *stepTimes) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.total)
	clear(s.count)
}

// report adds a metric per step: its seconds per grant of n, and how many
// terraform processes of that step each grant cost.
func (s *stepTimes) report(b *testing.B, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for step, d := range s.total {
		name := strings.ReplaceAll(step, " ", "-")
		b.ReportMetric(d.Seconds()/float64(n), name+"-s/grant")
		b.ReportMetric(float64(s.count[step])/float64(n), name+"-runs/grant")
	}
}

// handler returns a slog handler feeding s.
func (s *stepTimes) handler() slog.Handler { return stepHandler{s: s} }

type stepHandler struct {
	s     *stepTimes
	attrs []slog.Attr
}

func (h stepHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h stepHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return stepHandler{s: h.s, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h stepHandler) WithGroup(string) slog.Handler { return h }

func (h stepHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "terraform finished" {
		return nil
	}
	var step string
	var elapsed time.Duration
	for _, a := range h.attrs {
		if a.Key == terraform.LogKeyStep {
			step = a.Value.String()
		}
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "elapsed" {
			elapsed = a.Value.Duration()
		}
		return true
	})
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.total[step] += elapsed
	h.s.count[step]++
	return nil
}

// benchCount is the number in the environment variable name, or def.
func benchCount(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || n < benchReal {
		b.Fatalf("%s=%q: want a number of grants, at least %d", name, s, benchReal)
	}
	return n
}

// benchDeployment builds an access repository with n live data grants and a
// pg state backend in which all of them are completely applied, and returns
// the pass configuration over both.
func benchDeployment(b *testing.B, n int) pass.Config {
	b.Helper()
	tf := tftest.Path(b)
	c := pgtest.Shared(b)
	db := fmt.Sprintf("state_pass_%d", time.Now().UnixNano())
	c.CreateDatabase(b, db)
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	repo, ids := benchRepo(b, n)
	// A clone that a controller reads is packed; gittest writes loose
	// objects only.
	for _, args := range [][]string{{"repack", "-a", "-d", "-q"}, {"prune-packed", "-q"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo.Dir}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	dir := b.TempDir()
	cfg := pass.Config{
		Repo:   repo.Dir,
		Branch: "main",
		Provision: provision.Config{
			Terraform: terraform.NewRunner(tf, nil),
			Backend:   render.Backend{Kind: "pg", ConnStr: c.ConnString(db)},
			WorkDir:   filepath.Join(dir, "work"),
		},
		Now:      func() time.Time { return benchT0.Add(30 * time.Minute) },
		NewState: true,
	}
	ctx := context.Background()
	rep, err := pass.Run(ctx, cfg, reconcile.Options{Grants: ids[:benchReal]})
	if err != nil {
		b.Fatal(err)
	}
	if err := rep.Result.Err(); err != nil || len(rep.Result.Outcomes) != benchReal {
		b.Fatalf("applying %d grants for real: %v, %+v", benchReal, err, rep.Result.Outcomes)
	}
	copyStates(b, cfg.Provision.Backend.ConnStr, ids[0], ids[benchReal:])
	cfg.NewState = false
	return cfg
}

// copyStates writes, for each of ids, a copy of the state of grant model's
// workspace with model's id replaced by the grant's and a lineage of its
// own, in one statement.
func copyStates(b *testing.B, connStr, model string, ids []string) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connStr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = render.WorkspaceName(id)
	}
	tag, err := conn.Exec(ctx, `INSERT INTO jit_state.states (name, data)
		SELECT u.name, replace(replace(s.data, $3, u.id), s.data::json->>'lineage', md5(u.id))
		FROM unnest($1::text[], $2::text[]) AS u(name, id), jit_state.states AS s
		WHERE s.name = $4`, names, ids, model, render.WorkspaceName(model))
	if err != nil || tag.RowsAffected() != int64(len(ids)) {
		b.Fatalf("copying the states: %v (%d rows)", err, tag.RowsAffected())
	}
}

// benchRepo is an access repository with the data template, a policy, a
// signing key and n grants team/gNNNN merged one pull request each, at
// benchT0 for 12 hours.
func benchRepo(b *testing.B, n int) (*gittest.Repo, []string) {
	b.Helper()
	repo := gittest.New(b)
	key := decisiontest.NewKey(b)
	files := map[string]string{
		"policies/all.hcl":    "policy \"all\" {\n  paths        = [\"access/**\"]\n  templates    = [\"data\"]\n  max_duration = \"24h\"\n  approvals    = 1\n}\n",
		".github/jit-signers": key.AllowedSigners(),
		".github/CODEOWNERS":  "/access/ @acme/dba\n",
	}
	src := "../provision/testdata/repo/templates/data"
	entries, err := os.ReadDir(src)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		files["templates/data/"+e.Name()] = string(body)
	}
	repo.Commit("main", "admin", "governance", benchT0.Add(-time.Hour), files)
	ids := make([]string, n)
	for i := range n {
		path := fmt.Sprintf("access/team/g%04d.yaml", i)
		content := "template: data\nrequester: alice\nduration: 12h\nreason: bench\nscope:\n  value: a\n"
		req, problems := request.Parse(path, []byte(content))
		if len(problems) > 0 {
			b.Fatal(problems)
		}
		ids[i] = req.ID
		pr := 100 + i
		head := repo.Commit(fmt.Sprintf("pr-%d", pr), "alice", "request "+req.ID, benchT0.Add(-time.Minute), map[string]string{path: content}, repo.Head("main"))
		key.Merge(b, repo, "main", benchT0, head, trailer.Decision{
			Grants: []string{req.ID}, RequestedBy: []string{"alice"}, ApprovedBy: []string{"dba-dan"},
			EligibleVia: []trailer.Via{{Login: "dba-dan", Owner: "@acme/dba"}}, Policies: []string{"all"},
			Duration: req.Duration, ExpiresAt: benchT0.Add(req.Duration), PullRequest: pr,
		})
	}
	return repo, ids
}
