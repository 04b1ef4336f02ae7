package trailer

import "testing"

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
