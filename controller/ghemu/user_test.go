package ghemu_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestAuthenticatedUser: GET /user answers the token's own account, with
// the fields of GitHub's public-user schema jit reads; anonymous callers
// get 401 and installation tokens 403, as on GitHub.
func TestAuthenticatedUser(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "secret")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	for _, login := range []string{"alice", "bob"} {
		u, _, err := srv.Client(login).Users.Get(ctx, "")
		if err != nil {
			t.Fatalf("%s: %v", login, err)
		}
		if u.GetLogin() != login || u.GetType() != "User" || u.GetID() == 0 || u.GetHTMLURL() != srv.URL+"/"+login {
			t.Errorf("%s: got %s %s %d %s", login, u.GetLogin(), u.GetType(), u.GetID(), u.GetHTMLURL())
		}
	}
	resp, err := http.Get(srv.APIURL + "user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", resp.StatusCode)
	}
	bot, err := srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := bot.Users.Get(ctx, "")
	if err == nil || r == nil || r.StatusCode != http.StatusForbidden {
		t.Errorf("installation token: %v %v", r, err)
	}
}
