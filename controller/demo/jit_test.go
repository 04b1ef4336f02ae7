package demo

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/syncbuf"

	"github.com/google/go-cmp/cmp"
)

// credentialsOutput is jit credentials' output for a postgres-role grant,
// as credential.Present prints it.
const credentialsOutput = `grant:     sandbox/orders/alice-demo (template postgres-role, for alice)
expires:   2026-11-30 06:30:33 UTC (in less than a minute)
password:  oXTvI5FG
url:       postgresql://jit_role@127.0.0.1:5432/orders
connect:   PGPASSWORD='oXTvI5FG' psql 'postgresql://jit_role@127.0.0.1:5432/orders'
           (or run psql 'postgresql://jit_role@127.0.0.1:5432/orders' and type the password when it asks)
after the expiry PostgreSQL answers ` + "`password authentication failed for user \"jit_role\"`" + `:
that means the grant expired, not that the password is wrong; ask for access again (jit request) or extend it before it ends (jit extend)
`

func TestParseCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      login
		wantErr   string
	}{
		{"postgres-role", credentialsOutput, login{url: "postgresql://jit_role@127.0.0.1:5432/orders", password: "oXTvI5FG",
			expires: time.Date(2026, 11, 30, 6, 30, 33, 0, time.UTC)}, ""},
		{"expired", strings.Replace(credentialsOutput, "(in less than a minute)", "(expired 2m ago: ask for access again)", 1),
			login{url: "postgresql://jit_role@127.0.0.1:5432/orders", password: "oXTvI5FG", expires: time.Date(2026, 11, 30, 6, 30, 33, 0, time.UTC)}, ""},
		{"no url (another template)", "grant:     x (template other, for alice)\nexpires:   2026-11-30 06:30:33 UTC (in 1m)\nhost: db\npassword: p\n",
			login{}, "no postgresql:// url and password in:"},
		{"no password", strings.Replace(credentialsOutput, "password:  oXTvI5FG\n", "", 1), login{}, "no postgresql:// url and password in:"},
		{"unreadable expiry", strings.Replace(credentialsOutput, "2026-11-30 06:30:33 UTC (in less than a minute)", "soon (unreadable: not an RFC 3339 time)", 1),
			login{}, `the expiry "soon": parsing time`},
		{"no expiry", strings.Replace(credentialsOutput, "expires:   2026-11-30 06:30:33 UTC (in less than a minute)\n", "", 1),
			login{}, `the expiry "": parsing time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCredentials(tc.out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(login{})); diff != "" {
				t.Errorf("parseCredentials (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseCredentials: whatever jit credentials prints, parseCredentials
// never panics, and what it accepts has a postgresql:// url, a password
// and an expiry.
func FuzzParseCredentials(f *testing.F) {
	f.Add(credentialsOutput)
	f.Add("url: postgresql://x\npassword: p\nexpires: 2026-01-02 03:04:05 UTC\n")
	f.Add("url:\npassword:\nexpires:")
	f.Add("")
	f.Fuzz(func(t *testing.T, out string) {
		l, err := parseCredentials(out)
		if err != nil {
			return
		}
		if !strings.HasPrefix(l.url, "postgresql://") || l.password == "" || l.expires.IsZero() {
			t.Errorf("accepted %q as %+v", out, l)
		}
	})
}

// TestJitEnvironment: alice's commands see her token and the sandbox's API
// URL, never the token, API, repository or git settings of whoever runs
// the demo, and the rest of the environment unchanged.
func TestJitEnvironment(t *testing.T) {
	base := []string{"PATH=/usr/bin", "HOME=/home/me", "GITHUB_TOKEN=mine", "GH_TOKEN=mine-too",
		"JIT_GITHUB_URL=https://api.github.com/", "JIT_GITHUB_REPO=me/access", "GIT_DIR=/elsewhere",
		"GIT_CONFIG_GLOBAL=/home/me/.gitconfig", asJitEnv + "=0", "GITHUB_TOKENS=kept"}
	got := jitEnvironment(base, "alice-token", "http://127.0.0.1:1/api/v3/")
	want := []string{"PATH=/usr/bin", "HOME=/home/me", "GITHUB_TOKENS=kept",
		asJitEnv + "=1", "GITHUB_TOKEN=alice-token", "JIT_GITHUB_URL=http://127.0.0.1:1/api/v3/",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jitEnvironment (-want +got):\n%s", diff)
	}
}

func TestShellWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"plain", []string{"request", "--for", "1m", "--scope", "database=orders", "--path", "access/sandbox/x.yaml"},
			"request --for 1m --scope database=orders --path access/sandbox/x.yaml"},
		{"spaces", []string{"--reason", "make demo: read it"}, "--reason 'make demo: read it'"},
		{"quote", []string{"--reason", "alice's"}, `--reason 'alice'\''s'`},
		{"empty", []string{"--ticket", ""}, "--ticket ''"},
		{"dollar", []string{"--reason", "$HOME"}, "--reason '$HOME'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shellWords(tc.args); got != tc.want {
				t.Errorf("shellWords(%q) = %s, want %s", tc.args, got, tc.want)
			}
		})
	}
}

// TestJitRunsThisProgramAsJit: d.jit starts this test binary again, which
// TestMain's RunJitIfAsked turns into jit: jit help answers, and a failing
// command is an error quoting what jit said, its output narrated.
func TestJitRunsThisProgramAsJit(t *testing.T) {
	var out syncbuf.Buffer
	d := &demo{Options: Options{Out: &out}, ctx: context.Background(), cloneDir: t.TempDir(),
		jitEnv: jitEnvironment(os.Environ(), "no-token", "http://127.0.0.1:1/api/v3/")}
	if _, err := d.jit("help"); err != nil {
		t.Fatalf("jit help: %v", err)
	}
	if !strings.Contains(out.String(), "$ jit help\n") || !strings.Contains(out.String(), "usage: jit COMMAND") {
		t.Errorf("the narration of jit help lacks the command line or jit's usage:\n%s", out.String())
	}
	_, err := d.jit("list", "--mine")
	if err == nil {
		t.Fatal("jit list --mine succeeded outside any clone")
	}
	// It ran in cloneDir: the package's directory is inside a git clone.
	for _, want := range []string{"jit list: exit status 2: jit list: ", "is not a clone of the access repository"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestRunRefusesWithoutRunJitIfAsked: in a program that never called
// RunJitIfAsked, Run would start the program itself instead of jit; it
// refuses before starting anything.
func TestRunRefusesWithoutRunJitIfAsked(t *testing.T) {
	canRunJit.Store(false)
	defer canRunJit.Store(true)
	var out syncbuf.Buffer
	err := Run(context.Background(), Options{Out: &out, Source: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "step 0 (start jit dev): ") || !strings.Contains(err.Error(), "demo.RunJitIfAsked") {
		t.Fatalf("error %v, want step 0 naming demo.RunJitIfAsked", err)
	}
	if out.String() != "" {
		t.Errorf("Run narrated %q before refusing", out.String())
	}
}
