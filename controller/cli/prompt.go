package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// stdinIsTerminal reports whether standard input is a terminal, where
// commands may ask for what their flags left out. A character device is
// not enough (/dev/null is one): stty must be able to read its settings.
func stdinIsTerminal() bool {
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	c := exec.Command("stty", "-g")
	c.Stdin = os.Stdin
	return c.Run() == nil
}

// prompter asks questions on a terminal: prompts go to out (standard
// error, so that standard output stays the command's result), answers come
// a line at a time from in.
type prompter struct {
	in  *bufio.Reader
	out io.Writer
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{in: bufio.NewReader(in), out: out}
}

// say prints a line of explanation.
func (p *prompter) say(format string, args ...any) {
	fmt.Fprintf(p.out, format+"\n", args...)
}

// ask prints "label [def]: " and returns the answer without surrounding
// space, or def when the answer is empty. End of input is an error.
func (p *prompter) ask(label, def string) (string, error) {
	if def != "" {
		fmt.Fprintf(p.out, "%s [%s]: ", label, def)
	} else {
		fmt.Fprintf(p.out, "%s: ", label)
	}
	line, err := p.in.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("no answer to %q: input ended", strings.TrimSpace(label))
		}
		return "", err
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return def, nil
	}
	return line, nil
}

// choose lists options numbered from 1 and returns the one picked by
// number or by name; def is picked by an empty answer.
func (p *prompter) choose(label string, options []string, def string) (string, error) {
	p.say("%ss:", label)
	for i, o := range options {
		p.say("  %d) %s", i+1, o)
	}
	for {
		ans, err := p.ask(label, def)
		if err != nil {
			return "", err
		}
		if n, err := strconv.Atoi(ans); err == nil && n >= 1 && n <= len(options) {
			return options[n-1], nil
		}
		for _, o := range options {
			if o == ans {
				return o, nil
			}
		}
		p.say("  %q is none of them: answer with a number from 1 to %d or a name", ans, len(options))
	}
}

// errInterrupted says a prompt was interrupted: the command must stop
// asking (the prompter's input is abandoned) and end.
var errInterrupted = errors.New("interrupted")

// secret asks for a line without echoing it (stty -echo on the terminal),
// for a passphrase. The echo is turned back on however the prompt ends:
// an answer, the end of input, ctx being cancelled (cmd/jit cancels it on
// SIGINT and SIGTERM), or an interrupt, termination or hang-up signal
// arriving while it waits, which are caught for the prompt's duration so
// that they cannot end the process with the echo off. An interrupted prompt
// returns an error wrapping errInterrupted, and the line being read is
// abandoned: p must not be read from again.
func (p *prompter) secret(ctx context.Context, label string) ([]byte, error) {
	fmt.Fprintf(p.out, "%s: ", label)
	stty := func(arg string) error {
		c := exec.Command("stty", arg)
		c.Stdin = os.Stdin
		return c.Run()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := stty("-echo"); err != nil {
		return nil, fmt.Errorf("turning off the terminal's echo to read the passphrase (stty -echo): %w", err)
	}
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := p.in.ReadString('\n')
		got <- answer{line, err}
	}()
	var a answer
	select {
	case a = <-got:
	case sig := <-sigs:
		a.err = fmt.Errorf("%w by %v", errInterrupted, sig)
	case <-ctx.Done():
		a.err = fmt.Errorf("%w: %w", errInterrupted, context.Cause(ctx))
	}
	restored := stty("echo")
	fmt.Fprintln(p.out)
	if restored != nil {
		fmt.Fprintf(p.out, "the terminal's echo could not be turned back on (%v): run stty echo\n", restored)
	}
	if a.err != nil && (a.line == "" || !errors.Is(a.err, io.EOF)) {
		return nil, fmt.Errorf("no passphrase: %w", a.err)
	}
	return []byte(strings.TrimRight(a.line, "\r\n")), nil
}
