package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jitops/jit/controller/cli"
)

// asJitEnv marks a process Run started to run one jit command.
const asJitEnv = "JIT_DEMO_AS_JIT"

// canRunJit is set once RunJitIfAsked has returned: this program can be
// started again as jit.
var canRunJit atomic.Bool

// RunJitIfAsked must be the first thing a program that calls Run does, in
// main (or TestMain for tests). Run runs alice's jit commands by starting
// the program again with the command's arguments and marked so; in that
// process RunJitIfAsked runs the command with cli.Main, as the jit binary
// does, and exits with its status. Otherwise it returns at once, and Run
// may be called. Run refuses to start in a program that has not called it,
// which would otherwise run itself again instead of jit.
func RunJitIfAsked() {
	if os.Getenv(asJitEnv) != "1" {
		canRunJit.Store(true)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// jitEnvironment is the environment of alice's jit commands: base without
// the GitHub token, API URL and repository (GITHUB_TOKEN, GH_TOKEN,
// JIT_GITHUB_*) or any GIT_ variable of the person running the demo, plus
// alice's token and the sandbox's API URL, git reading no system or global
// configuration file (a signing or URL-rewriting setting of theirs must not
// change what jit pushes; her clone's own configuration still counts) and
// never asking for a password.
func jitEnvironment(base []string, token, apiURL string) []string {
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "GITHUB_TOKEN", k == "GH_TOKEN", k == asJitEnv, strings.HasPrefix(k, "JIT_GITHUB_"), strings.HasPrefix(k, "GIT_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, asJitEnv+"=1", "GITHUB_TOKEN="+token, "JIT_GITHUB_URL="+apiURL,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0")
}

// jit runs jit with args as alice in her clone, in a process of its own
// with no terminal, narrating the command line and everything it printed.
// It returns the standard output; a non-zero exit is an error quoting the
// standard error.
func (d *demo) jit(args ...string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding this program to run jit %s with: %w", args[0], err)
	}
	cmd := exec.CommandContext(d.ctx, exe, args...)
	cmd.Dir, cmd.Env, cmd.WaitDelay = d.cloneDir, d.jitEnv, 5*time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	d.note("$ jit %s", shellWords(args))
	err = cmd.Run()
	for _, text := range []string{out.String(), errOut.String()} {
		if text = strings.TrimRight(text, "\n"); text != "" {
			d.note("%s", indent(text))
		}
	}
	if err != nil {
		return "", fmt.Errorf("jit %s: %w: %s", args[0], err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// shellWords is args as a person would type them: a word holding anything
// but letters, digits and -_./=:@, is single-quoted. It is for reading
// only; nothing runs it through a shell.
func shellWords(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = a
		if a == "" || strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,") != "" {
			words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(words, " ")
}
