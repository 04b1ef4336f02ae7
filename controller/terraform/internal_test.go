package terraform

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAtLeast(t *testing.T) {
	tests := map[string]struct {
		v    string
		want bool
		err  string
	}{
		"equal":       {v: "1.5.0", want: true},
		"newer minor": {v: "1.11.4", want: true},
		"newer major": {v: "2.0.0", want: true},
		"older":       {v: "1.4.7", want: false},
		"prerelease":  {v: "1.6.0-beta1", want: true},
		"v prefix":    {v: "v1.5.7", want: true},
		"garbage":     {v: "one.two", err: `version "one.two" is not MAJOR.MINOR.PATCH`},
		"two parts":   {v: "1.5", err: `version "1.5" is not MAJOR.MINOR.PATCH`},
		"negative":    {v: "1.-5.0", err: `version "1.-5.0" is not MAJOR.MINOR.PATCH`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := atLeast(tc.v, MinVersion)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("atLeast(%q) = %v, %v; want %v", tc.v, got, err, tc.want)
			}
		})
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.5.0", "1.11.4", "v2.0.0-rc1+meta", "", "1..2", "9999999999999999999.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseVersion(s)
		if err != nil {
			return
		}
		for _, n := range v {
			if n < 0 {
				t.Fatalf("negative component in %q: %v", s, v)
			}
		}
	})
}

func TestCompleted(t *testing.T) {
	out := []string{
		"terraform_data.a: Creating...",
		"terraform_data.a: Provisioning with 'local-exec'...",
		`terraform_data.a (local-exec): Executing: ["/bin/sh" "-c" "sleep 0"]`,
		"terraform_data.a: Creation complete after 0s [id=1]",
		`terraform_data.b[0]: Modifications complete after 0s [id=2]`,
		`module.m.terraform_data.c["k"]: Creation complete after 1s [id=3]`,
		"terraform_data.a: Creation complete after 0s [id=1]",
		"Apply complete! Resources: 2 added, 1 changed, 0 destroyed.",
		"value = \"x: Creation complete after\"",
	}
	got := completed(out, "Creation complete after", "Modifications complete after")
	want := []string{"terraform_data.a", "terraform_data.b[0]", `module.m.terraform_data.c["k"]`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("completed (-want +got):\n%s", d)
	}
}

func FuzzCompleted(f *testing.F) {
	f.Add("terraform_data.a: Creation complete after 0s [id=1]")
	f.Add("a: b: Creation complete after")
	f.Add(": Creation complete after")
	f.Fuzz(func(t *testing.T, line string) {
		for _, a := range completed(strings.Split(line, "\n"), "Creation complete after") {
			if strings.ContainsAny(a, " \t\n") {
				t.Fatalf("address %q has blanks", a)
			}
		}
	})
}

func TestIsLockMessage(t *testing.T) {
	for _, s := range []string{
		"Error: Error acquiring the state lock",
		"failed to lock state in Postgres: Already locked for workspace creation: jit-x",
		"Error locking state: Error acquiring the state lock: resource temporarily unavailable",
	} {
		if !isLockMessage(s) {
			t.Errorf("isLockMessage(%q) = false", s)
		}
	}
	for _, s := range []string{"Error: Invalid value for variable", "exit status 1"} {
		if isLockMessage(s) {
			t.Errorf("isLockMessage(%q) = true", s)
		}
	}
}
