package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/explain"
)

// pollEvery is how often the lifecycle benchmarks look for what they wait
// for.
const pollEvery = 10 * time.Millisecond

// findCredentials decrypts the credentials comment of grant id on pull
// request n with login's key, if it is there yet.
func (r *rig) findCredentials(n int, id, login string) (credential.Payload, bool) {
	for _, c := range r.comments(n) {
		if !strings.HasPrefix(c.Body, explain.CredentialsMarker+id+" ") {
			continue
		}
		plain, err := credential.Decrypt([]byte(armored.FindString(c.Body)), r.sshKeys[login])
		if err != nil {
			r.t.Fatalf("decrypting the credentials of %s with %s's key: %v", id, login, err)
		}
		p, err := credential.ParsePayload(plain)
		if err != nil {
			r.t.Fatal(err)
		}
		return p, true
	}
	return credential.Payload{}, false
}

// histogram returns the sample count and sum of the histogram name.
func histogram(r *rig, name string) (uint64, float64) {
	r.t.Helper()
	mfs, err := r.metrics.Registry().Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	var n uint64
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return n, sum
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reportSpread reports the median and the maximum of samples, in
// milliseconds, as prefix-median-ms and prefix-max-ms.
func reportSpread(b *testing.B, prefix string, samples []time.Duration) {
	s := slices.Clone(samples)
	slices.Sort(s)
	b.ReportMetric(ms(s[len(s)/2]), prefix+"median-ms")
	b.ReportMetric(ms(s[len(s)-1]), prefix+"max-ms")
}

// BenchmarkApprovalToLogin measures, per new grant, the time from the
// approving review to the first login with the credentials decrypted from
// the pull request (polled every 10 ms), through the emulator, the real
// terraform and PostgreSQL. Besides the median and maximum it reports the
// medians of where the time goes:
//
//   - merge: the approval until the emulator shows the pull request merged;
//   - to-pass: the merge until the pass that applies it starts (the push
//     webhook, the queue, the pass lock and the mirror's fetch);
//   - apply: that pass's start until the credentials comment is posted
//     (the desired state, terraform apply, the requester's keys, age);
//   - login: the comment until the first login works (decryption, psql);
//   - record: the login until the pass ends (the activation record).
//
// The phases come from polling (10 ms) and jit_pass_seconds; apply and
// record share the pass's own time, so they are approximate.
func BenchmarkApprovalToLogin(b *testing.B) {
	r := newRig(b, rigOptions{lifecycle: true})
	var total, merge, toPass, apply, login, record []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("prod/orders/alice-%d", i)
		n := r.openPR("alice", fmt.Sprintf("req-%d", i), map[string]string{"access/" + id + ".yaml": aliceGrant})
		r.settle()
		passes, passSum := histogram(r, "jit_pass_seconds")
		start := time.Now()
		r.approve("bob", n)
		var merged, commented, loggedIn, passDone time.Time
		var passDur time.Duration
		var cred credential.Payload
		for passDone.IsZero() || loggedIn.IsZero() {
			now := time.Now()
			if now.Sub(start) > 30*time.Second {
				b.Fatalf("grant %s: no login 30 s after the approval (merged %v, commented %v)", id, !merged.IsZero(), !commented.IsZero())
			}
			if merged.IsZero() && r.pr(n).Merged {
				merged = now
			}
			if commented.IsZero() {
				if c, ok := r.findCredentials(n, id, "alice"); ok {
					cred, commented = c, now
				}
			}
			if !commented.IsZero() && loggedIn.IsZero() && r.pg.TryLogin("orders", cred.Connection["role"], cred.Password) == nil {
				loggedIn = time.Now()
			}
			if !merged.IsZero() && passDone.IsZero() {
				if c, s := histogram(r, "jit_pass_seconds"); c > passes {
					passDone = now
					// Only the first pass after the merge counts.
					passDur = time.Duration((s - passSum) / float64(c-passes) * float64(time.Second))
				}
			}
			time.Sleep(pollEvery)
		}
		passStart := passDone.Add(-passDur)
		total = append(total, loggedIn.Sub(start))
		merge = append(merge, merged.Sub(start))
		toPass = append(toPass, passStart.Sub(merged))
		apply = append(apply, commented.Sub(passStart))
		login = append(login, loggedIn.Sub(commented))
		record = append(record, passDone.Sub(loggedIn))
		r.settle()
	}
	reportSpread(b, "", total)
	for _, p := range []struct {
		name    string
		samples []time.Duration
	}{{"merge", merge}, {"to-pass", toPass}, {"apply", apply}, {"login", login}, {"record", record}} {
		s := slices.Clone(p.samples)
		slices.Sort(s)
		b.ReportMetric(ms(s[len(s)/2]), p.name+"-median-ms")
	}
}

