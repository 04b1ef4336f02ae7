package ghemu_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/ghemu"
)

// TestSeedRejections checks that every rejected seed says what is wrong and
// where.
func TestSeedRejections(t *testing.T) {
	requireGit(t)
	tests := map[string]struct {
		seed ghemu.Seed
		msg  string
	}{
		"bad org login":       {ghemu.Seed{Org: ghemu.SeedOrg{Login: "-acme"}}, `seed: org login "-acme" is not a valid GitHub login`},
		"bad user login":      {ghemu.Seed{Users: []ghemu.SeedUser{{Login: "a b"}}}, `seed: users[0]: login "a b" is not a valid GitHub login`},
		"duplicate user":      {ghemu.Seed{Users: []ghemu.SeedUser{{Login: "bob"}, {Login: "Bob"}}}, `seed: users[1]: login "Bob" is used twice`},
		"shared token":        {ghemu.Seed{Users: []ghemu.SeedUser{{Login: "a", Token: "t"}, {Login: "b", Token: "t"}}}, `seed: users[1]: token of "b" is used twice`},
		"team without slug":   {ghemu.Seed{Teams: []ghemu.SeedTeam{{}}}, "seed: teams[0]: slug is empty"},
		"unknown team member": {ghemu.Seed{Teams: []ghemu.SeedTeam{{Slug: "t", Members: []string{"zed"}}}}, `seed: team "t": member "zed" is not a seeded user`},
		"bad repo name":       {ghemu.Seed{Repos: []ghemu.SeedRepo{{Name: "a b"}}}, `seed: repos[0]: name "a b" is not a valid repository name`},
		"unknown repo owner":  {ghemu.Seed{Repos: []ghemu.SeedRepo{{Name: "zed/r"}}}, `seed: repos[0]: owner "zed" is neither the org nor a seeded user`},
		"duplicate repo":      {ghemu.Seed{Repos: []ghemu.SeedRepo{{Name: "r"}, {Name: "jitops/r"}}}, "seed: repos[1]: repository jitops/r is seeded twice"},
		"content not a dir":   {ghemu.Seed{Repos: []ghemu.SeedRepo{{Name: "r", Content: "/nonexistent/tree"}}}, `seed: repos[0]: content "/nonexistent/tree" is not a directory`},
		"app without slug":    {ghemu.Seed{App: &ghemu.SeedApp{ID: 1}}, "seed: app needs an id and a slug"},
		"app key not PEM":     {ghemu.Seed{App: &ghemu.SeedApp{ID: 1, Slug: "a", PrivateKeyPEM: "nope"}}, "seed: app.private_key_pem holds no PEM block"},
		"app unknown repo":    {ghemu.Seed{App: &ghemu.SeedApp{ID: 1, Slug: "a", Repos: []string{"r"}}}, `seed: app.repos: "r" is not a seeded repository`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ghemu.New(ghemu.Config{DataDir: t.TempDir(), Seed: tc.seed})
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := ghemu.New(ghemu.Config{}); err == nil || !strings.Contains(err.Error(), "Config.DataDir is empty") {
		t.Errorf("no data dir: %v", err)
	}
}

func TestLoadSeed(t *testing.T) {
	sd, err := ghemu.LoadSeed("testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata/seed-access")
	if sd.Org.Login != "acme" || len(sd.Users) != 3 || sd.Repos[0].Content != abs || sd.App.ID != 4242 {
		t.Errorf("seed = %+v", sd)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"org": {"login": 5}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ghemu.LoadSeed(bad); err == nil || !strings.Contains(err.Error(), "seed "+bad+": json: cannot unmarshal number") {
		t.Errorf("bad seed: %v", err)
	}
	if _, err := ghemu.LoadSeed(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "reading seed") {
		t.Errorf("missing seed: %v", err)
	}
}
