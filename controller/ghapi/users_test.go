package ghapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// newEnvSeed is newEnv on a seed changed by edit.
func newEnvSeed(t *testing.T, edit func(*ghemu.Seed)) *env {
	t.Helper()
	requireGit(t)
	sd := seed()
	edit(&sd)
	e := &env{srv: ghemutest.NewServer(t, sd), obs: &observed{}}
	e.c = e.client(t, nil)
	return e
}

const (
	aliceKey1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIYSk1APv48H9SSyx677JkUa2gmHcQIJu5fx7jBvcHJF"
	aliceKey2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIqkulb/4zcXnLyx1yK9ILLdCyaDZ2Gb8m0A6QePRHNM"
	keysRoute = "GET /users/{username}/keys"
)

func TestUserKeys(t *testing.T) {
	many := make([]string, 150)
	for i := range many {
		many[i] = fmt.Sprintf("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%040d", i)
	}
	e := newEnvSeed(t, func(sd *ghemu.Seed) {
		sd.Users[0].Keys = []string{aliceKey1, aliceKey2 + " "} // alice
		sd.Users[3].Keys = many                                 // dave
	})
	tests := map[string]struct {
		login    string
		want     []string
		requests int    // GET /users/{username}/keys made
		err      string // "" for none
	}{
		"two keys, trimmed":                 {login: "alice", want: []string{aliceKey1, aliceKey2}, requests: 1},
		"logins ignore case":                {login: "ALICE", want: []string{aliceKey1, aliceKey2}, requests: 1},
		"no keys is no error":               {login: "bob", want: []string{}, requests: 1},
		"every page":                        {login: "dave", want: many, requests: 2},
		"unknown user names the login":      {login: "zed", requests: 1, err: "GitHub knows no user zed"},
		"empty login (would be /user/keys)": {login: "", err: `listing the SSH keys of "": not a GitHub user login`},
		"a bot has no keys":                 {login: "jit[bot]", err: `"jit[bot]": not a GitHub user login`},
		"a slash would reach another route": {login: "alice/../orgs", err: "not a GitHub user login"},
		"leading hyphen":                    {login: "-alice", err: "not a GitHub user login"},
		"longer than GitHub allows":         {login: strings.Repeat("a", 40), err: "not a GitHub user login"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := e.count(keysRoute)
			got, err := e.c.UserKeys(context.Background(), tc.login)
			if n := e.count(keysRoute) - before; n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("UserKeys(%q) = %v, %v, want an error containing %q", tc.login, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Error("nil keys, want an empty list")
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("keys (-want +got):\n%s", d)
			}
		})
	}
	got := e.obs.statuses(keysRoute)
	if n404 := strings.Count(fmt.Sprint(got), "404"); len(got) != 6 || n404 != 1 {
		t.Errorf("observed %s statuses %v, want every request (five 200, one 404)", keysRoute, got)
	}
}

// TestUserKeysNotCached: a rotated key is seen at once.
func TestUserKeysNotCached(t *testing.T) {
	e := newEnvSeed(t, func(sd *ghemu.Seed) { sd.Users[0].Keys = []string{aliceKey1} })
	ctx := context.Background()
	for range 2 {
		if _, err := e.c.UserKeys(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(keysRoute); n != 2 {
		t.Errorf("%d requests for two calls, want 2 (never cached)", n)
	}
}
