package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/trailer"
)

// Whatever a commit message says, Read neither fails nor panics, every
// anomaly names its commit, and nothing unsigned is ever trusted: a message
// planted by someone without the controller's key never approves a grant
// nor verifies a step.
func FuzzReadMessage(f *testing.F) {
	at := t0.Add(time.Hour)
	const id = "prod/alice-inc-1"
	d := decision(id, "alice", at, 2*time.Hour)
	d.Head = strings.Repeat("a", 40)
	ts, err := d.Trailers()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Merge pull request #7\n\n" + trailer.Format(ts) + "Jit-Signature: AAAA\n")
	f.Add("jit: activated\n\nJit-Event: activated\nJit-Grant: " + id + "\nJit-Expires-At: 2026-01-05T12:00:00Z\nJit-Parent: " + strings.Repeat("b", 40) + "\n")
	f.Add("note\n\nJit-Evnt: activated\n")
	f.Add("")
	f.Add("x\n\nJit-Event: expire\nJit-Grant: ../../etc\nJit-Reason: expired\n")
	f.Fuzz(func(t *testing.T, msg string) {
		fx := newFixture(t)
		// The grant file arrives in a merge with msg as its message, and a
		// commit with msg follows it.
		head := fx.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
		fx.g.Commit("main", "mallory", msg, at, nil, fx.g.Head("main"), head)
		fx.g.Commit("main", "jit[bot]", msg, at.Add(time.Minute), nil)
		tr := fx.read(audit.Options{})
		for _, a := range tr.Anomalies {
			if len(a.Commit) != 40 || a.Message == "" || a.Kind == "" {
				t.Errorf("anomaly without its commit, kind or message: %+v", a)
			}
		}
		for _, s := range tr.Stories {
			if s.Approved {
				t.Errorf("grant %s approved by a message signed by nobody", s.ID)
			}
			for _, st := range s.Steps {
				if st.Verified {
					t.Errorf("grant %s: step %+v verified from an unsigned message", s.ID, st)
				}
			}
		}
	})
}
