package cli_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/render"
	"golang.org/x/crypto/ssh"
)

// provNeedTerraform skips a test without terraform, except under CI=true.
// JIT_TEST_TERRAFORM names another binary to test with (e.g. terraform
// 1.5.7), passed to the commands as --terraform.
func provNeedTerraform(t *testing.T) {
	t.Helper()
	tftest.Path(t)
}

// provTemplateFiles reads a template directory into gittest files under
// templates/<name>/.
func provTemplateFiles(t *testing.T, src, name string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files["templates/"+name+"/"+e.Name()] = string(b)
	}
	return files
}

// provSSHKey makes an ed25519 key pair: the authorized_keys line and the
// private key in OpenSSH PEM form.
func provSSHKey(t *testing.T) (authorized string, private []byte) {
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
	return string(ssh.MarshalAuthorizedKey(sp)), pem.EncodeToMemory(block)
}

// provOpen decrypts a delivered credential with priv and parses it.
func provOpen(t *testing.T, ciphertext, priv []byte) credential.Payload {
	t.Helper()
	plain, err := credential.Decrypt(ciphertext, priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := credential.ParsePayload(plain)
	if err != nil {
		t.Fatalf("%v\n%s", err, plain)
	}
	return p
}

func provRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if tf := os.Getenv("JIT_TEST_TERRAFORM"); tf != "" && len(args) > 0 && (args[0] == "apply" || args[0] == "destroy" || args[0] == "reconcile") && !slices.Contains(args, "--terraform") {
		args = append(args, "--terraform", tf)
	}
	code := cli.Main(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const provAliceGrant = `template: postgres-role
requester: alice
duration: 2h
reason: Investigate stuck orders
ticket: INC-1
scope:
  database: orders
`

const provBobGrant = `template: postgres-role
requester: bob
duration: 30m
reason: Check a refund
scope:
  database: orders
  privileges: write
`

func provRoles(t *testing.T, c *pgtest.Cluster, like string) string {
	t.Helper()
	return c.Psql(t, "postgres", "SELECT coalesce(string_agg(rolname, ',' ORDER BY rolname), '') FROM pg_roles WHERE rolname LIKE '"+like+"'")
}

func TestReconcilePostgresRole(t *testing.T) {
	provNeedTerraform(t)
	c := pgtest.Start(t)
	c.CreateDatabase(t, "orders")
	c.Psql(t, "postgres", "CREATE DATABASE jitstate")
	// The operator's set-up step of templates/postgres-role: no database
	// may be connected to through PUBLIC.
	c.Psql(t, "postgres", `SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', datname) FROM pg_database WHERE datallowconn \gexec`)
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	// Real times: PostgreSQL enforces VALID UNTIL by its own clock, while
	// --now only moves jit's.
	t0 := time.Now().UTC().Truncate(time.Second).Add(-2 * time.Hour)
	repo, key := provAccessRepo(t, t0)
	t1 := t0.Add(2*time.Hour - time.Minute)
	provMerge(t, repo, key, t1, "access/prod/db/alice-inc-1.yaml", provAliceGrant)
	provMerge(t, repo, key, t1, "access/prod/db/bob-2.yaml", provBobGrant)
	repo.Checkout("main")

	dir := t.TempDir()
	keys, creds := filepath.Join(dir, "keys"), filepath.Join(dir, "creds")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	alicePub, alicePriv := provSSHKey(t)
	if err := os.WriteFile(filepath.Join(keys, "alice.pub"), []byte(alicePub), 0o600); err != nil {
		t.Fatal(err)
	}
	reconcile := func(now time.Time, more ...string) (int, string, string) {
		return provRun(t, append([]string{"reconcile", "--repo", repo.Dir, "--state", "pg:" + c.ConnString("jitstate"),
			"--work-dir", filepath.Join(dir, "work"), "--ssh-keys", keys, "--credentials-dir", creds,
			"--now", now.Format(time.RFC3339)}, more...)...)
	}

	// Pass 0: a state that never held a jit workspace while the branch has
	// grants is refused: it is more likely a wrong --state.
	code, out, errOut := reconcile(t1.Add(time.Minute))
	if code != cli.ExitProblems || !strings.Contains(errOut, "holds no jit workspace and never did, but") || !strings.Contains(errOut, "--new-state") || out != "" {
		t.Fatalf("pass 0 exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Pass 1: alice is applied; bob has no SSH key, so his grant is refused
	// (nobody could read the password) and the pass reports a failure.
	code, out, errOut = reconcile(t1.Add(time.Minute), "--new-state")
	if code != cli.ExitProblems {
		t.Fatalf("pass 1 exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, cli.ExitProblems, out, errOut)
	}
	for _, want := range []string{
		"apply   prod/db/alice-inc-1 (missing) (terraform_data.login, terraform_data.role)\n",
		"apply   prod/db/bob-2 (missing): FAILED: grant prod/db/bob-2: requester bob has no SSH public keys, so nobody could read the password template postgres-role would issue: add a key for bob (--ssh-keys DIR/bob.pub) and run again\n",
		"reconciled: 2 desired, 0 existed, 2 actions, 1 failed, 0 anomalies\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pass 1 output lacks %q:\n%s", want, out)
		}
	}
	ct, err := os.ReadFile(filepath.Join(creds, "prod/db/alice-inc-1.age"))
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(creds, "prod/db/alice-inc-1.age")); info.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", info.Mode().Perm())
	}
	cred := provOpen(t, ct, alicePriv)
	aliceRole := provRoles(t, c, "jit_prod_db_alice%")
	if aliceRole == "" || cred.Connection["role"] != aliceRole || cred.Connection["database"] != "orders" || cred.Connection["host"] != c.Host {
		t.Fatalf("role %q, credential %+v", aliceRole, cred.Connection)
	}
	if err := c.TryLogin("orders", aliceRole, cred.Password); err != nil {
		t.Errorf("alice cannot log in with her decrypted password: %v", err)
	}

	// Pass 2: bob's key is there now; only bob is applied.
	bobPub, _ := provSSHKey(t)
	if err := os.WriteFile(filepath.Join(keys, "bob.pub"), []byte("# bob's laptop\n"+bobPub), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = reconcile(t1.Add(2 * time.Minute))
	if code != cli.ExitOK || !strings.Contains(out, "apply   prod/db/bob-2 (missing)") || strings.Contains(out, "alice") {
		t.Fatalf("pass 2 exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Pass 3: nothing to do.
	code, out, errOut = reconcile(t1.Add(3 * time.Minute))
	if code != cli.ExitOK || out != "reconciled: 2 desired, 2 existed, 0 actions, 0 failed, 0 anomalies\n" {
		t.Fatalf("pass 3 exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if want := "jit reconcile: nothing to do: the 2 unexpired grants at " + repo.Head("main").String()[:12] + " are applied already\n"; errOut != want {
		t.Errorf("pass 3 stderr %q, want %q", errOut, want)
	}

	// Pass 3b: alice's grant is extended to 3h (an edit of duration): it is
	// applied again with the new expiry, and the same password (nothing is
	// delivered again).
	provMerge(t, repo, key, t1.Add(4*time.Minute), "access/prod/db/alice-inc-1.yaml", strings.Replace(provAliceGrant, "duration: 2h", "duration: 3h", 1))
	repo.Checkout("main")
	code, out, errOut = reconcile(t1.Add(5 * time.Minute))
	if code != cli.ExitOK || out != "apply   prod/db/alice-inc-1 (extended) (terraform_data.login)\nreconciled: 2 desired, 2 existed, 1 action, 0 failed, 0 anomalies\n" {
		t.Fatalf("pass 3b exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The extension's expiry is the signed one: 3h counted from its merge.
	until := c.Psql(t, "postgres", "SELECT to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pg_roles WHERE rolname = '"+aliceRole+"'")
	if want := t1.Add(4*time.Minute + 3*time.Hour).Format(time.RFC3339); until != want {
		t.Errorf("alice's role is valid until %s, want %s", until, want)
	}
	if again, err := os.ReadFile(filepath.Join(creds, "prod/db/alice-inc-1.age")); err != nil || !bytes.Equal(again, ct) {
		t.Errorf("the extension delivered a new credential (%v)", err)
	}
	if err := c.TryLogin("orders", aliceRole, cred.Password); err != nil {
		t.Errorf("alice cannot log in with her password after the extension: %v", err)
	}

	// Drift: the role dropped by hand and bob's expiry moved to infinity;
	// a plain pass does not look, a drift pass puts both back, and alice's
	// password still works (nothing is issued or delivered again).
	c.Psql(t, "postgres", "DROP ROLE \""+aliceRole+"\"")
	bobRole := provRoles(t, c, "jit_prod_db_bob%")
	c.Psql(t, "postgres", "ALTER ROLE \""+bobRole+"\" VALID UNTIL 'infinity'")
	code, out, errOut = reconcile(t1.Add(6*time.Minute), "--drift")
	if code != cli.ExitOK || !strings.Contains(out, "reassert prod/db/alice-inc-1 (drift)") || !strings.Contains(out, "reassert prod/db/bob-2 (drift)") {
		t.Fatalf("drift pass exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if err := c.TryLogin("orders", aliceRole, cred.Password); err != nil {
		t.Errorf("alice cannot log in after the drift pass re-created her role: %v", err)
	}
	bobUntil := c.Psql(t, "postgres", "SELECT to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pg_roles WHERE rolname = '"+bobRole+"'")
	if want := t1.Add(30 * time.Minute).Format(time.RFC3339); bobUntil != want {
		t.Errorf("bob's role is valid until %s after the drift pass, want %s", bobUntil, want)
	}
	if again, err := os.ReadFile(filepath.Join(creds, "prod/db/alice-inc-1.age")); err != nil || !bytes.Equal(again, ct) {
		t.Errorf("the drift pass delivered a new credential (%v)", err)
	}

	// A grant pushed straight to the branch, dated 2099, is never applied:
	// the pass reports it and exits 1, and nothing else changes.
	repo.Commit("main", "mallory", "add my grant", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), map[string]string{
		"access/prod/db/mallory-1.yaml": strings.Replace(provAliceGrant, "alice", "mallory", 1),
	})
	repo.Checkout("main")
	code, out, errOut = reconcile(t1.Add(7 * time.Minute))
	if code != cli.ExitProblems || !strings.Contains(errOut, "access/prod/db/mallory-1.yaml: not-merged at commit") || out != "reconciled: 2 desired, 2 existed, 0 actions, 0 failed, 1 anomaly\n" {
		t.Fatalf("direct push pass exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if r := provRoles(t, c, "jit_prod_db_mallory%"); r != "" {
		t.Errorf("a role %s was made for a grant pushed straight to the branch", r)
	}
	repo.Commit("main", "admin", "remove it", t1.Add(8*time.Minute), map[string]string{"access/prod/db/mallory-1.yaml": ""})
	repo.Checkout("main")

	// Pass 4: bob's 30 minutes are over.
	code, out, errOut = reconcile(t1.Add(31 * time.Minute))
	if code != cli.ExitOK || out != "destroy prod/db/bob-2 (expired) (terraform_data.login, terraform_data.role)\nreconciled: 1 desired, 2 existed, 1 action, 0 failed, 0 anomalies\n" {
		t.Fatalf("pass 4 exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if r := provRoles(t, c, "jit_prod_db_bob%"); r != "" {
		t.Errorf("bob's role %s survived expiry", r)
	}

	// Pass 5: alice's file is deleted (early revocation).
	repo.Commit("main", "alice", "revoke", t1.Add(40*time.Minute), map[string]string{"access/prod/db/alice-inc-1.yaml": ""})
	repo.Checkout("main")
	code, out, errOut = reconcile(t1.Add(41 * time.Minute))
	if code != cli.ExitOK || out != "destroy prod/db/alice-inc-1 (removed) (terraform_data.login, terraform_data.role)\nreconciled: 0 desired, 1 existed, 1 action, 0 failed, 0 anomalies\n" {
		t.Fatalf("pass 5 exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if err := c.TryLogin("orders", aliceRole, cred.Password); err == nil {
		t.Error("alice can still log in after her grant was removed")
	}
	if r := provRoles(t, c, "jit_%"); r != "" {
		t.Errorf("roles left: %s", r)
	}
	code, out, errOut = reconcile(t1.Add(42 * time.Minute))
	if code != cli.ExitOK || out != "reconciled: 0 desired, 0 existed, 0 actions, 0 failed, 0 anomalies\n" {
		t.Errorf("final pass exit %d:\n%s", code, out)
	}
	// What the pass left alone is said, not silently skipped.
	if want := "jit reconcile: 1 grant has expired (prod/db/bob-2 at " + t1.Add(30*time.Minute).Format(time.RFC3339) + ") and was not applied; request access again with a new grant file\n" +
		"jit reconcile: nothing to do: none of the 1 verified grant at " + repo.Head("main").String()[:12] + " is unexpired\n"; errOut != want {
		t.Errorf("final pass stderr:\n%s\nwant:\n%s", errOut, want)
	}
}

func TestApplyAndDestroyCommands(t *testing.T) {
	provNeedTerraform(t)
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	repo, key := provAccessRepoWith(t, t0.Add(-time.Hour), "../provision/testdata/repo/templates/data", "data")
	provMerge(t, repo, key, t0, "access/dev/a.yaml", "template: data\nrequester: alice\nduration: 1h\nreason: test\nscope:\n  value: \"a; $(id)\"\n")
	provMerge(t, repo, key, t0, "access/dev/old.yaml", "template: data\nrequester: alice\nduration: 1h\nreason: test\nscope:\n  value: old\n")
	repo.Commit("main", "mallory", "a broken grant", t0, map[string]string{"access/dev/bad.yaml": "template: data\nrequester: alice\nduration: forever\nreason: test\n"})
	repo.Checkout("main")
	dir := t.TempDir()
	common := []string{"--repo", repo.Dir, "--state", "local:" + filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work")}
	now := "--now=" + t0.Add(30*time.Minute).Format(time.RFC3339)

	code, out, errOut := provRun(t, append([]string{"apply", "--grant", "dev/a", now, "--new-state"}, common...)...)
	if code != cli.ExitOK || out != "applied dev/a until 2026-05-01T10:00:00Z (terraform_data.grant, terraform_data.second)\n" {
		t.Fatalf("apply exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "jit apply: not applied: access/dev/bad.yaml: invalid-file: access/dev/bad.yaml:3:11: ") {
		t.Errorf("the invalid grant file is not reported:\n%s", errOut)
	}
	code, out, errOut = provRun(t, append([]string{"apply", "--grant", "dev/missing", now}, common...)...)
	if code != cli.ExitProblems || !strings.Contains(errOut, "jit apply: grant dev/missing: no verified grant at ") {
		t.Errorf("apply of a missing grant exit %d:\n%s%s", code, out, errOut)
	}
	// An expired grant is not applied.
	code, out, _ = provRun(t, append([]string{"apply", "--grant", "dev/old", "--now=" + t0.Add(2*time.Hour).Format(time.RFC3339)}, common...)...)
	if code != cli.ExitOK || out != "skipped dev/old: expired at 2026-05-01T10:00:00Z\n" {
		t.Errorf("apply of an expired grant exit %d:\n%s", code, out)
	}
	// Without --grant, the expired grants are named, not silently skipped.
	code, out, _ = provRun(t, append([]string{"apply", "--now=" + t0.Add(2*time.Hour).Format(time.RFC3339)}, common...)...)
	if want := "2 grants have expired (dev/a at 2026-05-01T10:00:00Z, dev/old at 2026-05-01T10:00:00Z) and were not applied; request access again with a new grant file\n"; code != cli.ExitProblems || out != want {
		t.Errorf("apply after expiry exit %d:\n%s\nwant:\n%s", code, out, want)
	}

	destroy := append([]string{"destroy", "--grant", "dev/a"}, common[2:]...)
	destroy = append(destroy, "--repo", repo.Dir)
	code, out, errOut = provRun(t, destroy...)
	if code != cli.ExitOK || out != "destroyed dev/a (terraform_data.grant, terraform_data.second)\n" {
		t.Fatalf("destroy exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Destroying it again finds nothing: an error, not a success, saying
	// where it looked. Only dev/a was ever applied, so the state now holds
	// no grant workspace at all.
	state := filepath.Join(dir, "state")
	code, out, errOut = provRun(t, destroy...)
	if want := "jit destroy: state local:" + state + " holds no grant workspaces at all (every grant applied there was destroyed), so nothing named by --grant can be destroyed there: check that --state names the state the grants were applied with\n"; code != cli.ExitProblems || out != "" || errOut != want {
		t.Errorf("second destroy exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr %q", code, out, errOut, want)
	}
	// With another grant alive, an unknown id is an error naming the state
	// and the workspaces it looked for.
	if code, out, errOut := provRun(t, append([]string{"apply", "--grant", "dev/a", now}, common...)...); code != cli.ExitOK {
		t.Fatalf("re-apply exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = provRun(t, append([]string{"destroy", "--grant", "dev/nope", "--grant", "dev/a"}, common...)...)
	wantOut := "FAILED dev/nope: no workspace for this grant in state local:" + state + " (looked for " + render.WorkspaceName("dev/nope") + " and the older " + render.LegacyWorkspaceName("dev/nope") + "): check the grant id (its file's path below access/ without .yaml) and that --state names the state it was applied with; a grant destroyed before has no workspace either\n" +
		"destroyed dev/a (terraform_data.grant, terraform_data.second)\n"
	if code != cli.ExitProblems || out != wantOut {
		t.Errorf("destroy of an unknown and a live grant: exit %d\n%s\nwant:\n%s", code, out, wantOut)
	}
	// A state that was never used, e.g. a mistyped --state.
	code, _, errOut = provRun(t, "destroy", "--grant", "dev/a", "--repo", repo.Dir, "--state", "local:"+filepath.Join(dir, "typo"), "--work-dir", filepath.Join(dir, "work"))
	if want := " holds no grant workspaces at all and has never held one"; code != cli.ExitProblems || !strings.Contains(errOut, want) {
		t.Errorf("destroy in a fresh state: exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}
	// The whole branch: the broken file makes the exit status 1.
	if code, out, errOut := provRun(t, append([]string{"apply", now}, common...)...); code != cli.ExitProblems || !strings.Contains(out, "applied dev/old until") || !strings.Contains(errOut, "access/dev/bad.yaml") {
		t.Errorf("apply of every grant exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestProvisioningUsageErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"destroy without grant":   {[]string{"destroy"}, "jit destroy: name the grants to destroy with --grant ID\n"},
		"apply without state":     {[]string{"apply"}, "jit apply: --state is required: name the state the grants live in, local:DIR or pg:CONNSTR (the same for apply, destroy and reconcile)\n"},
		"destroy without state":   {[]string{"destroy", "--grant", "x"}, "jit destroy: --state is required: "},
		"reconcile without state": {[]string{"reconcile"}, "jit reconcile: --state is required: "},
		"bad state":               {[]string{"reconcile", "--state", "consul:x"}, `jit reconcile: --state "consul:x": unknown backend "consul", want local:DIR or pg:CONNSTR` + "\n"},
		"bad now":                 {[]string{"reconcile", "--now", "tomorrow"}, `jit reconcile: --now "tomorrow": want an RFC 3339 time such as 2026-05-01T12:00:00Z` + "\n"},
		"terraform missing":       {[]string{"apply", "--state", "local:x", "--terraform", "/nonexistent/terraform"}, "jit apply: terraform not found: install terraform ≥ 1.5 or pass --terraform PATH (--terraform /nonexistent/terraform: "},
		"bad concurrency":         {[]string{"apply", "--state", "local:x", "--concurrency", "0"}, "jit apply: --concurrency 0: want at least 1\n"},
		"bad log level":           {[]string{"destroy", "--grant", "x", "--log-level", "loud"}, `jit destroy: --log-level "loud": want debug, info, warn or error` + "\n"},
		"stray argument":          {[]string{"reconcile", "extra"}, `jit reconcile: unexpected argument "extra"` + "\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := provRun(t, tc.args...)
			if code != cli.ExitUsage || out != "" || !strings.HasPrefix(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and stderr starting %q", code, out, errOut, tc.want)
			}
		})
	}
}
