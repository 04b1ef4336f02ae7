package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/pass"
)

// TestSkipNotes checks what apply and reconcile say about the grants they
// left alone, the regression test for a first `jit apply` on expired
// example grants that printed nothing.
func TestSkipNotes(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	g := func(id string, expires time.Time) desired.Grant {
		return desired.Grant{Request: grant.Request{ID: id}, ExpiresAt: expires}
	}
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	rev := strings.Repeat("ab", 20)
	var many []desired.Grant
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		many = append(many, g(id, past))
	}
	tests := map[string]struct {
		grants     []desired.Grant
		acted      map[string]bool
		note, noop string
	}{
		"no grants": {noop: "nothing to do: no verified grant at abababababab (grant files merged without a verified decision are never applied)"},
		"one expired": {grants: []desired.Grant{g("prod/orders/alice-inc-1234", past)},
			note: "1 grant has expired (prod/orders/alice-inc-1234 at 2026-05-01T11:00:00Z) and was not applied; request access again with a new grant file",
			noop: "nothing to do: none of the 1 verified grant at abababababab is unexpired"},
		"two expired, one live": {grants: []desired.Grant{g("prod/a", past), g("staging/b", past), g("prod/c", future)},
			note: "2 grants have expired (prod/a at 2026-05-01T11:00:00Z, staging/b at 2026-05-01T11:00:00Z) and were not applied; request access again with a new grant file",
			noop: "nothing to do: the 1 unexpired grant at abababababab is applied already"},
		"expired but destroyed by this pass": {grants: []desired.Grant{g("prod/a", past), g("prod/c", future), g("prod/d", future)}, acted: map[string]bool{"prod/a": true},
			noop: "nothing to do: the 2 unexpired grants at abababababab are applied already"},
		"many expired": {grants: many,
			note: "7 grants have expired (a at 2026-05-01T11:00:00Z, b at 2026-05-01T11:00:00Z, c at 2026-05-01T11:00:00Z, d at 2026-05-01T11:00:00Z, e at 2026-05-01T11:00:00Z, …) and were not applied; request access again with a new grant file",
			noop: "nothing to do: none of the 7 verified grants at abababababab is unexpired"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rep := pass.Report{Rev: rev, Grants: tc.grants}
			if got := expiredNote(rep, now, tc.acted); got != tc.note {
				t.Errorf("expiredNote:\n got %q\nwant %q", got, tc.note)
			}
			if got := nothingToDo(rep, now); got != tc.noop {
				t.Errorf("nothingToDo:\n got %q\nwant %q", got, tc.noop)
			}
		})
	}
}
