package provision_test

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/target"
	"github.com/jitops/jit/controller/terraform"
)

// terraformPath returns the real terraform binary, skipping the test when
// there is none, except under CI=true where that is a failure.
func terraformPath(t testing.TB) string {
	t.Helper()
	return tftest.Path(t)
}

type env struct {
	t         testing.TB
	templates fs.FS
	backend   render.Backend
	work      string
	opts      []terraform.Option
	keys      provision.KeySource
	sink      provision.CredentialSink
	conc      int
	targets   *target.Set
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	return &env{
		t:         t,
		templates: os.DirFS("testdata/repo"),
		backend:   render.Backend{Kind: "local", Dir: filepath.Join(dir, "state")},
		work:      filepath.Join(dir, "work"),
		conc:      4,
	}
}

func (e *env) manager(opts ...terraform.Option) *provision.Manager {
	e.t.Helper()
	var log *slog.Logger
	if os.Getenv("JIT_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m, err := provision.New(provision.Config{
		Logger:      log,
		Terraform:   terraform.NewRunner(terraformPath(e.t), log, append(append([]terraform.Option{}, e.opts...), opts...)...),
		Backend:     e.backend,
		Templates:   e.templates,
		WorkDir:     e.work,
		Concurrency: e.conc,
		Keys:        e.keys,
		Sink:        e.sink,
		Targets:     e.targets,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

var expiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func dataGrant(id, value, markerDir string) grant.Request {
	return grant.Request{
		ID: id, File: "access/" + id + ".yaml", Template: "data", Requester: "alice", Duration: time.Hour,
		Scope: map[string]any{"value": value, "marker_dir": markerDir},
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// markerFile is where the data template records a live grant.
func markerFile(dir, id string) string {
	return filepath.Join(dir, filepath.Base(replaceSlashes(id)))
}

func replaceSlashes(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '/' {
			b[i] = '_'
		}
	}
	return string(b)
}

// keyDir is a KeySource over a fixed map and a CredentialSink that records
// what it was handed.
type memKeys map[string][]string

func (k memKeys) AuthorizedKeys(_ context.Context, login string) ([]string, error) {
	return k[login], nil
}

type memSink struct {
	mu  sync.Mutex
	got map[string][]byte
}

func (s *memSink) Deliver(_ context.Context, id string, ct []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string][]byte{}
	}
	s.got[id] = ct
	return nil
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
