package userapi

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAuthenticateOnlyOnTheAPIHost: the token is handed to git only for an
// http(s) origin on the API's host (github.com for api.github.com); any
// other origin never sees it. A plain-http origin on the API's host that
// is not this machine is an error, not a token in clear text.
func TestAuthenticateOnlyOnTheAPIHost(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, origin, api string
		gets              bool
		err               string
	}{
		{"github", "https://github.com/acme/access.git", "api.github.com", true, ""},
		{"emulator", "http://127.0.0.1:4000/acme/access.git", "127.0.0.1:4000", true, ""},
		{"other port", "http://127.0.0.1:4001/acme/access.git", "127.0.0.1:4000", false, ""},
		{"other host", "https://evil.example/acme/access.git", "api.github.com", false, ""},
		{"github lookalike", "https://github.com.evil.example/acme/access.git", "api.github.com", false, ""},
		{"ssh", "git@github.com:acme/access.git", "api.github.com", false, ""},
		{"local path", "/srv/acme/access.git", "api.github.com", false, ""},
		{"localhost emulator", "http://localhost:4000/acme/access.git", "localhost:4000", true, ""},
		{"plain http github", "http://github.com/acme/access.git", "api.github.com", false,
			"the origin remote of DIR is plain http on github.com: use https (git remote set-url origin https://...), since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)"},
		{"plain http enterprise", "http://ghe.example.com/acme/access.git", "ghe.example.com", false,
			"the origin remote of DIR is plain http on ghe.example.com: use https (git remote set-url origin https://...), since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)"},
		{"plain http elsewhere", "http://mirror.example/acme/access.git", "api.github.com", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, args := range [][]string{{"init", "-q", dir}, {"-C", dir, "remote", "add", "origin", tc.origin}} {
				if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			g, err := OpenClone(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			err = g.Authenticate(ctx, "tok-123", tc.api)
			if want := strings.ReplaceAll(tc.err, "DIR", g.Dir); want != "" && (err == nil || err.Error() != want) {
				t.Errorf("Authenticate error %v, want %q", err, want)
			} else if want == "" && err != nil {
				t.Fatal(err)
			}
			env := strings.Join(g.env, "\n")
			if got := strings.Contains(env, "Authorization: Basic"); got != tc.gets {
				t.Errorf("token handed to git: %v, want %v (env %q)", got, tc.gets, env)
			}
		})
	}
}
