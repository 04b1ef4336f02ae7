package ghapi_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/ghapi"
)

func TestCoAuthors(t *testing.T) {
	tests := map[string]struct {
		msg  string
		want []string
	}{
		"none":               {"add grant\n\nbody", nil},
		"id noreply":         {"x\n\nCo-authored-by: Bob <2001+bob@users.noreply.github.com>", []string{"bob"}},
		"old noreply":        {"x\n\nCo-authored-by: Bob <bob@users.noreply.github.com>", []string{"bob"}},
		"domain any case":    {"x\n\nCo-authored-by: Bob <7+Bob@Users.NoReply.GitHub.com>", []string{"Bob"}},
		"key any case":       {"x\n\nco-AUTHORED-by:Bob <bob@users.noreply.github.com>", []string{"bob"}},
		"bot":                {"x\n\nCo-authored-by: jit <9+jit[bot]@users.noreply.github.com>", []string{"jit[bot]"}},
		"other address":      {"x\n\nCo-authored-by: Eve <eve@example.com>", []string{""}},
		"lookalike domain":   {"x\n\nCo-authored-by: Eve <eve@users.noreply.github.com.evil>", []string{""}},
		"subdomain trick":    {"x\n\nCo-authored-by: Eve <eve@x.users.noreply.github.com>", []string{""}},
		"no brackets":        {"x\n\nCo-authored-by: bob@users.noreply.github.com", []string{""}},
		"bad login":          {"x\n\nCo-authored-by: E <-eve@users.noreply.github.com>", []string{""}},
		"two plus":           {"x\n\nCo-authored-by: E <1+2+eve@users.noreply.github.com>", []string{""}},
		"crlf":               {"x\r\n\r\nCo-authored-by: Bob <bob@users.noreply.github.com>\r\n", []string{"bob"}},
		"in the body too":    {"x\nCo-authored-by: Bob <bob@users.noreply.github.com>\n\nSigned-off-by: a", []string{"bob"}},
		"several in order":   {"x\n\nCo-authored-by: A <a@users.noreply.github.com>\nCo-authored-by: Z <z@e.org>", []string{"a", ""}},
		"other trailer only": {"x\n\nSigned-off-by: Bob <bob@users.noreply.github.com>", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, ghapi.CoAuthors(tc.msg)); d != "" {
				t.Errorf("CoAuthors(%q) (-want +got):\n%s", tc.msg, d)
			}
		})
	}
}

func FuzzCoAuthors(f *testing.F) {
	for _, s := range []string{
		"x\n\nCo-authored-by: Bob <2001+bob@users.noreply.github.com>",
		"Co-authored-by: <@users.noreply.github.com>",
		"co-authored-by:<<>>",
		"Co-authored-by: E <eve@example.com>\nCo-authored-by: x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := ghapi.CoAuthors(msg)
		lines := 0
		for _, l := range strings.Split(msg, "\n") {
			if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "co-authored-by") {
				lines++
			}
		}
		if len(got) != lines {
			t.Fatalf("%d co-authors for %d trailer lines", len(got), lines)
		}
		for _, login := range got {
			// A login is never invented: it is spelled in the message.
			if login != "" && !strings.Contains(msg, login+"@") {
				t.Fatalf("login %q not in %q", login, msg)
			}
			if strings.ContainsAny(login, "@<> \t\r\n+") {
				t.Fatalf("login %q has characters no login has", login)
			}
		}
	})
}
