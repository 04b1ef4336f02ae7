package request_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
)

// head is a valid grant's first four lines; the reason is on line 4 and its
// value starts at column 9.
const head = "template: postgres-role\nrequester: alice\nduration: 2h\n"

// TestParseLoneCarriageReturnExploits holds the two inputs of finding 6. A
// lone carriage return is a line break to YAML but not to the diff an
// approver reads. Each case first shows what YAML itself makes of the bytes
// (what Parse stored before it screened them), then that Parse refuses the
// file at the carriage return.
func TestParseLoneCarriageReturnExploits(t *testing.T) {
	tests := map[string]struct {
		src      string
		exploit  func(raw map[string]any) bool
		line     int
		col      int
		wantText string
	}{
		"break_glass hidden after the reason": {
			src: head + "reason: look\rbreak_glass: true\n",
			exploit: func(raw map[string]any) bool {
				return raw["break_glass"] == true && raw["reason"] == "look"
			},
			line: 4, col: 13,
		},
		"scope key hidden after a value": {
			src: head + "reason: r\nscope:\n  database: orders\r  privileges: write\n",
			exploit: func(raw map[string]any) bool {
				scope, _ := raw["scope"].(map[string]any)
				return scope["privileges"] == "write" && scope["database"] == "orders"
			},
			line: 6, col: 19,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var raw map[string]any
			if err := yaml.Unmarshal([]byte(tc.src), &raw); err != nil {
				t.Fatalf("yaml.v3 rejects the exploit itself (%v); the test no longer shows the attack", err)
			}
			if !tc.exploit(raw) {
				t.Fatalf("yaml.v3 reads %v; the exploit no longer hides a field, so the test shows nothing", raw)
			}
			got, problems := request.Parse(file, []byte(tc.src))
			if got.BreakGlass || got.Scope != nil || got.ID != "" {
				t.Errorf("the file was accepted: %+v", got)
			}
			want := []grant.Problem{{File: file, Line: tc.line, Column: tc.col,
				Message: "U+000D CARRIAGE RETURN not followed by a line feed is a line break to the YAML parser but not to most viewers, so what follows it can be a field approvers never see; end lines with a line feed (\\n or \\r\\n) only"}}
			if diff := cmp.Diff(want, problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseRejectsHiddenCharacters puts each rejected character in the reason
// (line 4, column 12: after "reason: abc") and checks the position and the
// message naming it.
func TestParseRejectsHiddenCharacters(t *testing.T) {
	const (
		lineBreak = "is a line break to the YAML parser but not to most viewers"
		bidi      = "is a bidirectional control character: it reorders how the text around it is displayed, so what an approver reads can differ from what is stored; delete it"
		invisible = "is an invisible character, so what an approver reads can differ from what is stored; delete it"
	)
	tests := map[string]struct {
		r    rune
		name string
		why  string
	}{
		"next line":                 {0x0085, "U+0085 NEXT LINE (NEL)", lineBreak},
		"line separator":            {0x2028, "U+2028 LINE SEPARATOR", lineBreak},
		"paragraph separator":       {0x2029, "U+2029 PARAGRAPH SEPARATOR", lineBreak},
		"LRE":                       {0x202A, "U+202A LEFT-TO-RIGHT EMBEDDING", bidi},
		"RLE":                       {0x202B, "U+202B RIGHT-TO-LEFT EMBEDDING", bidi},
		"PDF":                       {0x202C, "U+202C POP DIRECTIONAL FORMATTING", bidi},
		"LRO":                       {0x202D, "U+202D LEFT-TO-RIGHT OVERRIDE", bidi},
		"RLO":                       {0x202E, "U+202E RIGHT-TO-LEFT OVERRIDE", bidi},
		"LRI":                       {0x2066, "U+2066 LEFT-TO-RIGHT ISOLATE", bidi},
		"RLI":                       {0x2067, "U+2067 RIGHT-TO-LEFT ISOLATE", bidi},
		"FSI":                       {0x2068, "U+2068 FIRST STRONG ISOLATE", bidi},
		"PDI":                       {0x2069, "U+2069 POP DIRECTIONAL ISOLATE", bidi},
		"LRM":                       {0x200E, "U+200E LEFT-TO-RIGHT MARK", bidi},
		"RLM":                       {0x200F, "U+200F RIGHT-TO-LEFT MARK", bidi},
		"ALM":                       {0x061C, "U+061C ARABIC LETTER MARK", bidi},
		"zero width space":          {0x200B, "U+200B ZERO WIDTH SPACE", invisible},
		"zero width non-joiner":     {0x200C, "U+200C ZERO WIDTH NON-JOINER", invisible},
		"zero width joiner":         {0x200D, "U+200D ZERO WIDTH JOINER", invisible},
		"word joiner":               {0x2060, "U+2060 WORD JOINER", invisible},
		"BOM inside the text":       {0xFEFF, "U+FEFF ZERO WIDTH NO-BREAK SPACE (a byte order mark inside the text)", invisible},
		"mongolian vowel separator": {0x180E, "U+180E MONGOLIAN VOWEL SEPARATOR", invisible},
		"soft hyphen":               {0x00AD, "U+00AD SOFT HYPHEN", invisible},
		"invisible times":           {0x2062, "U+2062", invisible},
		"combining grapheme joiner": {0x034F, "U+034F COMBINING GRAPHEME JOINER", invisible},
		"variation selector 16":     {0xFE0F, "U+FE0F VARIATION SELECTOR-16", invisible},
		"variation selector 17":     {0xE0100, "U+E0100 VARIATION SELECTOR-17", invisible},
		"tag character":             {0xE0041, "U+E0041 (a tag character)", invisible},
		"hangul filler":             {0x3164, "U+3164 HANGUL FILLER", invisible},
		"escape control":            {0x1B, "control character U+001B is not allowed in a grant file; delete it", ""},
		"delete control":            {0x7F, "control character U+007F is not allowed in a grant file; delete it", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := head + "reason: abc" + string(tc.r) + "def\n"
			got, problems := request.Parse(file, []byte(src))
			if got.ID != "" {
				t.Fatalf("accepted: %+v", got)
			}
			msg := tc.name + " " + tc.why
			if tc.why == "" {
				msg = tc.name
			}
			if len(problems) != 1 || problems[0].Line != 4 || problems[0].Column != 12 || !strings.HasPrefix(problems[0].Message, msg) {
				t.Errorf("want one problem at 4:12 starting %q; got %v", msg, problems)
			}
		})
	}
}

// TestParseHiddenCharacterPositions checks that every offending character is
// reported where it is (a bidi attack comes in pairs), columns counting
// characters, not bytes, and not counting a leading byte order mark.
func TestParseHiddenCharacterPositions(t *testing.T) {
	src := "\uFEFF" + head + "reason: é\u202Eabc\u202C\nticket: I\u200BNC-1\n"
	_, problems := request.Parse(file, []byte(src))
	var got []string
	for _, p := range problems {
		got = append(got, fmt.Sprintf("%d:%d %s", p.Line, p.Column, strings.SplitN(p.Message, " is ", 2)[0]))
	}
	want := []string{
		"4:10 U+202E RIGHT-TO-LEFT OVERRIDE",
		"4:14 U+202C POP DIRECTIONAL FORMATTING",
		"5:10 U+200B ZERO WIDTH SPACE",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
}

func TestParseStopsAtTwentyHiddenCharacters(t *testing.T) {
	src := head + "reason: " + strings.Repeat("a\u200B", 50) + "\n"
	_, problems := request.Parse(file, []byte(src))
	if len(problems) != 20 {
		t.Errorf("got %d problems, want the first 20", len(problems))
	}
}

// TestParseLineEndings: CRLF endings are accepted anywhere, mixed with LF or
// not, and give the same request and positions as LF; a leading byte order
// mark is accepted too.
func TestParseLineEndings(t *testing.T) {
	want, problems := request.Parse(file, []byte(valid))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	crlf := strings.ReplaceAll(valid, "\n", "\r\n")
	mixed := strings.Replace(valid, "\n", "\r\n", 3)
	block := head + "reason: |\r\n  line one\r\n  line two\r\n"
	for name, src := range map[string]string{"crlf": crlf, "mixed": mixed, "bom and crlf": "\uFEFF" + crlf} {
		t.Run(name, func(t *testing.T) {
			got, problems := request.Parse(file, []byte(src))
			if len(problems) > 0 {
				t.Fatalf("rejected: %v", problems)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request (-LF +%s):\n%s", name, diff)
			}
		})
	}
	got, problems := request.Parse(file, []byte(block))
	if len(problems) > 0 || got.Reason != "line one\nline two\n" {
		t.Errorf("block scalar with CRLF: reason %q, problems %v; want plain line feeds", got.Reason, problems)
	}
	// A carriage return before the end of the file, not before a line feed,
	// is lone even in a CRLF file.
	_, problems = request.Parse(file, []byte(crlf+"#\r"))
	if len(problems) != 1 || problems[0].Line != 10 || problems[0].Column != 2 || !strings.Contains(problems[0].Message, "CARRIAGE RETURN not followed by a line feed") {
		t.Errorf("trailing lone CR: got %v, want one problem at 10:2", problems)
	}
}

// TestParseRejectsEscapedHiddenCharacters: a double-quoted escape produces the
// same characters from visible text; the approver reads "\u202E" but the
// sticky comment and the template receive the override itself.
func TestParseRejectsEscapedHiddenCharacters(t *testing.T) {
	tests := map[string]struct {
		src       string
		line, col int
		msg       string
	}{
		"carriage return in reason": {head + `reason: "look\rbreak_glass: true"` + "\n", 4, 9,
			"this string holds U+000D CARRIAGE RETURN through an escape sequence; it breaks the line in some viewers and not others"},
		"line separator": {head + `reason: "a\Lb"` + "\n", 4, 9, "U+2028 LINE SEPARATOR through an escape sequence"},
		"override in ticket": {head + "reason: r\n" + `ticket: "INC-\u202E4321"` + "\n", 5, 9,
			"this string holds U+202E RIGHT-TO-LEFT OVERRIDE through an escape sequence; it reorders how text is displayed"},
		"zero width in scope key": {head + "reason: r\nscope:\n  \"data\\u200Bbase\": x\n", 6, 3,
			"U+200B ZERO WIDTH SPACE through an escape sequence; it is invisible"},
		"NUL in scope value": {head + "reason: r\nscope:\n  database: \"a\\0b\"\n", 6, 13,
			"U+0000 NULL through an escape sequence; it is a control character, so what approvers see can differ from what is stored: remove the escape"},
		"nested list value": {head + "reason: r\nscope:\n  l: [ok, \"\\u2066x\"]\n", 6, 11, "U+2066 LEFT-TO-RIGHT ISOLATE"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, problems := request.Parse(file, []byte(tc.src))
			if got.ID != "" {
				t.Fatalf("accepted: %+v", got)
			}
			if len(problems) != 1 || problems[0].Line != tc.line || problems[0].Column != tc.col || !strings.Contains(problems[0].Message, tc.msg) {
				t.Errorf("want one problem at %d:%d containing %q; got %v", tc.line, tc.col, tc.msg, problems)
			}
		})
	}
	// Escapes of ordinary characters, tabs and line feeds stay allowed.
	got, problems := request.Parse(file, []byte(head+`reason: "caf\u00e9\tline\none"`+"\n"))
	if len(problems) > 0 || got.Reason != "café\tline\none" {
		t.Errorf("plain escapes: reason %q, problems %v", got.Reason, problems)
	}
}
