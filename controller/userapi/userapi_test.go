package userapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/userapi"
)

// TestParseRemote: every documented remote form gives owner and name;
// what has no OWNER/NAME is an error pointing at --github-repo.
func TestParseRemote(t *testing.T) {
	for _, tc := range []struct{ name, url, owner, repo string }{
		{"https", "https://github.com/acme/access", "acme", "access"},
		{"https .git", "https://github.com/acme/access.git", "acme", "access"},
		{"trailing slash", "https://github.com/acme/access/", "acme", "access"},
		{"ssh scp-like", "git@github.com:acme/access.git", "acme", "access"},
		{"ssh url", "ssh://git@github.com/acme/access.git", "acme", "access"},
		{"emulator", "http://127.0.0.1:41234/acme/access.git", "acme", "access"},
		{"enterprise prefix", "https://ghe.example.com/scm/acme/access.git", "acme", "access"},
		{"local path", "/srv/git/acme/access.git", "acme", "access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, n, err := userapi.ParseRemote(tc.url)
			if err != nil || o != tc.owner || n != tc.repo {
				t.Errorf("ParseRemote(%q) = %q, %q, %v; want %q, %q", tc.url, o, n, err, tc.owner, tc.repo)
			}
		})
	}
	for _, bad := range []string{"https://github.com/acme", "git@github.com:access.git", "", "https://github.com/"} {
		if _, _, err := userapi.ParseRemote(bad); err == nil {
			t.Errorf("ParseRemote(%q) accepted", bad)
		} else if want := "pass --github-repo OWNER/NAME"; !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRemote(%q) error %q lacks %q", bad, err, want)
		}
	}
}

// TestTokenFromEnv: GITHUB_TOKEN wins over GH_TOKEN; neither is ErrNoToken.
func TestTokenFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if tok, err := userapi.TokenFromEnv(env(map[string]string{"GITHUB_TOKEN": "a", "GH_TOKEN": "b"})); tok != "a" || err != nil {
		t.Errorf("both: %q %v", tok, err)
	}
	if tok, err := userapi.TokenFromEnv(env(map[string]string{"GH_TOKEN": " b\n"})); tok != "b" || err != nil {
		t.Errorf("GH_TOKEN: %q %v", tok, err)
	}
	if _, err := userapi.TokenFromEnv(env(nil)); !errors.Is(err, userapi.ErrNoToken) {
		t.Errorf("none: %v", err)
	}
}

// FuzzParseRemote: any text gives an error or an owner and a name that are
// single non-empty path segments found in the text.
func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{"https://github.com/acme/access.git", "git@github.com:acme/access.git", "http://127.0.0.1:1/a/b.git",
		"ssh://git@h/a/b", "a/b", "::", "https://h/.git", "git@h:/.git/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		o, n, err := userapi.ParseRemote(raw)
		if err != nil {
			return
		}
		if o == "" || n == "" || strings.Contains(o, "/") || strings.Contains(n, "/") || !strings.Contains(raw, o) || !strings.Contains(raw, n) {
			t.Fatalf("ParseRemote(%q) = %q, %q", raw, o, n)
		}
	})
}

// TestNewPlainHTTPOnlyOnLoopback: an http:// API URL is accepted only for
// this machine (127.0.0.0/8, ::1, localhost); anywhere else the token
// would travel in clear text, and the error says to use https.
func TestNewPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct{ name, url, err string }{
		{"github", "https://api.github.com/", ""},
		{"enterprise https", "https://ghe.example.com/api/v3/", ""},
		{"emulator", "http://127.0.0.1:4000/api/v3/", ""},
		{"loopback /8", "http://127.1.2.3:4000/api/v3/", ""},
		{"ipv6 loopback", "http://[::1]:4000/api/v3/", ""},
		{"localhost", "http://LocalHost:4000/api/v3/", ""},
		{"remote host", "http://ghe.example.com/api/v3/",
			`GitHub API URL "http://ghe.example.com/api/v3/" is plain http on ghe.example.com: use https, since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)`},
		{"private address", "http://10.0.0.1:4000/api/v3/",
			`GitHub API URL "http://10.0.0.1:4000/api/v3/" is plain http on 10.0.0.1: use https, since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)`},
		{"localhost lookalike", "http://localhost.evil.example/api/v3/",
			`GitHub API URL "http://localhost.evil.example/api/v3/" is plain http on localhost.evil.example: use https, since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)`},
		{"127 lookalike", "http://127.0.0.1.evil.example/api/v3/",
			`GitHub API URL "http://127.0.0.1.evil.example/api/v3/" is plain http on 127.0.0.1.evil.example: use https, since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)`},
		{"ftp", "ftp://x/", `GitHub API URL "ftp://x/" is not an http(s) URL: give one like https://api.github.com/`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := userapi.New(tc.url, "tok", "acme", "access")
			if tc.err == "" {
				if err != nil {
					t.Errorf("New(%q): %v", tc.url, err)
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Errorf("New(%q) error %v, want %q", tc.url, err, tc.err)
			}
		})
	}
}

// TestLoopback: only this machine's names and addresses are loopback.
func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"LOCALHOST", true}, {"127.0.0.1", true}, {"127.255.255.254", true}, {"::1", true},
		{"::ffff:127.0.0.1", true}, {"", false}, {"localhost.", false}, {"localhost.example", false}, {"128.0.0.1", false},
		{"0.0.0.0", false}, {"::", false}, {"fe80::1%lo", false}, {"github.com", false}, {"127.0.0.1.nip.io", false},
	} {
		if got := userapi.Loopback(tc.host); got != tc.want {
			t.Errorf("Loopback(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
