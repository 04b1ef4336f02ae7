package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

// secret asks for a line without echoing it (stty -echo on the terminal),
// for a passphrase.
func (p *prompter) secret(label string) ([]byte, error) {
	fmt.Fprintf(p.out, "%s: ", label)
	stty := func(arg string) error {
		c := exec.Command("stty", arg)
		c.Stdin = os.Stdin
		return c.Run()
	}
	if err := stty("-echo"); err != nil {
		return nil, fmt.Errorf("turning off the terminal's echo to read the passphrase (stty -echo): %w", err)
	}
	line, err := p.in.ReadString('\n')
	_ = stty("echo")
	fmt.Fprintln(p.out)
	if err != nil && line == "" {
		return nil, fmt.Errorf("no passphrase: %w", err)
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}
