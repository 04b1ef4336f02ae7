package cli

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHelpMatchesFlags runs each command's -h and compares what it
// documents with the flags it defines: the "flags:" list is exactly the
// FlagSet, and every --flag the prose mentions exists. It is the regression
// test for `jit destroy -h` documenting flags destroy does not have.
func TestHelpMatchesFlags(t *testing.T) {
	listed := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)
	mentioned := regexp.MustCompile(`--([a-z][a-z-]*)`)
	tests := map[string]struct {
		// flagList: the help prints the flags' defaults (a "flags:" list);
		// otherwise the prose must mention every flag.
		flagList bool
		absent   []string
	}{
		"apply":     {flagList: true},
		"reconcile": {flagList: true},
		"destroy":   {flagList: true, absent: []string{"ssh-keys", "credentials-dir", "new-state", "now", "drift"}},
		"validate":  {},
		"owners":    {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var sets []*flag.FlagSet
			flagSetCreated = func(fs *flag.FlagSet) { sets = append(sets, fs) }
			defer func() { flagSetCreated = nil }()
			var out, errb bytes.Buffer
			if code := commands[name].run(context.Background(), IO{Stdout: &out, Stderr: &errb}, []string{"-h"}); code != ExitOK {
				t.Fatalf("-h exits %d:\n%s", code, &errb)
			}
			if len(sets) != 1 {
				t.Fatalf("%d flag sets made, want 1", len(sets))
			}
			help := errb.String()
			var defined []string
			sets[0].VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })
			slices.Sort(defined)

			if tc.flagList {
				_, list, ok := strings.Cut(help, "\nflags:\n")
				if !ok {
					t.Fatalf("no flags: section in\n%s", help)
				}
				var got []string
				for _, m := range listed.FindAllStringSubmatch(list, -1) {
					got = append(got, m[1])
				}
				slices.Sort(got)
				if diff := cmp.Diff(defined, got); diff != "" {
					t.Errorf("flags listed by -h (-defined +listed):\n%s", diff)
				}
			}
			var prose []string
			for _, m := range mentioned.FindAllStringSubmatch(help, -1) {
				prose = append(prose, m[1])
				if !slices.Contains(defined, m[1]) {
					t.Errorf("-h mentions --%s, which %s does not have (it has %s)", m[1], name, strings.Join(defined, ", "))
				}
			}
			if !tc.flagList {
				for _, f := range defined {
					if !slices.Contains(prose, f) {
						t.Errorf("-h does not document --%s", f)
					}
				}
			}
			for _, f := range tc.absent {
				if slices.Contains(defined, f) {
					t.Errorf("%s defines --%s, which it has no use for", name, f)
				}
			}
		})
	}
}
