package explain

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// unmd undoes md: what a reader sees once GitHub has rendered the text.
func unmd(s string) string {
	s = strings.NewReplacer("@&#8203;", "@", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shown is what md promises to show of s: s with whitespace controls as
// spaces and other controls replaced.
func shown(s string) string {
	var b strings.Builder
	for _, r := range clip(s) {
		b.WriteRune(safeRune(r))
	}
	return b.String()
}

func TestMD(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain words":      {"Investigate stuck orders", "Investigate stuck orders"},
		"html":             {`<img src=x onerror=alert(1)>`, `&lt;img src\=x onerror\=alert\(1\)&gt;`},
		"entity":           {"&amp; &#64;", "&amp;amp; &amp;\\#64;"},
		"table row break":  {"a | b\nc", `a \| b c`},
		"mention":          {"ping @alice and @acme/dba", "ping @&#8203;alice and @&#8203;acme/dba"},
		"link and image":   {"[click](https://evil.test) ![x](y)", `\[click\]\(https\://evil\.test\) \!\[x\]\(y\)`},
		"bare autolink":    {"www.evil.test", `www\.evil\.test`},
		"code span":        {"`rm -rf`", "\\`rm \\-rf\\`"},
		"emphasis":         {"*bold* _it_ ~~s~~", `\*bold\* \_it\_ \~\~s\~\~`},
		"heading and list": {"# h\n1. x\n- y", `\# h 1\. x \- y`},
		"math":             {"$x$", `\$x\$`},
		"backslash":        {`a\|b`, `a\\\|b`},
		"control":          {"a\x00b\x1b[31mc", "a\uFFFDb\uFFFD\\[31mc"},
		"bidi override":    {"a\u202eb", "a\uFFFDb"},
		"invalid utf-8":    {"a\xffb", "a\uFFFDb"},
		"crlf":             {"a\r\nb", "a  b"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := md(tt.in); got != tt.want {
				t.Errorf("md(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMDClipsLongValues(t *testing.T) {
	got := md(strings.Repeat("a", 5000))
	if want := strings.Repeat("a", maxValue) + "…"; got != want {
		t.Errorf("md of 5000 runes has %d runes, want %d ending in an ellipsis", utf8.RuneCountInString(got), maxValue+1)
	}
}

func TestCode(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"login":          {"alice", "`alice`"},
		"team":           {"@acme/dba", "`@acme/dba`"},
		"html is inert":  {"<b>", "`<b>`"},
		"empty":          {"", ""},
		"backtick":       {"a`b", "a\\`b"},
		"pipe":           {"a|b", `a\|b`},
		"backslash pipe": {`a\|b`, `a\\\|b`},
		"newline":        {"a\nb", "a b"},
		"mention inside": {"x @bob", "`x @bob`"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := code(tt.in); got != tt.want {
				t.Errorf("code(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":              {"Investigate stuck orders", "Investigate stuck orders"},
		"markdown kept":      {"*a* | <b>", "*a* | <b>"},
		"colour":             {"\x1b[31mred\x1b[0m", "red"},
		"cursor movement":    {"ok\x1b[2K\x1b[1Afake", "okfake"},
		"title change (OSC)": {"a\x1b]0;pwned\x07b", "ab"},
		"OSC 8 hyperlink":    {"\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\", "click"},
		"C1 CSI":             {"a\u009b31mb", "ab"},
		"lone escape":        {"a\x1b", "a"},
		"two-byte escape":    {"a\x1bcb", "ab"},
		"interrupted CSI":    {"a\x1b[3\nb", "a b"},
		"newline and tab":    {"a\nb\tc", "a b c"},
		"bell":               {"a\x07b", "a\uFFFDb"},
		"bidi override":      {"a\u202eb", "a\uFFFDb"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := plain(tt.in); got != tt.want {
				t.Errorf("plain(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFit(t *testing.T) {
	tests := map[string]struct {
		in    string
		limit int
		want  string
	}{
		"fits":               {"a\nb\n", 10, "a\nb\n"},
		"cut at a line":      {"aaaa\nbbbb\ncccc\n", 12, "aaaa\n\nN"},
		"cut inside a rune":  {"ééééé", 8, "éé\n\nN"},
		"cut a long line":    {"abcdefghij", 7, "abcd\n\nN"},
		"exactly the limit":  {"abcde", 5, "abcde"},
		"one byte too many":  {"abcdef", 5, "ab\n\nN"},
		"line before cut ok": {"ab\ncdefgh", 8, "ab\n\nN"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := fit(tt.in, tt.limit, "N")
			if got != tt.want {
				t.Errorf("fit(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if len(got) > tt.limit || !utf8.ValidString(got) {
				t.Errorf("fit(%q, %d) = %q: longer than the limit or invalid UTF-8", tt.in, tt.limit, got)
			}
		})
	}
}

var (
	loginAfterAt  = regexp.MustCompile(`@[A-Za-z0-9_-]`)
	unescapedPipe = regexp.MustCompile(`(^|[^\\])(\\\\)*\|`)
)

// checkEscaped fails unless out, the Markdown of one value, is safe: no
// raw "<" or ">", no newline, no "|" without its backslash, no mention,
// no "&" but the entities md writes.
func checkEscaped(t *testing.T, in, out string) {
	t.Helper()
	if strings.ContainsAny(out, "<>\n\r") {
		t.Errorf("md(%q) = %q has a raw <, > or newline", in, out)
	}
	if unescapedPipe.MatchString(out) {
		t.Errorf("md(%q) = %q has an unescaped |", in, out)
	}
	if loginAfterAt.MatchString(out) {
		t.Errorf("md(%q) = %q has a mention", in, out)
	}
	rest := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "", "@&#8203;", "").Replace(out)
	if strings.Contains(rest, "&") {
		t.Errorf("md(%q) = %q has an & that is not an entity md wrote", in, out)
	}
	if !utf8.ValidString(out) {
		t.Errorf("md(%q) = %q is not UTF-8", in, out)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "alice", "<script>", "a|b", "@alice", "`x`", "[a](b)", "a\\|b", "\\", "&#64;", "\x1b[31m", "a\nb", "\xff", "ü@x", "@@", "@&#8203;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := md(s)
		checkEscaped(t, s, out)
		if again := md(s); again != out {
			t.Fatalf("md(%q) is not deterministic: %q then %q", s, out, again)
		}
		if got, want := unmd(out), shown(s); got != want {
			t.Errorf("md(%q) = %q renders as %q, want %q", s, out, got, want)
		}
		c := code(s)
		if strings.HasPrefix(c, "`") {
			inner := c[1 : len(c)-1]
			if !strings.HasSuffix(c, "`") || strings.ContainsAny(inner, "`|\\\n") || inner != shown(s) {
				t.Errorf("code(%q) = %q is not a safe code span of the value", s, c)
			}
		} else if c != out {
			t.Errorf("code(%q) = %q, want md's %q", s, c, out)
		}
	})
}

func FuzzPlain(f *testing.F) {
	for _, s := range []string{"", "ok", "\x1b[31mred", "\x1b]0;t\x07", "\x1b]8;;u\x1b\\", "\u009b1m", "a\u202eb", "\xff\x1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := plain(s)
		for _, r := range out {
			if r == 0x1b || r == 0x9b || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("plain(%q) = %q keeps control %U", s, out, r)
			}
		}
		if !utf8.ValidString(out) || plain(s) != out {
			t.Fatalf("plain(%q) = %q: invalid UTF-8 or not deterministic", s, out)
		}
	})
}
