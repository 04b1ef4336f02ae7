package devsandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// seededPaths are the parts of this repository the sandbox's access
// repository holds, as committed at HEAD: grant.schema.json is what the
// example grants' yaml-language-server modelines point at.
var seededPaths = []string{"access", "policies", "templates", ".github", "grant.schema.json"}

// sandboxPolicy is SandboxPolicyFile: grants under access/sandbox/ on the
// sandbox's cluster, for at most ten minutes, one approval by a code owner
// (CODEOWNERS gives access/sandbox/ to @acme/dba). The grants use the
// controller's own PG* environment, which jit dev points at the cluster;
// without a cluster the policy binds them to a target nobody configured,
// so that they are never applied to whatever server the user's PG*
// variables name.
func sandboxPolicy(withPostgres bool) string {
	targets := ""
	if !withPostgres {
		targets = "  # jit dev found no PostgreSQL: this target is configured nowhere, so\n" +
			"  # nothing is applied to a server the environment might name.\n" +
			"  targets      = [\"" + Target + "\"]\n"
	}
	return `# Only in jit dev's sandbox: short grants on its throwaway PostgreSQL, to
# watch a grant's whole life in a minute (make demo).
policy "sandbox" {
  description  = "jit dev sandbox: the orders database of the local PostgreSQL"
  paths        = ["access/sandbox/**"]
  templates    = ["postgres-role"]
  max_duration = "10m"
  approvals    = 1
` + targets + "}\n"
}

// sandboxOwners is appended to the seeded .github/CODEOWNERS; as the last
// rule matching access/sandbox/ it wins there.
const sandboxOwners = "\n# jit dev sandbox (policies/sandbox.hcl)\n/access/sandbox/  @acme/dba\n"

// seedContent writes the access repository's first tree into dir: the
// seededPaths of source's repository at HEAD, the sandbox policy, the
// sandbox's CODEOWNERS rule and the signing key's allowed_signers line.
func seedContent(ctx context.Context, source, dir, signingPub string, withPostgres bool) error {
	if source == "" {
		source = "."
	}
	// git archive takes paths relative to the working directory: run it at
	// the top of the repository.
	top, err := exec.CommandContext(ctx, "git", "-C", source, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return fmt.Errorf("finding the jit repository around %s: %w; run jit dev inside a clone of the jit repository (or give --source DIR)", source, err)
	}
	source = strings.TrimSpace(string(top))
	args := append([]string{"-C", source, "archive", "--format=tar", "HEAD", "--"}, seededPaths...)
	cmd := exec.CommandContext(ctx, "git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("reading %s at HEAD of the jit repository %s: %w: %s; run jit dev inside a clone of the jit repository (or give --source DIR)",
			strings.Join(seededPaths, ", "), source, err, strings.TrimSpace(stderr.String()))
	}
	if err := untar(bytes.NewReader(out), dir); err != nil {
		return fmt.Errorf("unpacking the jit repository's HEAD: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, SandboxPolicyFile)); err == nil {
		return fmt.Errorf("the jit repository already has %s; the sandbox seeds its own there, so rename that file", SandboxPolicyFile)
	}
	if err := os.WriteFile(filepath.Join(dir, SandboxPolicyFile), []byte(sandboxPolicy(withPostgres)), 0o644); err != nil {
		return err
	}
	if err := appendFile(filepath.Join(dir, ".github", "CODEOWNERS"), sandboxOwners); err != nil {
		return err
	}
	signer := strings.Fields(signingPub)
	if len(signer) < 2 {
		return fmt.Errorf("the signing key's public half %q is not an OpenSSH public key", signingPub)
	}
	return appendFile(filepath.Join(dir, ".github", "jit-signers"),
		"\n# jit dev: this sandbox's controller key\njit namespaces=\"jit\" "+signer[0]+" "+signer[1]+"\n")
}

// appendFile appends s to file, creating it when missing.
func appendFile(file, s string) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	return errors.Join(err, f.Close())
}

// untar writes the regular files and directories of a tar stream under dir,
// refusing any name that would leave it. Other entries (links) are
// skipped: the seeded directories hold none.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive entry %q leaves the directory", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if h.Mode&0o111 != 0 {
				mode = 0o755
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if err := errors.Join(err, f.Close()); err != nil {
				return err
			}
		}
	}
}

// sshKeygen makes an unencrypted ed25519 key pair at file and file.pub with
// the real ssh-keygen and returns the public half's line.
func sshKeygen(ctx context.Context, file, comment string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	for _, f := range []string{file, file + ".pub"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("generating an SSH key with ssh-keygen: %w: %s; install openssh-client", err, strings.TrimSpace(string(out)))
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(pub)), nil
}
