package ghemu

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

const (
	shaA = "1111111111111111111111111111111111111111"
	shaB = "2222222222222222222222222222222222222222"
)

func TestParsePushCommands(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []pushCommand
		err        string
	}{
		{"one command with capabilities", pkt(shaA+" "+shaB+" refs/heads/main\x00report-status side-band-64k\n") + "0000PACK",
			[]pushCommand{{shaA, shaB, "refs/heads/main"}}, ""},
		{"deletion and creation", pkt(zeroSHA+" "+shaB+" refs/heads/new\x00report-status\n") + pkt(shaA+" "+zeroSHA+" refs/heads/main\n") + "0000",
			[]pushCommand{{zeroSHA, shaB, "refs/heads/new"}, {shaA, zeroSHA, "refs/heads/main"}}, ""},
		{"shallow lines first", pkt("shallow "+shaA+"\n") + pkt(shaA+" "+shaB+" refs/heads/x\n") + "0000",
			[]pushCommand{{shaA, shaB, "refs/heads/x"}}, ""},
		{"no commands", "0000", nil, ""},
		{"push certificate", pkt("push-cert\x00report-status\n") + "0000", nil, `malformed pkt-line: "push-cert" is not a ref update command`},
		{"truncated", "00", nil, "malformed pkt-line: truncated length"},
		{"not hex", "zzzz", nil, `malformed pkt-line: length "zzzz" is not hex`},
		{"length past the end", "00ff" + shaA, nil, "malformed pkt-line: length 255 out of range"},
		{"uppercase sha", pkt(strings.ToUpper("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")+" "+shaB+" refs/heads/x\n") + "0000", nil,
			`malformed pkt-line: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2222222222222222222222222222222222222222 refs/heads/x" is not a ref update command`},
		{"no flush", pkt(shaA + " " + shaB + " refs/heads/x\n"), nil, "malformed pkt-line: truncated length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePushCommands([]byte(tc.body))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, errPktLine) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(pushCommand{})); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadPushBodyGzip(t *testing.T) {
	body := pkt(shaA+" "+shaB+" refs/heads/main\n") + "0000"
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(body))
	_ = zw.Close()
	raw, decoded, err := readPushBody(bytes.NewReader(zb.Bytes()), "gzip")
	if err != nil || !bytes.Equal(raw, zb.Bytes()) || string(decoded) != body {
		t.Errorf("readPushBody = %q, %q, %v; want the raw bytes and %q", raw, decoded, err, body)
	}
	if _, _, err := readPushBody(strings.NewReader("not gzip"), "gzip"); err == nil {
		t.Errorf("readPushBody of a corrupt gzip body: no error")
	}
}

// FuzzParsePushCommands checks the parser never panics and that every
// command it returns is well formed and re-encodes to a prefix of the input.
func FuzzParsePushCommands(f *testing.F) {
	f.Add([]byte(pkt(shaA+" "+shaB+" refs/heads/main\x00report-status\n") + "0000PACK"))
	f.Add([]byte(pkt("shallow "+shaA+"\n") + "0000"))
	f.Add([]byte("0000"))
	f.Add([]byte("0004"))
	f.Add([]byte("ffff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmds, err := parsePushCommands(body)
		if err != nil {
			if cmds != nil {
				t.Errorf("commands %v returned with error %v", cmds, err)
			}
			return
		}
		for _, c := range cmds {
			if !isHexSHA(c.old) || !isHexSHA(c.new) || !strings.HasPrefix(c.ref, "refs/") || strings.ContainsAny(c.ref, " \x00\n") {
				t.Errorf("malformed command %+v", c)
			}
			if !bytes.Contains(body, []byte(c.old+" "+c.new+" "+c.ref)) {
				t.Errorf("command %+v is not in the body", c)
			}
		}
	})
}

// TestPreReceiveHook runs the installed hook script with the environment
// pushProtectionEnv produces, against a real repository: it must refuse
// refused commands, protected refs that were never judged (fail closed) and
// non-fast-forward moves where only fast-forwards are allowed.
func TestPreReceiveHook(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
	dir := t.TempDir()
	hooks, err := hooksDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(dir, "r")
	gitIn := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = repoDir
		cmd.Env = gitEnv("GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(repoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitIn("init", "--quiet")
	gitIn("commit", "--quiet", "--allow-empty", "-m", "one")
	one := gitIn("rev-parse", "HEAD")
	gitIn("commit", "--quiet", "--allow-empty", "-m", "two")
	two := gitIn("rev-parse", "HEAD")

	env := func(checked, ff, reject string) []string {
		return []string{"GHEMU_PROTECTED= refs/heads/main ", "GHEMU_CHECKED=" + checked, "GHEMU_FF=" + ff,
			"GHEMU_REJECT=" + reject, "GHEMU_FORCE_REFUSAL=" + forceRefusal}
	}
	judged := func(old, new string) string { return "||" + old + " " + new + " refs/heads/main|" }
	for _, tc := range []struct {
		name  string
		stdin string
		env   []string
		want  string // "" when the hook must accept
	}{
		{"judged fast-forward", one + " " + two + " refs/heads/main\n", env(judged(one, two), judged(one, two), ""), ""},
		{"judged non-fast-forward", two + " " + one + " refs/heads/main\n", env(judged(two, one), judged(two, one), ""),
			"error: GH006: Protected branch update failed for refs/heads/main.\nerror: Cannot force-push to this branch"},
		{"force allowed", two + " " + one + " refs/heads/main\n", env(judged(two, one), "|", ""), ""},
		{"protected ref never judged", one + " " + two + " refs/heads/main\n", env("|", "|", ""),
			"error: GH006: Protected branch update failed for refs/heads/main.\nerror: The push could not be checked against branch protection."},
		{"judged for other shas", one + " " + two + " refs/heads/main\n", env(judged(two, one), "|", ""), "could not be checked"},
		{"unprotected ref", one + " " + two + " refs/heads/mainline\n", env("|", "|", ""), ""},
		{"refused by the server", one + " " + two + " refs/heads/x\n", env("|", "|", refusedPushMessage("refs/heads/main", "Changes must be made through a pull request.")),
			"error: GH006: Protected branch update failed for refs/heads/main.\nerror: Changes must be made through a pull request."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(hooks, "pre-receive"))
			cmd.Dir = repoDir
			cmd.Env = gitEnv(append(tc.env, "GIT_DIR="+filepath.Join(repoDir, ".git"))...)
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if tc.want == "" {
				if err != nil {
					t.Errorf("hook refused: %v\n%s", err, stderr.String())
				}
				return
			}
			if err == nil || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("hook: %v, stderr:\n%s\nwant a refusal saying %q", err, stderr.String(), tc.want)
			}
		})
	}
}
