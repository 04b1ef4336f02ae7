package ghemu

import "testing"

// TestOwnsEmail: GitHub links a commit to an account by the account's own
// address and by both forms of its noreply address, case-insensitively,
// and by nothing else.
func TestOwnsEmail(t *testing.T) {
	alice := &account{id: 12, login: "alice", email: "alice@example.com"}
	noEmail := &account{id: 13, login: "bob"}
	for _, tc := range []struct {
		a     *account
		email string
		want  bool
	}{
		{alice, "alice@example.com", true},
		{alice, "Alice@Example.com", true},
		{alice, "12+alice@users.noreply.github.com", true},
		{alice, "alice@users.noreply.github.com", true},
		{alice, "13+alice@users.noreply.github.com", false},
		{alice, "bob@users.noreply.github.com", false},
		{alice, "alice@users.noreply.github.com.evil", false},
		{alice, "", false},
		{noEmail, "", false},
		{noEmail, "13+bob@users.noreply.github.com", true},
		{noEmail, "bob@users.noreply.github.com", true},
	} {
		if got := tc.a.ownsEmail(tc.email); got != tc.want {
			t.Errorf("%s.ownsEmail(%q) = %v, want %v", tc.a.login, tc.email, got, tc.want)
		}
	}
}
