package cli

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestQuoteUnprintable: printable text is printed as it is; anything with
// a rune a terminal could act on (escape sequences, bell, tab, newline,
// C1 controls, bidi overrides, private-use runes, invalid UTF-8) is quoted
// whole, strconv.Quote style.
func TestQuoteUnprintable(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "orders", "orders"},
		{"spaces and punctuation", `a b "c" d\e`, `a b "c" d\e`},
		{"non-ascii letters", "bestellungen-ä-日本", "bestellungen-ä-日本"},
		{"empty", "", ""},
		{"clear screen", "x\x1b[2J", `"x\x1b[2J"`},
		{"title and bell", "\x1b]0;pwned\a", `"\x1b]0;pwned\a"`},
		{"tab forges a cell", "a\tb", `"a\tb"`},
		{"newline forges a row", "a\nprod/x  mallory", `"a\nprod/x  mallory"`},
		{"c1 csi", "a\u009b2J", `"a\u009b2J"`},
		{"right-to-left override", "abc\u202edef", `"abc\u202edef"`},
		{"private use", "a\ue000", `"a\ue000"`},
		{"invalid utf-8", "a\x9bb", `"a\x9bb"`},
		{"del", "a\x7f", `"a\x7f"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quoteUnprintable(tc.in); got != tc.want {
				t.Errorf("quoteUnprintable(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestScopeSummaryQuotes: every key and value of a scope summary is quoted
// on its own when it holds a non-printable rune, nested values included.
func TestScopeSummaryQuotes(t *testing.T) {
	got := scopeSummary(map[string]any{"database": "orders\x1b[31m", "k\ty": "v", "list": []any{"a", "b\nc"}, "n": int64(2)}, "-")
	want := `database="orders\x1b[31m", "k\ty"=v, list="[a b\nc]", n=2`
	if got != want {
		t.Errorf("scopeSummary = %s\nwant           %s", got, want)
	}
}

// TestJSONPrintable: what encoding/json leaves raw (DEL, C1 controls,
// format characters, private use) is escaped as \uXXXX, runes beyond the
// BMP as surrogate pairs, indentation newlines kept, and the result
// decodes to the same value.
func TestJSONPrintable(t *testing.T) {
	in := map[string]any{"v": "a\x7fb\u009bc\u202ed\ue000e\U000F0000f\x1bg ok ä"}
	raw, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := jsonPrintable(string(raw))
	want := "{\n  \"v\": \"a\\u007fb\\u009bc\\u202ed\\ue000e\\udb80\\udc00f\\u001bg ok ä\"\n}"
	if got != want {
		t.Errorf("jsonPrintable = %s\nwant            %s", got, want)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["v"] != in["v"] {
		t.Errorf("decodes to %q, %v; want %q", back["v"], err, in["v"])
	}
}

// FuzzJSONPrintable: for any string, the escaped JSON holds no
// non-printable rune but newlines, and decodes to what encoding/json's
// output decodes to.
func FuzzJSONPrintable(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\u009b\u202e\ue000", "\U000F0000", "a\x9bb", "\n\t\r", `"\u2028"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.MarshalIndent([]string{s}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got := jsonPrintable(string(raw))
		if i := strings.IndexFunc(got, func(r rune) bool { return r != '\n' && !strconv.IsPrint(r) }); i >= 0 {
			t.Fatalf("jsonPrintable left %q raw in %q", got[i:], got)
		}
		var want, back []string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(got), &back); err != nil || len(back) != 1 || back[0] != want[0] || !utf8.ValidString(got) {
			t.Fatalf("%q decodes to %q, %v; want %q", got, back, err, want)
		}
	})
}
