package tftest

import (
	"os"
	"strings"
	"testing"
)

// ReadEnv parses file, the output of env(1) written by a template's
// provisioner (the envdump test template), into a map.
func ReadEnv(t testing.TB, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}
