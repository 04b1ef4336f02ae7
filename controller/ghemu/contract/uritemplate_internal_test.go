package contract

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateURITemplate(t *testing.T) {
	tests := map[string]struct {
		in      string
		wantErr string // "" means valid
	}{
		"GitHub's path-segment form":  {in: "https://api.github.com/users/octocat/starred{/owner}{/repo}"},
		"query form":                  {in: "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}"},
		"reserved and fragment":       {in: "{+base}/x{#frag}"},
		"prefix and explode":          {in: "/a{/path:3}{?list*}"},
		"pct-encoded literal and var": {in: "/a%20b{v%41r}"},
		"dotted name":                 {in: "{a.b_c}"},
		"no expression at all":        {in: "https://api.github.com/repos/o/r"},
		"non-ASCII literal":           {in: "/café{/x}"},
		"unclosed":                    {in: "https://x{/owner", wantErr: `expression at byte 9 has no closing brace`},
		"stray closing brace":         {in: "https://x/owner}", wantErr: `character '}' at byte 15 is not allowed`},
		"nested":                      {in: "{a{b}}", wantErr: `expression "{a{b}" at byte 0: variable name "a{b" has '{' at byte 1`},
		"empty expression":            {in: "/x{}", wantErr: `expression "{}" at byte 2: no variable`},
		"operator only":               {in: "/x{/}", wantErr: `expression "{/}" at byte 2: no variable`},
		"space":                       {in: "/a b", wantErr: `character ' ' at byte 2 is not allowed`},
		"bad percent":                 {in: "/a%zz", wantErr: `% at byte 2 does not start a percent-encoded octet`},
		"prefix zero":                 {in: "{x:0}", wantErr: `modifier ":0" is neither`},
		"prefix too long":             {in: "{x:10000}", wantErr: `modifier ":10000" is neither`},
		"name ends with dot":          {in: "{x.}", wantErr: `variable name "x." ends with "."`},
		"name starts with dot":        {in: "{.x.}", wantErr: `variable name "x." ends with "."`},
		"double dot":                  {in: "{a..b}", wantErr: `variable name "a..b" has '.' at byte 2`},
		"empty varspec":               {in: "{a,,b}", wantErr: `empty variable name`},
		"invalid UTF-8":               {in: "/\xff", wantErr: `invalid UTF-8 at byte 1`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := validateURITemplate(tc.in)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("validateURITemplate(%q) = %v, want nil", tc.in, err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("validateURITemplate(%q) = nil, want an error containing %q", tc.in, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("validateURITemplate(%q) = %q, want it to contain %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

// rfc6570 is RFC 6570's ABNF (section 2) as one regular expression, an
// independent oracle for the hand-written checker.
var rfc6570 = func() *regexp.Regexp {
	pct := `%[0-9A-Fa-f]{2}`
	literal := `(?:[^\x00-\x20\x7f"'%<>\\^` + "`" + `{|}]|` + pct + `)`
	varchar := `(?:[A-Za-z0-9_]|` + pct + `)`
	varname := varchar + `+(?:\.` + varchar + `+)*`
	varspec := varname + `(?::[1-9][0-9]{0,3}|\*)?`
	expr := `\{[+#./;?&=,!@|]?` + varspec + `(?:,` + varspec + `)*\}`
	return regexp.MustCompile(`^(?:` + literal + `|` + expr + `)*$`)
}()

func FuzzURITemplate(f *testing.F) {
	for _, s := range []string{"https://api.github.com/users/o/gists{/gist_id}", "{?a,b*,c:3}", "{a{b}}", "%4", "{.a.b}", "x}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // Go's regexp reads invalid bytes as U+FFFD; the checker rejects them
		}
		got := validateURITemplate(s) == nil
		want := rfc6570.MatchString(s)
		if got != want {
			t.Errorf("validateURITemplate(%q) ok = %v, the RFC 6570 grammar says %v", s, got, want)
		}
	})
}
