package grantschema_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/grantschema"
)

var patternCases = []struct {
	name, re, want string // want "" means refused
}{
	{"identifier", `^[a-z_][a-z0-9_]{0,56}$`, `^[_a-z][0-9_a-z]{0,56}$`},
	{"dot is not a newline", `^a.b$`, `^a[^\x0a]b$`},
	{"escaped dot", `^v\d+\.\d+$`, `^v[0-9]+\x2e[0-9]+$`},
	{"perl space class", `\s`, `[\x09-\x0a\x0c-\x0d ]`},
	{"negated class", `^[^a-z]*$`, `^[^a-z]*$`},
	{"hyphen and dot in a class", `^[-.a]$`, `^[\x2d-\x2ea]$`},
	{"hyphen outside a class", `^a-b$`, `^a-b$`},
	{"alternation", `^(?:read|write)$`, `^(?:read|write)$`},
	{"captures become groups", `^(ab)+(c|d)?$`, `^(?:ab)+(?:[c-d])?$`},
	{"repeats", `^x{2,}y{3}z{1,2}$`, `^x{2,}y{3}z{1,2}$`},
	{"multi-character literal repeated", `^(?:ab){2}$`, `^(?:ab){2}$`},
	{"non-greedy is the same language", `^a+?b*?$`, `^a+b*$`},
	{"word boundary", `\bx\B`, `\bx\B`},
	{"brackets and braces escaped", `^\[\{\}\]\(\)\|\*\+\?\^\$\\$`, `^\x5b\x7b\x7d\x5d\x28\x29\x7c\x2a\x2b\x3f\x5e\x24\x5c$`},
	{"plain punctuation", `^a@b:c,d=e'f"g%h~i!j<k>l;m&n#o/p q_r$`, `^a@b:c,d=e'f"g%h~i!j<k>l;m&n#o/p q_r$`},
	{"latin-1 and beyond", `^é€[à-ÿ]$`, `^\xe9€[\xe0-\xff]$`},
	{"empty", ``, `(?:)`},
	{"case-insensitive refused", `(?i)^abc$`, ``},
	{"s flag refused", `(?s)^a.b$`, ``},
	{"multi-line refused", `(?m)^a$`, ``},
	{"beyond the BMP refused", `^\x{1F600}$`, ``},
	{"beyond the BMP in a class refused", `^[a-\x{1F600}]$`, ``},
	{"no match refused", `[^\x00-\x{10FFFF}]`, ``},
	{"not RE2 refused", `(?<=a)b`, ``},
}

var patternSamples = []string{"", "a", "ab", "abab", "abc", "ABC", "a\nb", "a-b", "a.b", "axb", "v1.2", "v1x2", "_x1", "Orders",
	"x", "xx", "xxyyyz", "xxyyyzz", "read", "write", "readwrite", "é€à", "é€ÿ", "é€a", " ", "\t", "\u00a0", "[{}]()|*+?^$\\", "-", ".", "😀",
	"a@b:c,d=e'f\"g%h~i!j<k>l;m&n#o/p q_r", "xy", "ab c"}

// TestPattern checks the translation of terraform regular expressions and
// that each translation matches what the original matches.
func TestPattern(t *testing.T) {
	for _, tt := range patternCases {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := grantschema.Pattern(tt.re)
			if tt.want == "" {
				if ok {
					t.Fatalf("Pattern(%q) = %q; want it refused", tt.re, got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Fatalf("Pattern(%q) = %q, %v; want %q", tt.re, got, ok, tt.want)
			}
			orig, tr := regexp.MustCompile(tt.re), regexp.MustCompile(got)
			for _, s := range patternSamples {
				if orig.MatchString(s) != tr.MatchString(s) {
					t.Errorf("on %q: %s says %v, %s says %v", s, tt.re, orig.MatchString(s), got, tr.MatchString(s))
				}
			}
		})
	}
}

// FuzzPattern: whatever regular expression terraform would accept, a
// translation, when there is one, compiles and matches exactly the strings
// the original matches.
func FuzzPattern(f *testing.F) {
	for _, tt := range patternCases {
		f.Add(tt.re, "abc")
	}
	f.Add(`^[a-z_][a-z0-9_]{0,56}$`, "orders")
	f.Add(`[^\n]+|x*`, "a\nb")
	f.Fuzz(func(t *testing.T, re, s string) {
		if _, err := syntax.Parse(re, syntax.Perl); err != nil {
			return
		}
		orig, err := regexp.Compile(re)
		if err != nil {
			return
		}
		got, ok := grantschema.Pattern(re)
		if !ok {
			return
		}
		tr, err := regexp.Compile(got)
		if err != nil {
			t.Fatalf("Pattern(%q) = %q, which does not compile: %v", re, got, err)
		}
		if orig.MatchString(s) != tr.MatchString(s) {
			t.Fatalf("on %q: %q says %v, its translation %q says %v", s, re, orig.MatchString(s), got, tr.MatchString(s))
		}
	})
}

