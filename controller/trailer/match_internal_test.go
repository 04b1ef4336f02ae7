package trailer

import (
	"regexp"
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		s, p string
		want bool
	}{
		{"jit", "jit", true},
		{"jit", "Jit", false},
		{"jit", "ji", false},
		{"jit", "jitx", false},
		{"jit", "*", true},
		{"jit", "j*", true},
		{"jit", "*t", true},
		{"jit", "j?t", true},
		{"jit", "j??t", false},
		{"jit", "*i*", true},
		{"jit", "**", true},
		{"jit", "*x*", false},
		{"", "*", true},
		{"", "", true},
		{"", "?", false},
		{"aaab", "*a*b", true},
		{"aaa", "*a*b", false},
	} {
		if got := matchPattern(tc.s, tc.p); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}

func TestMatchList(t *testing.T) {
	for _, tc := range []struct {
		list []string
		want bool
	}{
		{[]string{"jit"}, true},
		{[]string{"git", "jit"}, true},
		{[]string{"git"}, false},
		{[]string{"*", "!jit"}, false},
		{[]string{"!jit", "*"}, false},
		{[]string{"!git"}, false},
		{[]string{"!git", "j*"}, true},
		{[]string{""}, false},
		{nil, false},
	} {
		if got := matchList("jit", tc.list); got != tc.want {
			t.Errorf("matchList(jit, %q) = %v, want %v", tc.list, got, tc.want)
		}
	}
}

// FuzzCheckValueFast holds checkValue's shortcut for printable ASCII to the
// rule for every character: the same offset and message for any value.
func FuzzCheckValueFast(f *testing.F) {
	for _, s := range []string{"x", " x", "x ", " ", "alice", "a\tb", "a\x7fb", "é ", "a\u00a0", "\u2028", "\xff", "2026-01-05T08:00:00Z", "sshsig+/="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" || len(v) > MaxValueLen {
			return
		}
		off, msg := checkValue(v)
		wantOff, wantMsg := checkRunes(v)
		if off != wantOff || msg != wantMsg {
			t.Errorf("checkValue(%q) = %d, %q; the rule for every character says %d, %q", v, off, msg, wantOff, wantMsg)
		}
	})
}

// FuzzNamePatterns holds the hand-written login, policy name and SHA checks
// to the regular expressions they replace.
func FuzzNamePatterns(f *testing.F) {
	login := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$`)
	policy := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	sha := regexp.MustCompile(`^[0-9a-f]{40}$`)
	for _, s := range []string{"alice", "Alice_B-1", "-x", "_x", "a", "", strings.Repeat("a", 39), strings.Repeat("a", 40), "prod", "Prod", strings.Repeat("p", 64), strings.Repeat("p", 65),
		"0123456789abcdef0123456789abcdef01234567", "0123456789ABCDEF0123456789abcdef01234567", "alice\n", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := isName(v, 39, true), login.MatchString(v); got != want {
			t.Errorf("login %q: %t, the pattern says %t", v, got, want)
		}
		if got, want := isName(v, 64, false), policy.MatchString(v); got != want {
			t.Errorf("policy %q: %t, the pattern says %t", v, got, want)
		}
		if got, want := isSHA(v), sha.MatchString(v); got != want {
			t.Errorf("sha %q: %t, the pattern says %t", v, got, want)
		}
	})
}

// FuzzPayload: the signed payload is Format's text of the trailers before
// the first signature, byte for byte.
func FuzzPayload(f *testing.F) {
	f.Add("Jit-Event", "revoked", "Jit-Signature", "AAAA")
	f.Add("Jit-Grant", "prod/a", "Jit-Parent", "é")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ts := []Trailer{{k1, v1}, {k2, v2}, {KeySignature, "x"}, {"Jit-After", "y"}}
		want := Format(ts[:2])
		switch {
		case k1 == KeySignature:
			want = ""
		case k2 == KeySignature:
			want = Format(ts[:1])
		}
		if got := string(Payload(ts)); got != want {
			t.Errorf("Payload = %q, want %q", got, want)
		}
		if got, want := Format(ts[:2]), k1+": "+v1+"\n"+k2+": "+v2+"\n"; got != want {
			t.Errorf("Format = %q, want %q", got, want)
		}
	})
}
