package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// MinVersion is the oldest terraform release jit supports.
const MinVersion = "1.5.0"

// ErrNotFound reports that no usable terraform binary was found. Errors
// returned by Find for a missing binary satisfy errors.Is(err, ErrNotFound).
var ErrNotFound = errors.New("terraform not found: install terraform ≥ 1.5 or pass --terraform PATH")

// Find locates the terraform binary: configured when it is not empty,
// otherwise "terraform" on PATH. It runs `terraform version -json` and
// returns the binary's absolute path and version, or an error when the binary
// is missing, does not run, or is older than MinVersion.
func Find(configured string) (path string, version string, err error) {
	if configured != "" {
		path, err = exec.LookPath(configured)
		if err != nil {
			return "", "", fmt.Errorf("%w (--terraform %s: %v)", ErrNotFound, configured, err)
		}
	} else {
		path, err = exec.LookPath("terraform")
		if err != nil {
			return "", "", fmt.Errorf("%w (not on PATH)", ErrNotFound)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version", "-json")
	cmd.Env = append(cleanEnviron(), "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE="+os.DevNull)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("running %s version -json: %w: %s", path, err, strings.TrimSpace(errOut.String()))
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Version == "" {
		return "", "", fmt.Errorf("reading the output of %s version -json: not terraform ≥ 1.5 (got %q)", path, firstLine(out.String()))
	}
	ok, err := atLeast(v.Version, MinVersion)
	if err != nil {
		return "", "", fmt.Errorf("%s reports version %q: %w", path, v.Version, err)
	}
	if !ok {
		return "", "", fmt.Errorf("%s is terraform %s, but jit needs ≥ %s: install a newer terraform or pass --terraform PATH", path, v.Version, MinVersion)
	}
	return path, v.Version, nil
}

// atLeast reports whether version v (e.g. "1.11.4" or "1.6.0-beta1") is at
// least min, comparing major, minor and patch numbers.
func atLeast(v, min string) (bool, error) {
	a, err := parseVersion(v)
	if err != nil {
		return false, err
	}
	b, err := parseVersion(min)
	if err != nil {
		return false, err
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i], nil
		}
	}
	return true, nil
}

func parseVersion(v string) ([3]int, error) {
	var out [3]int
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return out, fmt.Errorf("version %q is not MAJOR.MINOR.PATCH", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, fmt.Errorf("version %q is not MAJOR.MINOR.PATCH", v)
		}
		out[i] = n
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