// TestPatternECMA checks with node that JavaScript reads each translated
// pattern, with and without the u flag, as Go does: the same strings match.
// yaml-language-server is JavaScript. Without node the test skips, except
// under CI=true (scripts/install-tools.sh installs Debian's nodejs).
func TestPatternECMA(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but node is not installed (apt-get install nodejs): the ECMA-262 reading of the patterns must be checked")
		}
		t.Skip("node is not installed: the ECMA-262 reading of the patterns is not checked")
	}
	type check struct {
		Pattern string   `json:"pattern"`
		Samples []string `json:"samples"`
	}
	var checks []check
	var want [][]bool
	add := func(p string) {
		re := regexp.MustCompile(p)
		var w []bool
		for _, s := range patternSamples {
			w = append(w, re.MatchString(s))
		}
		checks = append(checks, check{p, patternSamples})
		want = append(want, w)
	}
	for _, tt := range patternCases {
		if tt.want != "" {
			add(tt.want)
		}
	}
	s := loadSchema(t)
	if len(schemaPatterns(s.(map[string]any)["allOf"])) == 0 {
		t.Fatal("no pattern in the templates' conditions: the scope's patterns would go unchecked")
	}
	for _, p := range schemaPatterns(s) {
		add(p)
	}
	in, _ := json.Marshal(checks)
	script := `const checks = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = checks.map(c => ['', 'u'].map(flags => c.samples.map(s => new RegExp(c.pattern, flags).test(s))));
process.stdout.write(JSON.stringify(out));`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got [][][]bool
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node's output %q: %v", out, err)
	}
	for i, c := range checks {
		for f, flags := range []string{"", "u"} {
			for j, s := range c.Samples {
				if got[i][f][j] != want[i][j] {
					t.Errorf("/%s/%s on %q: JavaScript says %v, Go says %v", c.Pattern, flags, s, got[i][f][j], want[i][j])
				}
			}
		}
	}
}

// schemaPatterns returns every pattern in schema s, in a stable order.
func schemaPatterns(s any) []string {
	var out []string
	switch v := s.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if p, ok := v[k].(string); ok && k == "pattern" {
				out = append(out, p)
				continue
			}
			out = append(out, schemaPatterns(v[k])...)
		}
	case []any:
		for _, it := range v {
			out = append(out, schemaPatterns(it)...)
		}
	}
	return out
}

// TestNotSpace checks the reason's and ticket's "something other than
// white space" class against unicode.IsSpace (what strings.TrimSpace
// removes) for every character.
func TestNotSpace(t *testing.T) {
	s := loadSchema(t)
	p := s.(map[string]any)["properties"].(map[string]any)["reason"].(map[string]any)["pattern"].(string)
	re := regexp.MustCompile("^" + p + "$")
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if re.MatchString(string(r)) == unicode.IsSpace(r) {
			t.Errorf("%U: the class says not-space %v, unicode.IsSpace says %v", r, re.MatchString(string(r)), unicode.IsSpace(r))
		}
	}
}

// durationVerdict is the schema's verdict on a duration string.
func durationVerdict(t *testing.T, s any, d string) bool {
	t.Helper()
	errs, err := evaluate(s.(map[string]any)["properties"].(map[string]any)["duration"], d, "duration")
	if err != nil {
		t.Fatal(err)
	}
	return len(errs) == 0
}

// agreeOnDuration fails unless the schema and grant.ParseDuration agree on
// d, except that the schema does not know the one-year limit.
func agreeOnDuration(t *testing.T, s any, d string) {
	t.Helper()
	_, err := grant.ParseDuration(d)
	schemaOK := durationVerdict(t, s, d)
	switch {
	case err == nil && !schemaOK:
		t.Errorf("the schema rejects duration %q, which grant.ParseDuration accepts", d)
	case err != nil && schemaOK && !strings.Contains(err.Error(), "longer than a year"):
		t.Errorf("the schema accepts duration %q, which grant.ParseDuration rejects: %v", d, err)
	}
}

var durationSeeds = []string{"2h", "90m", "1h30m", "0h1m", "8784h", "8785h", "9999h", "99999m", "0h", "0m", "00h000m", "", "h", "m", "hm",
	"1d", "1h 30m", " 1h", "1h\n", "01h", "1H", "1m1h", "10000h", "100000m", "1.5h", "-1h", "+1h", "1h0m", "０h"}

func TestDurationPattern(t *testing.T) {
	s := loadSchema(t)
	for _, d := range durationSeeds {
		agreeOnDuration(t, s, d)
	}
}

// FuzzDurationPattern: the duration pattern of the schema accepts exactly
// what grant.ParseDuration accepts, but for the one-year limit.
func FuzzDurationPattern(f *testing.F) {
	for _, d := range durationSeeds {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		agreeOnDuration(t, loadSchema(t), d)
	})
}
