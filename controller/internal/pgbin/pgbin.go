// Package pgbin finds the PostgreSQL server binaries (initdb, pg_ctl,
// postgres) for the throwaway clusters of the tests and of jit dev.
package pgbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotInstalled reports that the PostgreSQL server binaries are not
// installed.
var ErrNotInstalled = errors.New("PostgreSQL server binaries not found")

// Dir returns the directory holding the PostgreSQL server binaries: the
// highest version under /usr/lib/postgresql/*/bin (Debian's layout), else
// `pg_config --bindir`, else the directory of initdb on PATH. The error
// wraps ErrNotInstalled when none has initdb.
func Dir() (string, error) {
	best, bestVer := "", -1
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for _, d := range dirs {
		ver, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && ver > bestVer && executable(filepath.Join(d, "initdb")) {
			best, bestVer = d, ver
		}
	}
	if best != "" {
		return best, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if executable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w: no /usr/lib/postgresql/*/bin/initdb, no initdb under `pg_config --bindir`, none on PATH; install Debian's postgresql package (scripts/install-tools.sh does)", ErrNotInstalled)
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Psql returns the psql beside the server binaries in bin, else "psql"
// (found on PATH when run).
func Psql(bin string) string {
	if p := filepath.Join(bin, "psql"); executable(p) {
		return p
	}
	return "psql"
}
