package ghemu_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/cli"
)

// TestStandaloneCommand runs `jit ghemu` through cli.Main with the example
// seed, reads the one JSON line it prints, and uses the printed URLs and
// tokens with go-github and the real git client.
func TestStandaloneCommand(t *testing.T) {
	requireGit(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := t.TempDir()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"ghemu", "--addr", "127.0.0.1:0", "--seed", "testdata/seed.json", "--data", data}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the JSON line: %v (stderr: %s)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var info struct {
		APIURL            string            `json:"api_url"`
		GitURL            string            `json:"git_url"`
		WebhookSecret     string            `json:"webhook_secret"`
		AppID             int64             `json:"app_id"`
		AppPrivateKeyFile string            `json:"app_private_key_file"`
		Tokens            map[string]string `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("stdout %q: %v", line, err)
	}
	if info.WebhookSecret != "local-dev-secret" || info.AppID != 4242 || info.Tokens["bob"] != "ghp_bobExampleTokenForLocalDevOnly" || len(info.Tokens) != 3 {
		t.Errorf("printed %s", line)
	}
	if !strings.HasSuffix(info.APIURL, "/api/v3/") || !strings.HasPrefix(info.APIURL, strings.TrimSuffix(info.GitURL, "/")) {
		t.Errorf("api_url %q git_url %q", info.APIURL, info.GitURL)
	}
	if key, err := os.ReadFile(info.AppPrivateKeyFile); err != nil || !strings.Contains(string(key), "PRIVATE KEY") {
		t.Errorf("app key file %s: %v", info.AppPrivateKeyFile, err)
	}

	c := github.NewClient(nil).WithAuthToken(info.Tokens["alice"])
	c.BaseURL, _ = url.Parse(info.APIURL)
	r, _, err := c.Repositories.Get(ctx, "acme", "access")
	if err != nil || r.GetDefaultBranch() != "main" {
		t.Fatalf("repo via printed api_url: %v", err)
	}
	u, _ := url.Parse(info.GitURL + "acme/access.git")
	u.User = url.UserPassword("x-access-token", info.Tokens["alice"])
	dir := filepath.Join(t.TempDir(), "clone")
	git(t, "", "clone", "--quiet", u.String(), dir)
	if b, err := os.ReadFile(filepath.Join(dir, ".github", "CODEOWNERS")); err != nil || !strings.Contains(string(b), "@acme/db-owners") {
		t.Errorf("cloned CODEOWNERS: %q, %v", b, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != cli.ExitOK {
			t.Errorf("exit code %d, stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("jit ghemu did not stop after cancel")
	}
}

// TestStandaloneCommandRejectsBadSeed checks the message for an unknown
// field in the seed file.
func TestStandaloneCommandRejectsBadSeed(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"org":{"login":"acme"},"userz":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	code := cli.Main(context.Background(), []string{"ghemu", "--seed", seed}, &out, &errb)
	if code != cli.ExitUsage || !strings.Contains(errb.String(), `unknown field "userz"`) || !strings.Contains(errb.String(), seed) {
		t.Errorf("exit %d stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := cli.Main(context.Background(), []string{"ghemu", "-h"}, &out, &errb); code != cli.ExitOK || !strings.Contains(errb.String(), "usage: jit ghemu --seed FILE") {
		t.Errorf("-h: exit %d stderr %q", code, errb.String())
	}
	code = cli.Main(context.Background(), []string{"ghemu"}, &out, &errb)
	if code != cli.ExitUsage || !strings.Contains(errb.String(), "--seed FILE is required") {
		t.Errorf("without --seed: exit %d stderr %q", code, errb.String())
	}
}