// BenchmarkExpiryToDestroyed measures, per live grant, the time from its
// expiry (the controller's clock moved past it and a pass asked for) until
// its role no longer logs in; then it lets the expiry pull request merge
// and moves the clock back so the next grant is live.
func BenchmarkExpiryToDestroyed(b *testing.B) {
	r := newRig(b, rigOptions{lifecycle: true})
	var samples []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("prod/orders/alice-%d", i)
		_, cred := r.liveGrant(id, aliceGrant)
		start := time.Now()
		r.advance(2*time.Hour + time.Minute)
		r.app.Reconcile()
		for r.pg.TryLogin("orders", cred.Connection["role"], cred.Password) == nil {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("grant %s still logs in 30 s after its expiry", id)
			}
			time.Sleep(pollEvery)
		}
		samples = append(samples, time.Since(start))
		r.waitFor("the expiry pull request to merge", func() bool { _, m := r.expiryPRs(id); return m > 0 })
		r.settle()
		r.skew.Store(0)
	}
	reportSpread(b, "", samples)
}

// BenchmarkLifecycleAPICalls counts the GitHub API requests (the emulator's
// log, git excluded, the requester's and approver's own calls excluded) of
// one whole lifecycle: the pull request opened, approved and merged, the
// grant applied and its credentials delivered, its expiry, the destroy, the
// expiry pull request auto-merged and the revoked record. It reports the
// median per lifecycle and logs the count per route of the last one, and
// its calls in order.
func BenchmarkLifecycleAPICalls(b *testing.B) {
	r := newRig(b, rigOptions{lifecycle: true})
	var calls []int
	var routes map[string]int
	var sequence []string
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("prod/orders/alice-%d", i)
		r.srv.ResetRequests()
		r.liveGrant(id, aliceGrant)
		r.advance(2*time.Hour + time.Minute)
		r.app.Reconcile()
		r.settle()
		r.waitFor("the expiry pull request to merge", func() bool { _, m := r.expiryPRs(id); return m > 0 })
		r.settle()
		if got, _ := r.events(); count(got, "revoked", id) != 1 {
			b.Fatalf("grant %s: records %q, want one revoked", id, got)
		}
		routes, sequence = map[string]int{}, nil
		total := 0
		for _, q := range r.srv.APIRequests() {
			if q.Login == "alice" || q.Login == "bob" {
				continue
			}
			routes[q.Route]++
			sequence = append(sequence, fmt.Sprintf("API-SEQ %3d %s %s (%d)", total+1, q.Method, q.Path, q.Status))
			total++
		}
		calls = append(calls, total)
		r.skew.Store(0)
	}
	slices.Sort(calls)
	b.ReportMetric(float64(calls[len(calls)/2]), "calls/lifecycle")
	var lines []string
	for route, n := range routes {
		lines = append(lines, fmt.Sprintf("API-CALLS %3d %s", n, route))
	}
	slices.Sort(lines)
	b.Logf("App calls of the last lifecycle, by route:\n%s\nin order:\n%s", strings.Join(lines, "\n"), strings.Join(sequence, "\n"))
}
