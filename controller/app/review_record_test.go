package app_test

import (
	"strings"
	"testing"

	"github.com/jitops/jit/controller/internal/decisiontest"
)

// TestReviewApprovedButUnrecordable: one merge records one decision, with
// one Jit-Duration, and an expire record only for deletions alone. A pull
// request the App can approve but never record must not show a green
// jit/approval (branch protection would let a person merge it, and the
// requester waits for a merge that never comes): it must say what to split.
func TestReviewApprovedButUnrecordable(t *testing.T) {
	tests := map[string]struct {
		files map[string]string // on main before the pull request
		add   map[string]string
		del   []string
	}{
		"two grants asking for different durations": {add: map[string]string{
			"access/prod/orders/alice-1.yaml": aliceGrant,
			"access/prod/orders/alice-2.yaml": strings.Replace(aliceGrant, "2h", "3h", 1),
		}},
		"a grant added and another deleted": {
			files: map[string]string{"access/staging/alice-0.yaml": aliceGrant},
			add:   map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant},
			del:   []string{"access/staging/alice-0.yaml"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{files: tc.files})
			n := r.openPR("alice", "req", tc.add, tc.del...)
			r.settle()
			r.approve("bob", n)
			r.settle()
			if r.pr(n).Merged {
				t.Fatal("merged")
			}
			a := r.check(n, approvalCheck)
			if a.Status == "completed" && a.Conclusion == "success" {
				t.Errorf("jit/approval is green on a pull request the App never merges: %q\n%s", a.Title, a.Summary)
			}
		})
	}
}

// TestReviewSigningKeyNotTrusted: an operator who starts jit serve with a
// signing key that .github/jit-signers on the default branch does not hold
// (an old key after a rotation, the wrong file) must not get merges whose
// decisions the desired-state reader rejects: the grant would be merged,
// never applied, and flagged as forged. The App must not merge, and must say
// why.
func TestReviewSigningKeyNotTrusted(t *testing.T) {
	other := decisiontest.NewKey(t)
	r := newRig(t, rigOptions{files: map[string]string{".github/jit-signers": other.AllowedSigners()}})
	n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
	r.settle()
	r.approve("bob", n)
	r.settle()
	if r.pr(n).Merged {
		st := readDesired(t, r)
		t.Fatalf("merged with a decision .github/jit-signers does not trust: grants %+v anomalies %+v", st.Grants, st.Anomalies)
	}
	if a := r.check(n, approvalCheck); !says(a.Title+a.Summary+a.Text, "jit-signers") {
		t.Errorf("jit/approval does not say that the App's key is not in .github/jit-signers: %q\n%s", a.Title, a.Summary)
	}
}
