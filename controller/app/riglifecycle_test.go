package app_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/appmetrics"
	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/coord"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/mirror"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// sshKeyPair makes an ed25519 key: its authorized_keys line and its
// private half in OpenSSH PEM.
func sshKeyPair(t testing.TB) (string, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))), pem.EncodeToMemory(block)
}

// startTarget starts the PostgreSQL cluster a lifecycle rig provisions on
// (database orders) and keeps terraform's state in (database jitstate),
// and points the templates' PG* settings at it.
func (r *rig) startTarget() {
	t := r.t
	r.pg = pgtest.Start(t)
	r.pg.CreateDatabase(t, "orders")
	r.pg.Psql(t, "postgres", "CREATE DATABASE jitstate")
	// A grant's role may reach its own database only (the template checks).
	r.pg.Psql(t, "postgres", `SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', datname) FROM pg_database WHERE datallowconn \gexec`)
	for _, kv := range r.pg.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// now is the default-branch side's clock: real time moved by skew.
func (r *rig) now() time.Time { return time.Now().Add(time.Duration(r.skew.Load())) }

// advance moves the default-branch side's clock ahead by d.
func (r *rig) advance(d time.Duration) { r.skew.Add(int64(d)) }

// engine builds the default-branch side as jit serve does with --state pg:.
func (r *rig) engine(ctx context.Context, gh *ghapi.Client, branch string, log *slog.Logger) *lifecycle.Engine {
	t := r.t
	conn := r.pg.ConnString("jitstate")
	co, err := coord.OpenPostgres(ctx, conn, render.DefaultSchema, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { co.Close() })
	e, err := lifecycle.New(lifecycle.Config{
		Branch: branch, Signer: r.key.Signer, GitHub: lifecycle.NewGitHub(gh, branch), Lock: co,
		Provision: provision.Config{
			Terraform: terraform.NewRunner(tftest.Path(t), log),
			Backend:   render.Backend{Kind: "pg", ConnStr: conn},
			WorkDir:   filepath.Join(r.dataDir, "work"),
		},
		NewState: true, Now: r.now, Logger: log, Metrics: appmetrics.Lifecycle{M: r.metrics},
		RetryBase: 200 * time.Millisecond, RetryMax: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// wantStory checks that the signed records on a fresh clone's main are
// want, oldest first, and that jit audit finds no anomaly; it returns the
// records.
func (r *rig) wantStory(want ...string) []string {
	r.t.Helper()
	got, tr := r.events()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		r.t.Errorf("records:\n got %q\nwant %q", got, want)
	}
	if len(tr.Anomalies) != 0 {
		r.t.Errorf("jit audit finds anomalies in the App's history: %+v", tr.Anomalies)
	}
	return got
}

// replica is another controller on the rig's state database: its own
// GitHub client, mirror and engine, as a second jit serve would have.
func (r *rig) replica(ctx context.Context) (*lifecycle.Engine, *mirror.Mirror) {
	t := r.t
	t.Helper()
	ea, _ := r.srv.App()
	gh, err := ghapi.New(ctx, ghapi.Config{APIURL: r.srv.APIURL, AppID: ea.ID, PrivateKeyPEM: ea.PrivateKeyPEM, Owner: org, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mirror.Open(ctx, mirror.Config{Dir: filepath.Join(t.TempDir(), "mirror"), URL: r.srv.GitURL(org, repo), Token: gh.Token})
	if err != nil {
		t.Fatal(err)
	}
	return r.engine(ctx, gh, "main", slog.New(slog.DiscardHandler)), m
}

// expire runs jit expire as the App against the rig (the Actions sweep),
// with its keys in files, the rig's terraform and args; it returns the
// exit code and what it printed.
func (r *rig) expire(ctx context.Context, args ...string) (int, string, string) {
	t := r.t
	t.Helper()
	ea, _ := r.srv.App()
	dir := t.TempDir()
	writeFile(t, dir, "app.pem", string(ea.PrivateKeyPEM))
	writeFile(t, dir, "signing", string(r.key.PEM))
	var out, errOut bytes.Buffer
	code := cli.Main(ctx, append([]string{"expire", "--api-url", r.srv.APIURL, "--app-id", fmt.Sprint(ea.ID),
		"--private-key", filepath.Join(dir, "app.pem"), "--repo", org + "/" + repo, "--signing-key", filepath.Join(dir, "signing"),
		"--data-dir", filepath.Join(dir, "data"), "--terraform", tftest.Path(t)}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}
