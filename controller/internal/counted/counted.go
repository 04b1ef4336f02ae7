// Package counted writes counted nouns ("1 grant", "2 grants") for jit's
// messages, so that no output says "1 actions". It is pure.
package counted

import "strconv"

// N returns n and the noun that agrees with it: one when n is 1 (or -1),
// many otherwise ("0 grants").
func N(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Noun(n, one, many)
}

// Noun returns the noun that agrees with n, without the number, for
// messages that place the number elsewhere ("1 of 2 approvals").
func Noun(n int, one, many string) string {
	if n == 1 || n == -1 {
		return one
	}
	return many
}
