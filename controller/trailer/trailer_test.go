package trailer_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/trailer"
)

const (
	sha1 = "0123456789abcdef0123456789abcdef01234567"
	sha2 = "89abcdef0123456789abcdef0123456789abcdef"
)

func tr(kv ...string) []trailer.Trailer {
	var ts []trailer.Trailer
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, trailer.Trailer{Key: kv[i], Value: kv[i+1]})
	}
	return ts
}

// parseCases are messages Parse accepts; git must read the same trailers.
var parseCases = []struct {
	name, msg string
	want      []trailer.Trailer
}{
	{"no trailers", "Merge pull request #1\n\nJust prose.\n", nil},
	{"subject only", "Merge pull request #1\n", nil},
	{"empty message", "", nil},
	{"foreign trailers only", "Fix\n\nSigned-off-by: A <a@example.com>\n", nil},
	{"decision block", "Merge pull request #12 from alice/db\n\nAccess for alice\n\nJit-Grant: prod/db/alice\nJit-Requested-By: alice\nJit-Signature: AAAA\n",
		tr("Jit-Grant", "prod/db/alice", "Jit-Requested-By", "alice", "Jit-Signature", "AAAA")},
	{"no final newline", "Merge\n\nJit-Grant: a", tr("Jit-Grant", "a")},
	{"trailing blank lines", "Merge\n\nJit-Grant: a\n\n\n", tr("Jit-Grant", "a")},
	{"trailing whitespace-only lines", "Merge\n\nJit-Grant: a\n \t\n", tr("Jit-Grant", "a")},
	{"CRLF paragraphs before the block", "Merge\r\n\r\nbody\r\n\nJit-Grant: a\n", tr("Jit-Grant", "a")},
	{"blank line of CR separates paragraphs", "Merge\n\r\nJit-Grant: a\n", tr("Jit-Grant", "a")},
	{"block after leading blank lines", "\n\nJit-Grant: a\n", tr("Jit-Grant", "a")},
	{"jit lines in an earlier paragraph are not trailers", "Merge\n\nJit-Grant: evil\n\nJust prose.\n", nil},
	{"only the last paragraph counts", "Merge\n\nJit-Grant: old\n\nJit-Grant: new\n", tr("Jit-Grant", "new")},
	{"colon inside value", "Merge\n\nJit-Error: apply: exit status 1\n", tr("Jit-Error", "apply: exit status 1")},
	{"non-ASCII value", "Merge\n\nJit-Error: rôle « x » absent\n", tr("Jit-Error", "rôle « x » absent")},
	{"jit word inside a non-jit line", "Merge\n\nSee-Also: Jit-Grant: a\n", nil},
	{"patch divider does not end the message (as git log reads it)", "Merge\n\n---\n\nJit-Grant: a\n", tr("Jit-Grant", "a")},
	{"pull request title starting with jit-", "Merge pull request #5 from acme/rotate\n\njit-signers: rotate the controller key\n", nil},
	{"carriage return hides a jit line from git", "Merge\n\nFoo: bar\rJit-Grant: a\n", nil},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trailer.Parse(tc.msg)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseAgreesWithGit checks, with the real git, that the final-paragraph
// rule finds the trailers git finds: for every accepted message, the Jit
// lines git interpret-trailers reports are exactly Parse's. --no-divider
// reads a message as git log's %(trailers) does, where a "---" line is text.
func TestParseAgreesWithGit(t *testing.T) {
	git := requireTool(t, "git")
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(git, "interpret-trailers", "--parse", "--no-divider")
			cmd.Stdin = strings.NewReader(tc.msg)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("git interpret-trailers: %v", err)
			}
			var gitJit []trailer.Trailer
			for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
				if k, v, ok := strings.Cut(line, ": "); ok && strings.HasPrefix(k, "Jit-") {
					gitJit = append(gitJit, trailer.Trailer{Key: k, Value: v})
				}
			}
			got, _ := trailer.Parse(tc.msg)
			if diff := cmp.Diff(gitJit, got); diff != "" {
				t.Errorf("git and Parse disagree (-git +Parse):\n%s", diff)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, msg  string
		line, col  int
		wantSubstr string
	}{
		{"block is the subject", "Jit-Grant: a\nJit-Signature: x\n", 1, 0, "first paragraph, which git reads as the subject"},
		{"no separator", "m\n\nJit-Grant a\n", 3, 1, `has no ": " after its key`},
		{"no space after colon", "m\n\nJit-Grant:a\n", 3, 11, "needs one space after the colon"},
		{"empty value", "m\n\nJit-Grant: \n", 3, 12, "Jit-Grant: empty value"},
		{"leading space in value", "m\n\nJit-Grant:  a\n", 3, 12, "value starts with white space"},
		{"trailing space in value", "m\n\nJit-Grant: a \n", 3, 13, "value ends with white space"},
		{"tab in value", "m\n\nJit-Grant: a\tb\n", 3, 13, "control or formatting character U+0009"},
		{"bidi override in value", "m\n\nJit-Grant: a\u202eb\n", 3, 13, "U+202E"},
		{"line separator in value", "m\n\nJit-Grant: a\u2028b\n", 3, 13, "U+2028"},
		{"invalid UTF-8", "m\n\nJit-Grant: é\xffb\n", 3, 13, "not valid UTF-8"},
		{"CRLF in the block", "m\r\n\r\nJit-Grant: a\r\nJit-Head: b\r\n", 3, 13, "carriage return in the Jit trailer block"},
		{"lone CR in the block", "m\n\nJit-Grant: a\rJit-Grant: b\n", 3, 13, "carriage return"},
		{"unknown key", "m\n\nJit-Granted: a\n", 3, 1, `unknown trailer key "Jit-Granted"`},
		{"wrong case", "m\n\nJIT-GRANT: a\n", 3, 1, `trailer key "JIT-GRANT" is spelled Jit-Grant`},
		{"lower-case block only", "m\n\njit-grant: a\n", 3, 1, "is spelled Jit-Grant"},
		{"wrong case after a foreign trailer", "m\n\nFoo: x\njit-head : a\n", 3, 1, `"Foo: x" is not a Jit trailer`},
		{"Jit- prose", "m\n\nJit-signers need rotating\n", 3, 1, `has no ": " after its key`},
		{"space before colon", "m\n\nJit-Grant : a\n", 3, 1, `unknown trailer key "Jit-Grant "`},
		{"foreign trailer after jit", "m\n\nJit-Grant: a\nSigned-off-by: b\n", 4, 1, `"Signed-off-by: b" is not a Jit trailer`},
		{"foreign trailer before jit", "m\n\nSigned-off-by: b\nJit-Grant: a\n", 3, 1, "is not a Jit trailer"},
		{"prose in the block", "m\n\nJit-Grant: a\nsome words\n", 4, 1, "is not a Jit trailer"},
		{"continuation line", "m\n\nJit-Grant: a\n  b\n", 4, 1, "indented line"},
		{"indented jit line", "m\n\nJit-Grant: a\n\tJit-Grant: b\n", 4, 1, "indented line"},
		{"foreign trailer with indented jit line", "m\n\nFoo: x\n Jit-Grant: a\n", 3, 1, `"Foo: x" is not a Jit trailer`},
		{"line after signature", "m\n\nJit-Grant: a\nJit-Signature: s\nJit-Head: " + sha1 + "\n", 5, 1, "Jit-Head after Jit-Signature"},
		{"two signatures", "m\n\nJit-Grant: a\nJit-Signature: s\nJit-Signature: t\n", 5, 1, "a second Jit-Signature"},
		{"value too long", "m\n\nJit-Error: " + strings.Repeat("x", trailer.MaxValueLen+1) + "\n", 3, 12 + trailer.MaxValueLen, "at most 4096"},
		{"column counts characters", "m\n\nJit-Error: ééé \n", 3, 15, "ends with white space"},
		{"line counts all lines", "a\nb\n\nc\n\nJit-Grant: a\nJit-Grant:\n", 7, 11, "needs one space"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := trailer.Parse(tc.msg)
			if err == nil {
				t.Fatalf("Parse accepted %q: %v", tc.msg, ts)
			}
			var se *trailer.SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, trailer.ErrMalformed) {
				t.Fatalf("error %v (%T) is not a *SyntaxError matching ErrMalformed", err, err)
			}
			if se.File != "commit message" || se.Line != tc.line || se.Column != tc.col {
				t.Errorf("at %s:%d:%d, want commit message:%d:%d", se.File, se.Line, se.Column, tc.line, tc.col)
			}
			if !strings.Contains(se.Msg, tc.wantSubstr) {
				t.Errorf("message %q does not contain %q", se.Msg, tc.wantSubstr)
			}
			if ts != nil {
				t.Errorf("trailers returned with the error: %v", ts)
			}
		})
	}
}

func TestSyntaxErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  trailer.SyntaxError
		want string
	}{
		{trailer.SyntaxError{File: "commit message", Line: 3, Column: 12, Msg: "x"}, "commit message:3:12: x"},
		{trailer.SyntaxError{File: ".github/jit-signers", Line: 2, Msg: "y"}, ".github/jit-signers:2: y"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	ts := tr("Jit-Grant", "prod/db/alice", "Jit-Approved-By", "bob", "Jit-Error", "apply: exit 1", "Jit-Signature", "QUJD")
	want := "Jit-Grant: prod/db/alice\nJit-Approved-By: bob\nJit-Error: apply: exit 1\nJit-Signature: QUJD\n"
	if got := trailer.Format(ts); got != want {
		t.Fatalf("Format = %q, want %q", got, want)
	}
	for _, prefix := range []string{"", "Merge", "Merge\n\nbody\n", "Merge\r\n", "Merge\n\nJit-Grant: other\n"} {
		got, err := trailer.Parse(prefix + "\n\n" + trailer.Format(ts))
		if err != nil {
			t.Fatalf("Parse(%q + Format): %v", prefix, err)
		}
		if diff := cmp.Diff(ts, got); diff != "" {
			t.Errorf("round trip after %q (-want +got):\n%s", prefix, diff)
		}
	}
	if got := trailer.Format(nil); got != "" {
		t.Errorf("Format(nil) = %q, want empty", got)
	}
}

func TestPayload(t *testing.T) {
	for _, tc := range []struct {
		name string
		ts   []trailer.Trailer
		want string
	}{
		{"signed", tr("Jit-Grant", "a", "Jit-Head", sha1, "Jit-Signature", "QUJD"), "Jit-Grant: a\nJit-Head: " + sha1 + "\n"},
		{"unsigned", tr("Jit-Grant", "a", "Jit-Grant", "b"), "Jit-Grant: a\nJit-Grant: b\n"},
		{"stops at the first signature", tr("Jit-Grant", "a", "Jit-Signature", "x", "Jit-Grant", "b"), "Jit-Grant: a\n"},
		{"only a signature", tr("Jit-Signature", "x"), ""},
		{"nothing", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(trailer.Payload(tc.ts)); got != tc.want {
				t.Errorf("Payload = %q, want %q", got, tc.want)
			}
		})
	}
}

// requireTool returns the path of a real tool, skipping without it (or
// under -short), except under CI=true, where a missing tool fails the test.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping: -short skips tests that run %s", name)
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true: %v", name, err)
		}
		t.Skipf("skipping: %v", err)
	}
	return path
}
